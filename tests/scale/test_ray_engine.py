"""`--engine ray` gives the local engine's answers: predict, evaluate and audit on a local Ray.

One local Ray (2 CPUs, no dashboard, a small object store) serves the whole module; the verbs
find it connected and use it. Select these tests with `-m ray`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.cli.helpers import assert_user_error, run_main
from tests.conftest import SAMPLE_CSV
from tests.evaluation.test_audit import flipped_corpus

pytestmark = pytest.mark.ray

SLICE = 300  # sample-corpus complaints scored by each engine


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    import ray

    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=100 * 1024**2,
        log_to_driver=False,
    )
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def sample_slice(tmp_path_factory) -> Path:
    """Every 7th sample complaint, as a CSV."""
    frame = pd.read_csv(SAMPLE_CSV, dtype=str, keep_default_na=False)
    path = tmp_path_factory.mktemp("scale") / "slice.csv"
    frame.iloc[::7].head(SLICE).to_csv(path, index=False)
    return path


def shards(source: Path, folder: Path, parts: int) -> Path:
    """`source` split into `parts` CSV shards whose names sort in row order."""
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    folder.mkdir()
    size = -(-len(frame) // parts)
    for i in range(parts):
        frame.iloc[i * size : (i + 1) * size].to_csv(folder / f"{i:02d}.csv", index=False)
    return folder


def read_lines(path: Path) -> list[dict]:
    files = sorted(path.iterdir()) if path.is_dir() else [path]
    return [json.loads(line) for f in files for line in f.read_text("utf-8").splitlines()]


def _floats_apart(got: object, want: object, where: str = "") -> list[str]:
    """Where two parsed rows differ: any value, or a number by more than 1e-9."""
    if isinstance(got, float) and isinstance(want, float):
        return [] if abs(got - want) <= 1e-9 else [f"{where}: {got} != {want}"]
    if isinstance(got, dict) and isinstance(want, dict):
        if got.keys() != want.keys():
            return [f"{where}: keys {sorted(got)} != {sorted(want)}"]
        return [d for k in got for d in _floats_apart(got[k], want[k], f"{where}.{k}")]
    if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        return [
            d
            for i, (g, w) in enumerate(zip(got, want, strict=True))
            for d in _floats_apart(g, w, f"{where}[{i}]")
        ]
    return [] if got == want else [f"{where}: {got!r} != {want!r}"]


def same_predictions(ray_rows: list[dict], local_rows: list[dict]) -> None:
    """Identical rows, but for confidences and scores (of review reasons too) within 1e-9: a
    block's size may change the last bits of a float."""
    assert len(ray_rows) == len(local_rows)
    for got, want in zip(ray_rows, local_rows, strict=True):
        assert _floats_apart(got, want) == []


def test_predict_on_ray_writes_the_local_rows_in_input_order(
    monkeypatch, capsys, trained_bundle, sample_slice, tmp_path
):
    common = ["--model", trained_bundle, "--text-col", "text", "--id-col", "id", "--top-k", "3"]
    common += ["--explain", "2", "-q"]
    local = tmp_path / "local.jsonl"
    assert run_main(monkeypatch, capsys, "predict", sample_slice, *common, "--out", local)[0] == 0
    folder = shards(sample_slice, tmp_path / "in", parts=3)
    for out in (tmp_path / "ray.jsonl", f"{tmp_path / 'ray-dir'}/"):
        args = ["predict", folder, *common, "--out", out, "--engine", "ray"]
        assert run_main(monkeypatch, capsys, *args)[0] == 0
        same_predictions(read_lines(Path(out)), read_lines(local))
    assert [r["id"] for r in read_lines(local)] == pd.read_csv(sample_slice, dtype=str)[
        "id"
    ].tolist()


def test_ray_keeps_input_order_when_many_blocks_share_the_workers(trained_bundle, sample_slice):
    """Two workers take turns over blocks of a few complaints; the lines still come back in
    input order (Ray Data yields finished blocks first unless told to keep the order)."""
    from routing.predictions import prediction_lines
    from routing.registry import load_model
    from routing.scale.batch import predict_lines
    from routing.scale.dataset import read_complaints
    from routing.scale.session import ray_session

    with ray_session():
        dataset = read_complaints(str(sample_slice), {"text": "text", "id": "id"}, block_bytes=2048)
        blocks = predict_lines(dataset, str(trained_bundle), signing_key=None, cpus=2)
        got = [json.loads(line) for block in blocks for line in block]
    frame = pd.read_csv(sample_slice, dtype=str, keep_default_na=False)
    want = prediction_lines(
        load_model(trained_bundle), frame["text"].tolist(), frame["id"].tolist()
    )
    same_predictions(got, [json.loads(line) for line in want])


def test_evaluate_on_ray_gives_the_local_metrics_json(
    monkeypatch, capsys, trained_bundle, sample_slice, tmp_path
):
    common = ["--model", trained_bundle, "--text-col", "text", "--label-col", "agency", "-q"]
    local, ray = tmp_path / "local.json", tmp_path / "ray.json"
    assert run_main(monkeypatch, capsys, "evaluate", sample_slice, *common, "--json", local)[0] == 0
    args = ["evaluate", sample_slice, *common, "--json", ray, "--engine", "ray"]
    assert run_main(monkeypatch, capsys, *args)[0] == 0
    metrics = json.loads(local.read_text("utf-8"))
    assert metrics["n"] == SLICE
    assert json.loads(ray.read_text("utf-8")) == metrics


def test_audit_on_ray_finds_the_local_suspects(monkeypatch, capsys, tmp_path):
    rows, labels, _ = flipped_corpus()
    data = tmp_path / "flipped.csv"
    pd.DataFrame({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows]}).assign(
        agency=labels
    ).to_csv(data, index=False)
    common = ["--text-col", "text", "--label-col", "agency", "--folds", "3", "--seed", "1", "-q"]
    local, ray = tmp_path / "local.csv", tmp_path / "ray.csv"
    assert run_main(monkeypatch, capsys, "audit", data, *common, "--out", local)[0] == 0
    args = ["audit", data, *common, "--out", ray, "--engine", "ray"]
    assert run_main(monkeypatch, capsys, *args)[0] == 0
    suspects = pd.read_csv(local, dtype=str)
    assert len(suspects) > 0
    pd.testing.assert_frame_equal(pd.read_csv(ray, dtype=str), suspects)


def test_a_missing_column_read_on_ray_is_a_one_line_error(
    monkeypatch, capsys, trained_bundle, sample_slice, tmp_path
):
    args = ["predict", sample_slice, "--model", trained_bundle, "--text-col", "complaint"]
    code, _, err = run_main(
        monkeypatch, capsys, *args, "--out", tmp_path / "out.jsonl", "--engine", "ray"
    )
    assert_user_error(code, err, "missing column 'complaint'")
    assert not (tmp_path / "out.jsonl").exists()


def test_folds_on_ray_run_each_call_on_a_ray_worker():
    import os

    import ray
    from joblib import Parallel, delayed

    from routing.scale.folds import folds_on_ray

    def where() -> tuple[int, str | None]:  # nested: Ray's workers cannot import this module
        return os.getpid(), ray.get_runtime_context().get_actor_id()

    with folds_on_ray(2):
        places = Parallel()(delayed(where)() for _ in range(3))
    assert all(actor is not None and pid != os.getpid() for pid, actor in places)
