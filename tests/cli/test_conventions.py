"""Conventions of the command line: --version and -h, metavars, environment variables in the
help, a light start (no model or web libraries for --help), bundles readable per the umask."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from routing.bundle import load_bundle, save_bundle
from routing.cli import app, common

ROOT = Path(__file__).resolve().parents[2]
# What `routing --help` must not load: each takes seconds to import.
HEAVY = ("sklearn", "torch", "fastapi", "sqlalchemy")

runner = CliRunner()


def commands(group, prefix: tuple[str, ...] = ()):
    """(words, command) of every verb and group under a click group, e.g. ("feedback", "export").

    (typer carries its own copy of click, so groups are told apart by their commands.)
    """
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if hasattr(command, "commands"):
            yield from commands(command, (*prefix, name))


COMMANDS = list(commands(typer.main.get_command(app)))
VERBS = [words for words, command in COMMANDS if not hasattr(command, "commands")]


def test_version_prints_the_installed_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"routing {metadata.version('routing')}"


@pytest.mark.parametrize("words", [(), ("train",), ("feedback", "export"), ("models", "list")])
def test_dash_h_is_help(words):
    short = runner.invoke(app, [*words, "-h"])
    assert short.exit_code == 0
    assert short.stdout == runner.invoke(app, [*words, "--help"]).stdout
    assert "Usage:" in short.stdout


@pytest.mark.parametrize("words", [w for w, _ in COMMANDS], ids=" ".join)
def test_help_shows_no_type_beside_flags(words):
    result = runner.invoke(app, [*words, "--help"])
    assert result.exit_code == 0
    assert "<bool>" not in result.stdout


def test_options_that_take_a_value_name_it_in_capitals_the_same_way_everywhere():
    seen: dict[str, set[str]] = {}
    for words, command in COMMANDS:
        for param in command.params:
            if getattr(param, "is_flag", False) or param.name == "help":
                continue
            where = f"{' '.join(words)} {param.opts[0]}"
            assert param.metavar and param.metavar.isupper(), f"{where}: {param.metavar!r}"
            if param.param_type_name == "option":
                seen.setdefault(param.opts[0], set()).add(param.metavar)
    # --out is a file for some verbs and a bundle directory for others; all else agrees
    differing = {opt: names for opt, names in seen.items() if len(names) > 1 and opt != "--out"}
    assert differing == {}
    assert seen["--out"] == {"FILE", "DIR"}


def test_help_shows_the_environment_variables_of_options():
    serve = runner.invoke(app, ["serve", "--help"]).stdout
    flat = " ".join(serve.split())  # help lines are wrapped
    for name in ("ROUTING_MODEL", "ROUTING_HOST", "ROUTING_PORT", "ROUTING_DB_URL"):
        assert f"env var: {name}" in flat
    purge = " ".join(runner.invoke(app, ["db", "purge", "--help"]).stdout.split())
    assert "[env var: ROUTING_RETENTION_DAYS" in purge


def test_an_option_environment_variable_is_used(monkeypatch, tmp_path):
    # the help says [env var: ROUTING_DB_URL]: the variable must really be what --db defaults to
    monkeypatch.setenv("ROUTING_DB_URL", f"sqlite:///{tmp_path / 'missing.db'}")
    result = runner.invoke(app, ["feedback", "export", "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 2
    assert "missing.db" in result.stderr


def test_help_defaults_are_the_libraries_defaults():
    from routing.evaluation.audit import DEFAULT_IRRELEVANT_QUANTILE
    from routing.evaluation.comparison import DEFAULT_TOLERANCE
    from routing.policy import DEFAULT_BOUND_CONFIDENCE, DEFAULT_TARGET_PRECISION
    from routing.settings import Settings
    from routing.suggest import MAX_TOP_K
    from training.retrain import DEFAULT_HOLDOUT

    assert common.TARGET_PRECISION == DEFAULT_TARGET_PRECISION
    assert common.BOUND_CONFIDENCE == DEFAULT_BOUND_CONFIDENCE
    assert Settings.model_fields["bound_confidence"].default == DEFAULT_BOUND_CONFIDENCE
    assert common.MAX_TOP_K == MAX_TOP_K
    assert common.HOLDOUT == DEFAULT_HOLDOUT
    assert common.IRRELEVANT_QUANTILE == DEFAULT_IRRELEVANT_QUANTILE
    assert common.TOLERANCE == DEFAULT_TOLERANCE


def test_help_does_not_import_model_web_or_database_libraries():
    # a fresh interpreter: this test process has imported them all already
    script = """
import json, sys
from routing.cli import main
for args in json.loads(sys.argv[1]):
    sys.argv = ["routing", *args]
    try:
        main()
    except SystemExit as exit:
        assert exit.code in (0, None), (args, exit.code)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""
    runs = [["--help"], ["-h"], ["--version"], *([*words, "--help"] for words in VERBS)]
    proc = subprocess.run(
        [sys.executable, "-c", script, json.dumps(runs)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    imported = set(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert "routing" in imported
    assert imported & set(HEAVY) == set()


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_bundle_directory_permissions_follow_the_umask(trained_bundle, tmp_path, umask):
    bundle = load_bundle(trained_bundle)
    before = os.umask(umask)
    try:
        out = save_bundle(
            tmp_path / "bundle",
            bundle.router,
            policy=bundle.policy,
            calibration=bundle.calibration,
            metrics=bundle.manifest["metrics"],
            training=bundle.manifest["training_data"],
            seed=0,
        )
    finally:
        os.umask(before)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask
    for file in out.iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o666 & ~umask, file.name
