"""`--engine` and its options, checked before any work and without starting Ray."""

from __future__ import annotations

import pytest

from tests.cli.helpers import assert_user_error, run_main

VERBS = {
    "predict": ["--text-col", "text", "--out", "out.jsonl"],
    "evaluate": ["--text-col", "text", "--label-col", "agency"],
    "audit": ["--text-col", "text", "--label-col", "agency", "--out", "out.csv"],
}


def verb_args(verb: str, data, bundle) -> list:
    model = [] if verb == "audit" else ["--model", bundle]
    return [verb, data, *model, *VERBS[verb]]


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_engine_ray_without_ray_says_how_to_install_it(
    verb, monkeypatch, capsys, trained_bundle, sample_csv, tmp_path
):
    import routing.scale

    monkeypatch.setattr(routing.scale, "find_spec", lambda name: None)
    monkeypatch.chdir(tmp_path)
    args = [*verb_args(verb, sample_csv, trained_bundle), "--engine", "ray"]
    code, _, err = run_main(monkeypatch, capsys, *args)
    assert_user_error(code, err, "pip install 'routing[scale]'")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--engine", "spark"], "--engine must be one of local, ray"),
        (["--num-cpus", "2"], "apply to --engine ray only"),
        (["--ray-address", "auto"], "apply to --engine ray only"),
        (["--engine", "ray", "--ray-address", "auto", "--num-cpus", "2"], "--num-cpus sizes"),
    ],
)
def test_engine_options_that_do_not_fit_are_refused(
    options, message, monkeypatch, capsys, trained_bundle, sample_csv, tmp_path
):
    monkeypatch.chdir(tmp_path)
    args = [*verb_args("predict", sample_csv, trained_bundle), *options]
    assert_user_error(*run_main(monkeypatch, capsys, *args)[::2], message)


def test_evaluate_report_needs_the_local_engine(
    monkeypatch, capsys, trained_bundle, sample_csv, tmp_path
):
    args = [*verb_args("evaluate", sample_csv, trained_bundle), "--report", tmp_path / "r"]
    code, _, err = run_main(monkeypatch, capsys, *args, "--engine", "ray")
    assert_user_error(code, err, "--engine local")
