"""Benchmark results files: the header says how, when and where; the body is what was printed."""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
from datetime import UTC, datetime, timedelta, timezone
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# benchmarks/ is a folder of scripts, not an installed package: load the helper by its path
_spec = importlib.util.spec_from_file_location(
    "benchmark_record", ROOT / "benchmarks" / "record.py"
)
record = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(record)

BODY = "| variant | macro-F1 |\n|---|---|\n| router | 0.5 |\n"


def test_results_file_starts_with_command_then_date_code_machine_and_versions(tmp_path):
    # 09:30 at UTC+7 (Jakarta) is 02:30 UTC
    now = datetime(2025, 3, 4, 9, 30, tzinfo=timezone(timedelta(hours=7)))
    argv = ["--folds", "3", "--variants", "router -html"]

    path = record.write_results("accuracy", argv, BODY, tmp_path, now=now, seconds=61.4)

    assert path == tmp_path / "accuracy.md"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == (
        "- Command: `python benchmarks/accuracy.py --folds 3 --variants 'router -html'`"
    )
    assert lines[1] == "- Date: 2025-03-04 02:30 UTC, run took 61 s"
    assert lines[2].startswith("- Code: commit ")
    assert lines[3].startswith("- Machine: " + record.cpu_model())
    assert f"{os.cpu_count()} cores" in lines[3]
    assert "GiB memory" in lines[3]
    assert lines[4].startswith(f"- Versions: Python {platform.python_version()}")
    assert f"numpy {metadata.version('numpy')}" in lines[4]
    assert f"scikit-learn {metadata.version('scikit-learn')}" in lines[4]
    assert lines[5:8] == ["", "---", ""]
    assert "\n".join(lines[8:]) + "\n" == BODY


def test_cpu_model_is_the_model_name_of_proc_cpuinfo():
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        pytest.skip("no /proc/cpuinfo on this system")
    names = [line for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
    if not names:
        pytest.skip("/proc/cpuinfo names no model on this CPU")
    assert record.cpu_model() == names[0].split(":", 1)[1].strip()


def test_command_defaults_to_this_process_arguments(monkeypatch):
    monkeypatch.setattr("sys.argv", ["benchmarks/latency.py", "--model", "models/my model"])
    assert record.command("latency") == "python benchmarks/latency.py --model 'models/my model'"


def test_a_variant_run_keeps_its_own_file_and_names_the_script_it_ran(tmp_path):
    record.write_results("audit", [], "main tables\n", tmp_path)
    path = record.write_results("audit", ["--wide"], "wide tables\n", tmp_path, variant="wide")

    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit-wide.md", "audit.md"]
    assert path.name == "audit-wide.md"
    assert "`python benchmarks/audit.py --wide`" in path.read_text(encoding="utf-8")
    assert (tmp_path / "audit.md").read_text(encoding="utf-8").endswith("main tables\n")


def test_results_file_is_replaced_whole_and_no_temporary_file_is_left(tmp_path):
    record.write_results("audit", [], "old tables\n", tmp_path)
    record.write_results("audit", ["--repeats", "1"], "new tables\n", tmp_path)

    assert [p.name for p in tmp_path.iterdir()] == ["audit.md"]
    text = (tmp_path / "audit.md").read_text(encoding="utf-8")
    assert "--repeats 1" in text
    assert text.endswith("\n\nnew tables\n")
    assert "old tables" not in text


def test_recorded_prints_as_usual_and_writes_what_was_printed(tmp_path, capsys):
    with record.recorded("semantic", ["--parts", "a"], tmp_path / "results"):
        print("### (a) Similar complaints")
        print("| similarity | precision@3 |")

    assert capsys.readouterr().out == "### (a) Similar complaints\n| similarity | precision@3 |\n"
    text = (tmp_path / "results" / "semantic.md").read_text(encoding="utf-8")
    assert text.startswith("- Command: `python benchmarks/semantic.py --parts a`\n")
    assert text.endswith("---\n\n### (a) Similar complaints\n| similarity | precision@3 |\n")


def test_recorded_writes_nothing_without_a_directory_or_when_the_run_fails(tmp_path, capsys):
    with record.recorded("latency", [], None):
        print("tables")
    assert capsys.readouterr().out == "tables\n"
    assert list(tmp_path.iterdir()) == []

    record.write_results("latency", [], "the last complete run\n", tmp_path)
    with pytest.raises(SystemExit), record.recorded("latency", [], tmp_path):
        print("half a table")
        raise SystemExit("server not ready")
    text = (tmp_path / "latency.md").read_text(encoding="utf-8")
    assert text.endswith("the last complete run\n")


def test_results_options_default_to_benchmarks_results():
    parser = argparse.ArgumentParser()
    record.add_results_arguments(parser)

    assert parser.parse_args([]).results == ROOT / "benchmarks" / "results"
    assert parser.parse_args(["--results", "/tmp/r"]).results == Path("/tmp/r")
    assert parser.parse_args(["--no-results"]).results is None
    with pytest.raises(SystemExit):
        parser.parse_args(["--results", "/tmp/r", "--no-results"])


def test_header_date_is_utc_now_by_default():
    before = datetime.now(UTC).replace(second=0, microsecond=0)
    line = record.header("accuracy", []).splitlines()[1]
    stamp = datetime.strptime(line, "- Date: %Y-%m-%d %H:%M UTC").replace(tzinfo=UTC)
    assert before <= stamp <= datetime.now(UTC)
