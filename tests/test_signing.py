"""Signing through the command line's doors: every verb that reads a bundle checks its signature.

With ROUTING_SIGNING_KEY set, `predict`, `evaluate`, `retarget`, `promote`, `rollback` and
`retrain` (its champion) refuse a bundle that is unsigned or signed with another key: exit
code 2, one line, and no file changed. A bundle signed with the key passes each of them. The
verbs run through `routing.cli.main`, the console-script entry point.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from routing.bundle import read_manifest
from routing.cli import main
from routing.registry import promote, read_pointer
from routing.settings import get_settings
from routing.storage.feedback_export import write_feedback
from tests.conftest import OTHER_SIGNING_KEY, SIGNING_KEY


@dataclass(frozen=True)
class Door:
    """A verb's arguments for a bundle, and what must hold after it accepted the bundle."""

    args: list
    accepted: Callable[[], None] = lambda: None


@dataclass(frozen=True)
class Data:
    history: Path  # labelled complaints (the bundles' training data)
    heldout: Path  # labelled complaints never trained on
    feedback: Path  # an empty feedback export
    bundles: tuple[Path, Path]  # two bundles of different versions


def _version(bundle: Path) -> str:
    return read_manifest(bundle)["model_version"]


def _registry(tmp_path: Path, *bundles: Path) -> Path:
    """A registry whose pointer names `bundles` in turn, written without a key."""
    root = tmp_path / "models"
    for bundle in bundles:
        promote(root, bundle, force=True)
    return root


def _predict(bundle: Path, tmp_path: Path, data: Data) -> Door:
    out = tmp_path / "out.jsonl"
    args = ["predict", data.heldout, "--model", bundle, "--text-col", "text", "--out", out, "-q"]
    return Door(args, lambda: out.is_file() or pytest.fail("no predictions written"))


def _predict_from_registry(bundle: Path, tmp_path: Path, data: Data) -> Door:
    return _predict(_registry(tmp_path, bundle), tmp_path, data)


def _evaluate(bundle: Path, tmp_path: Path, data: Data) -> Door:
    metrics = tmp_path / "metrics.json"
    return Door(
        ["evaluate", data.heldout, "--model", bundle, "--text-col", "text", "--label-col",
         "agency", "--json", metrics, "-q"],
        lambda: metrics.is_file() or pytest.fail("no metrics written"),
    )  # fmt: skip


def _retarget(bundle: Path, tmp_path: Path, data: Data) -> Door:
    copy = Path(shutil.copytree(bundle, tmp_path / "bundle"))

    def accepted() -> None:  # rewritten and signed again
        assert read_manifest(copy, signing_key=SIGNING_KEY)["policy"]["target_precision"] == 0.9

    return Door(["retarget", "--model", copy, "--target-precision", "0.9", "-q"], accepted)


def _promote(bundle: Path, tmp_path: Path, data: Data) -> Door:
    registry = tmp_path / "models"

    def accepted() -> None:
        assert read_pointer(registry).version == _version(bundle)

    return Door(["promote", bundle, "--registry", registry, "-q"], accepted)


def _rollback(bundle: Path, tmp_path: Path, data: Data) -> Door:
    current = next(b for b in data.bundles if _version(b) != _version(bundle))
    registry = _registry(tmp_path, bundle, current)

    def accepted() -> None:
        assert read_pointer(registry).version == _version(bundle)

    return Door(["rollback", "--registry", registry, "-q"], accepted)


def _retrain(bundle: Path, tmp_path: Path, data: Data) -> Door:
    out = tmp_path / "challenger"

    def accepted() -> None:
        manifest = read_manifest(out, signing_key=SIGNING_KEY)  # the challenger is signed
        assert manifest["comparison"]["champion"]["model_version"] == _version(bundle)

    # not --quiet: a refusal must come before the progress lines of fitting the challenger
    return Door(
        ["retrain", "--history", data.history, "--feedback", data.feedback, "--text-col", "text",
         "--label-col", "agency", "--id-col", "id", "--registry", _registry(tmp_path, bundle),
         "--out", out],
        accepted,
    )  # fmt: skip


DOORS = {
    "predict": _predict,
    "predict-registry": _predict_from_registry,
    "evaluate": _evaluate,
    "retarget": _retarget,
    "promote": _promote,
    "rollback": _rollback,
    "retrain": _retrain,
}


@pytest.fixture(scope="module")
def data(tmp_path_factory, small_csv, heldout_csv, trained_bundle, signed_bundle) -> Data:
    feedback = tmp_path_factory.mktemp("feedback") / "feedback.csv"
    write_feedback([], feedback)
    return Data(small_csv, heldout_csv, feedback, (trained_bundle, signed_bundle))


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _run(monkeypatch, capsys, key: str, args: list) -> tuple[int, str, str]:
    """Run `routing ARGS` with ROUTING_SIGNING_KEY=key; return (exit code, stdout, stderr)."""
    monkeypatch.setenv("ROUTING_SIGNING_KEY", key)
    get_settings.cache_clear()
    monkeypatch.setattr(sys, "argv", ["routing", *(str(a) for a in args)])
    with pytest.raises(SystemExit) as exc:
        main()
    captured = capsys.readouterr()
    return exc.value.code, captured.out, captured.err


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize(
    ("bundle_name", "key", "reason"),
    [
        pytest.param("trained_bundle", SIGNING_KEY, "is not signed", id="unsigned"),
        pytest.param("signed_bundle", OTHER_SIGNING_KEY, "does not match", id="other-key"),
    ],
)
def test_every_verb_refuses_a_bundle_the_key_did_not_sign(
    door, bundle_name, key, reason, data, request, monkeypatch, capsys, tmp_path
):
    args = DOORS[door](request.getfixturevalue(bundle_name), tmp_path, data).args
    before = _files(tmp_path)
    code, _, stderr = _run(monkeypatch, capsys, key, args)
    assert code == 2, stderr
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ") and reason in lines[0]
    assert _files(tmp_path) == before


@pytest.mark.parametrize("door", DOORS)
def test_every_verb_accepts_a_bundle_signed_with_the_key(
    door, data, signed_bundle, monkeypatch, capsys, tmp_path
):
    step = DOORS[door](signed_bundle, tmp_path, data)
    code, _, stderr = _run(monkeypatch, capsys, SIGNING_KEY, step.args)
    assert code == 0, stderr
    step.accepted()


@pytest.mark.parametrize(("key", "signed"), [(SIGNING_KEY, "yes"), (OTHER_SIGNING_KEY, "NO")])
def test_models_list_says_which_versions_the_key_signed(
    key, signed, trained_bundle, signed_bundle, monkeypatch, capsys, tmp_path
):
    registry = _registry(tmp_path, trained_bundle, signed_bundle)
    monkeypatch.setenv("COLUMNS", "200")
    code, stdout, stderr = _run(
        monkeypatch, capsys, key, ["models", "list", "--registry", registry]
    )
    assert code == 0, stderr
    header, *rows = [
        [cell.strip() for cell in line.replace("┃", "│").split("│")[1:-1]]
        for line in stdout.splitlines()
        if line[:1] in ("┃", "│")
    ]
    assert header[-1] == "signed"
    signed_by_version = {row[1]: row[-1] for row in rows}
    assert signed_by_version == {_version(trained_bundle): "NO", _version(signed_bundle): signed}
