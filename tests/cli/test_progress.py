"""Feedback on long work: training's steps with counts, plain lines off a terminal, --quiet."""

from __future__ import annotations

import csv
import logging
import re
from pathlib import Path

import pytest
from rich.console import Console
from rich.progress import Progress

from routing.cli.progress import _BarHandler
from routing.settings import MAX_TEXT_CHARS
from tests.cli.helpers import run_main
from tests.conftest import write_csv

FILE_AND_LINE = re.compile(r"\w+\.py:\d+")


@pytest.fixture
def data_with_warnings(tmp_path, small_corpus) -> Path:
    """The small corpus with a text longer than the service accepts and a duplicate row."""
    path = write_csv(tmp_path / "data.csv", small_corpus)
    with path.open("a", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        long_text = ("listrik padam lagi " * (MAX_TEXT_CHARS // 10))[: MAX_TEXT_CHARS + 1]
        writer.writerow(["LONG", long_text, small_corpus.labels[0]])
        writer.writerow(["DUP", small_corpus.texts[1], small_corpus.labels[1]])
    return path


def _train(monkeypatch, capsys, data: Path, out: Path, *extra) -> tuple[int, str, str]:
    return run_main(
        monkeypatch,
        capsys,
        *("train", data, "--text-col", "text", "--label-col", "agency", "--out", out),
        *extra,
    )


def test_train_logs_its_steps_with_counts_as_plain_lines_off_a_terminal(
    monkeypatch, capsys, tmp_path, data_with_warnings
):
    code, _, err = _train(monkeypatch, capsys, data_with_warnings, tmp_path / "model")
    assert code in (0, None), err
    lines = err.splitlines()
    folds = [line for line in lines if re.search(r"fold \d of \d fitted", line)]
    assert len(folds) >= 2 and "fold 1 of" in folds[0]
    assert any("calibration" in line for line in lines)
    assert any("final fit on all" in line for line in lines)
    steps = [line for line in lines if "fold" in line or "fit" in line]
    assert all(re.match(r"\d\d:\d\d:\d\d ", line) for line in steps)  # time-stamped lines
    assert not FILE_AND_LINE.search(err)  # no source file and line beside a message
    assert f"longer than the {MAX_TEXT_CHARS:,} characters the service accepts" in err


def test_quiet_train_prints_nothing_but_errors(monkeypatch, capsys, tmp_path, data_with_warnings):
    code, out, err = _train(monkeypatch, capsys, data_with_warnings, tmp_path / "model", "-q")
    assert code in (0, None)
    assert (out, err) == ("", "")
    assert (tmp_path / "model" / "manifest.json").is_file()


def test_on_a_terminal_counted_steps_move_a_progress_bar():
    console = Console(force_terminal=True, width=100, record=True)
    with Progress(console=console, transient=True) as progress:
        handler = _BarHandler(progress)
        log = logging.getLogger("tests.progress")
        record = log.makeRecord(log.name, logging.INFO, __file__, 1, "start", (), None)
        handler.emit(record)  # an uncounted message is printed above the bar
        for done, message in ((0, "out-of-fold fits"), (3, "fold 3 of 5 fitted")):
            record = log.makeRecord(
                log.name, logging.INFO, __file__, 1, message, (), None, extra={"done": done}
            )
            record.total = 7
            handler.emit(record)
        [task] = progress.tasks
        assert (task.completed, task.total, task.description) == (3, 7, "fold 3 of 5 fitted")
    assert "start" in console.export_text()
