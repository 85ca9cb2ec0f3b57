"""The model registry: a promotion gate, rollback, and a pointer never seen half-written."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routing.bundle import ROUTER_FILE, BundleError, read_manifest, retarget_bundle
from routing.cli import app
from routing.registry import (
    POINTER_FILE,
    Pointer,
    RegistryError,
    add_bundle,
    list_versions,
    promote,
    read_pointer,
    registry_lock,
    resolve_bundle_dir,
    rollback,
)
from tests.conftest import SIGNING_KEY
from training.pipeline import train

runner = CliRunner()
KILL_LOOP_READS = 400
KILL_LOOP_DEADLINE_S = 120
KILLS = 10
KILL_AFTER_S = 0.05  # the longest a promoting process runs after its first promotion


def _version(bundle: Path) -> str:
    return read_manifest(bundle)["model_version"]


@pytest.fixture(scope="module")
def other_bundle(tmp_path_factory, small_csv) -> Path:
    """As good as `trained_bundle` (same data, another seed), but another version."""
    out = tmp_path_factory.mktemp("other") / "bundle"
    return train(small_csv, "text", "agency", out, id_col="id", seed=1).bundle_path


@pytest.fixture(scope="module")
def worse_bundle(tmp_path_factory, small_corpus) -> Path:
    """Trained on shuffled labels: clearly worse than `trained_bundle` on held-out complaints."""
    labels = list(small_corpus.labels)
    random.Random(7).shuffle(labels)
    data = tmp_path_factory.mktemp("worse") / "shuffled.csv"
    lines = ["id,text,agency"] + [
        ",".join(json.dumps(v) for v in row)
        for row in zip(small_corpus.ids, small_corpus.texts, labels, strict=True)
    ]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return train(data, "text", "agency", data.parent / "bundle", id_col="id").bundle_path


def _cli(*args) -> object:
    return runner.invoke(app, [str(a) for a in args])


def test_first_promotion_into_an_empty_registry_copies_the_bundle(tmp_path, trained_bundle):
    registry = tmp_path / "models"
    result = promote(registry, trained_bundle)
    version = _version(trained_bundle)
    assert result.promoted and result.previous is None
    assert read_pointer(registry) == Pointer(version, (), read_pointer(registry).updated_at)
    assert resolve_bundle_dir(registry) == registry / version
    assert read_manifest(registry / version)["model_version"] == version


def test_promote_refuses_a_worse_challenger_and_force_overrides(
    tmp_path, trained_bundle, worse_bundle, heldout_csv
):
    registry = tmp_path / "models"
    promote(registry, trained_bundle)
    champion = _version(trained_bundle)

    refused = _cli("promote", worse_bundle, "--registry", registry, "--eval", heldout_csv)
    assert refused.exit_code == 1, refused.output
    assert "refused" in refused.output
    assert "macro-F1" in refused.output and "below the champion" in refused.output
    assert read_pointer(registry).version == champion
    assert not (registry / _version(worse_bundle)).exists()

    forced = _cli("promote", worse_bundle, "--registry", registry, "--eval", heldout_csv, "--force")
    assert forced.exit_code == 0, forced.output
    pointer = read_pointer(registry)
    assert pointer.version == _version(worse_bundle)
    assert pointer.previous == (champion,)


def test_promote_without_a_comparison_is_refused_unless_forced(
    tmp_path, trained_bundle, other_bundle
):
    registry = tmp_path / "models"
    promote(registry, trained_bundle)
    result = promote(registry, other_bundle)
    assert not result.promoted
    assert "records no comparison" in result.verdict.reasons[0]
    assert promote(registry, other_bundle, force=True).forced


def test_promote_accepts_a_challenger_within_tolerance(
    tmp_path, trained_bundle, other_bundle, heldout_csv
):
    registry = tmp_path / "models"
    promote(registry, trained_bundle)
    result = _cli(
        "promote", other_bundle, "--registry", registry, "--eval", heldout_csv, "--tolerance", 0.1
    )
    assert result.exit_code == 0, result.output
    assert "Challenger vs champion" in result.output
    assert read_pointer(registry).version == _version(other_bundle)


def test_rollback_restores_the_previous_pointer(tmp_path, trained_bundle, other_bundle):
    registry = tmp_path / "models"
    first, second = _version(trained_bundle), _version(other_bundle)
    promote(registry, trained_bundle)
    promote(registry, other_bundle, force=True)

    result = _cli("rollback", "--registry", registry)
    assert result.exit_code == 0, result.output
    assert f"to {first} (was {second})" in result.output
    pointer = read_pointer(registry)
    assert (pointer.version, pointer.previous) == (first, ())

    with pytest.raises(RegistryError, match="no previous version"):
        rollback(registry)


def test_rollback_refuses_a_previous_bundle_that_no_longer_verifies(
    tmp_path, trained_bundle, other_bundle
):
    registry = tmp_path / "models"
    promote(registry, trained_bundle)
    promote(registry, other_bundle, force=True)
    with open(registry / _version(trained_bundle) / ROUTER_FILE, "ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(RegistryError, match="checksum mismatch"):
        rollback(registry)
    assert read_pointer(registry).version == _version(other_bundle)


def test_models_list_marks_the_current_version(tmp_path, trained_bundle, other_bundle):
    registry = tmp_path / "models"
    promote(registry, trained_bundle)
    add_bundle(registry, other_bundle)
    versions = list_versions(registry)
    assert {v.version for v in versions} == {_version(trained_bundle), _version(other_bundle)}
    assert [v.current for v in versions if v.version == _version(trained_bundle)] == [True]
    assert all(v.macro_f1 is not None and v.coverage is not None for v in versions)

    result = _cli("models", "list", "--registry", registry)
    assert result.exit_code == 0, result.output
    current_line = next(line for line in result.output.splitlines() if "*" in line)
    assert _version(trained_bundle) in current_line


def test_a_tampered_bundle_is_not_added(tmp_path, trained_bundle):
    copy = tmp_path / "copy"
    copy.mkdir()
    for file in trained_bundle.iterdir():
        (copy / file.name).write_bytes(file.read_bytes())
    with open(copy / ROUTER_FILE, "ab") as fh:
        fh.write(b"x")
    registry = tmp_path / "models"
    with pytest.raises(BundleError, match="checksum mismatch"):
        promote(registry, copy)
    assert read_pointer(registry) is None


def test_a_crash_between_writing_and_renaming_leaves_the_old_pointer(
    tmp_path, trained_bundle, other_bundle, monkeypatch
):
    registry = tmp_path / "models"
    promote(registry, trained_bundle)
    before = (registry / POINTER_FILE).read_bytes()

    def crash(src, dst):
        raise OSError("simulated crash before rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        promote(registry, other_bundle, force=True)
    monkeypatch.undo()

    assert (registry / POINTER_FILE).read_bytes() == before
    assert read_pointer(registry).version == _version(trained_bundle)
    # the next promotion overwrites the leftover temporary file and succeeds
    assert promote(registry, other_bundle, force=True).promoted
    assert read_pointer(registry).version == _version(other_bundle)


def test_a_second_writer_waits_for_the_lock_then_gives_up(tmp_path):
    registry = tmp_path / "models"
    held = pytest.raises(RegistryError, match="locked")
    with registry_lock(registry), held, registry_lock(registry, timeout=0.1):
        pass


KILL_LOOP = textwrap.dedent(
    """
    import sys
    from routing.registry import promote
    root, first, second = sys.argv[1:]
    print("started", flush=True)
    while True:
        promote(root, first, force=True)
        promote(root, second, force=True)
    """
)


def test_readers_never_see_a_half_written_pointer_when_promote_is_killed(
    tmp_path, trained_bundle, other_bundle
):
    registry = tmp_path / "models"
    promote(registry, trained_bundle)
    promote(registry, other_bundle, force=True)  # both in place: the loop only moves CURRENT
    versions = {_version(trained_bundle), _version(other_bundle)}
    writer = subprocess.Popen(
        [sys.executable, "-c", KILL_LOOP, str(registry), str(trained_bundle), str(other_bundle)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "started"
        seen, changes, last = set(), 0, None
        deadline = time.monotonic() + KILL_LOOP_DEADLINE_S
        reads = 0
        while reads < KILL_LOOP_READS or changes < 3:
            assert time.monotonic() < deadline, f"only {changes} pointer changes seen"
            pointer = read_pointer(registry)  # raises on a partial or invalid pointer
            assert pointer.version in versions
            assert set(pointer.previous) <= versions
            changes += last is not None and pointer.version != last
            last = pointer.version
            seen.add(pointer.version)
            reads += 1
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert seen == versions
    assert read_pointer(registry).version in versions
    # the dead writer's lock is gone with it
    assert rollback(registry).version in versions


PROMOTE_LOOP = textwrap.dedent(
    """
    import random
    import sys
    from routing.registry import promote
    root, key, *bundles = sys.argv[1:]
    while True:
        for bundle in random.sample(bundles, len(bundles)):
            promote(root, bundle, force=True, signing_key=key)
            print("promoted", flush=True)
    """
)


@pytest.fixture(scope="module")
def signed_versions(tmp_path_factory, signed_bundle) -> list[Path]:
    """Six signed bundles of different versions (the same model, other target precisions)."""
    root = tmp_path_factory.mktemp("versions")
    versions = []
    for i, target in enumerate((0.8, 0.85, 0.9, 0.95, 0.97, 0.99)):
        copy = Path(shutil.copytree(signed_bundle, root / f"v{i}"))
        retarget_bundle(copy, target, signing_key=SIGNING_KEY)
        versions.append(copy)
    return versions


@pytest.mark.slow
def test_promote_killed_again_and_again_leaves_a_pointer_to_a_verified_bundle(
    tmp_path, signed_versions
):
    """kill -9 in a loop: a process promoting (copying new versions in, moving CURRENT) is
    killed at a random moment, KILLS times; after each kill the pointer is valid, every version
    it names verifies with the key, and the lock is free."""
    registry = tmp_path / "models"
    versions = {_version(bundle) for bundle in signed_versions}
    rng = random.Random(0)
    for kill in range(KILLS):
        writer = subprocess.Popen(
            [sys.executable, "-c", PROMOTE_LOOP, str(registry), SIGNING_KEY]
            + [str(bundle) for bundle in signed_versions],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert writer.stdout.readline().strip() == "promoted", f"kill {kill}"
            time.sleep(rng.uniform(0, KILL_AFTER_S))
            writer.send_signal(signal.SIGKILL)
            writer.wait(timeout=30)
        finally:
            if writer.poll() is None:
                writer.kill()
                writer.wait()
        pointer = read_pointer(registry)  # raises on a partial or invalid pointer
        assert pointer.version in versions, f"kill {kill}"
        for version in (pointer.version, *pointer.previous):
            read_manifest(registry / version, signing_key=SIGNING_KEY)  # raises if it fails
        with registry_lock(registry, timeout=0):
            pass  # the dead writer's lock died with it
    # every version fully copied in, none half-there under its final name
    complete = {p.name for p in registry.iterdir() if p.is_dir() and not p.name.startswith(".")}
    assert complete <= versions
    for version in complete:
        read_manifest(registry / version, signing_key=SIGNING_KEY)
