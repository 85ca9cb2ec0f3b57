"""A first run: the start-up banner, the quick start's curl example and its prediction table."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.api.server import EXAMPLE_COMPLAINT, banner
from routing.bundle import load_bundle
from routing.settings import Settings
from routing.suggest import suggest
from tests.cli.helpers import run_main
from tests.conftest import SAMPLE_CSV

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("open_mode", [True, False])
def test_the_start_up_banner_shows_the_console_url(trained_bundle, open_mode):
    settings = Settings(_env_file=None, host="127.0.0.1", port=8123)
    lines = banner(settings, load_bundle(trained_bundle), open_mode=open_mode)
    [console] = [line for line in lines if "console:" in line]
    assert "http://127.0.0.1:8123/console/" in console
    assert ("admin key" in console) is not open_mode  # without keys, none is asked for


def test_predict_table_shows_each_prediction_readably(
    monkeypatch, capsys, tmp_path, trained_bundle, heldout_csv, heldout_corpus
):
    code, out, _ = run_main(
        monkeypatch,
        capsys,
        *("predict", heldout_csv, "--model", trained_bundle, "--text-col", "text"),
        *("--id-col", "id", "--explain", "2", "--out", tmp_path / "p.jsonl", "--table"),
    )
    assert code in (0, None)
    model = load_bundle(trained_bundle)
    assert "Predictions" in out and '"suggestions"' not in out  # a table, not JSON lines
    assert "auto" in out or "review" in out
    assert any(agency in out for agency in model.labels)
    assert heldout_corpus.ids[0] in out and heldout_corpus.ids[-1] in out
    assert len((tmp_path / "p.jsonl").read_text(encoding="utf-8").splitlines()) == len(
        heldout_corpus.ids
    )


@pytest.mark.slow
def test_the_quick_start_curl_example_is_routed_automatically_by_the_sample_model(tmp_path):
    # the model `make quickstart` serves: the sample corpus, seed 0, the shipped catalogue
    # (Makefile, sample-model; `routing train`'s defaults)
    from routing.authority import DEFAULT_AGENCIES_PATH
    from training.pipeline import train

    result = train(
        SAMPLE_CSV,
        "text",
        "agency",
        tmp_path / "sample",
        id_col="id",
        seed=0,
        agencies=DEFAULT_AGENCIES_PATH,
    )
    [prediction] = suggest(load_bundle(result.bundle_path), [EXAMPLE_COMPLAINT])
    assert prediction.decision == "auto"
    assert EXAMPLE_COMPLAINT in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "--table" in (ROOT / "Makefile").read_text(encoding="utf-8")
