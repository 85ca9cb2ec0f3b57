"""Batch workers: big batches shared with worker processes, same answers, never a failure."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import wait
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from serve_process import clean_env, running_server  # tests/ is on sys.path

from routing.api.batch_pool import (
    MIN_PARALLEL_ITEMS,
    OWN_SHARE,
    WORKER_PIECES,
    BatchPool,
    _split,
    default_workers,
)
from routing.bundle import Bundle
from routing.storage.db import PredictionRecord, make_engine, session_factory
from routing.suggest import Prediction, suggest
from routing.text import mask_personal_data

from .helpers import API_KEYS, INTEGRATION_KEY

OPTIONS = {"top_k": 3, "explain_words": 5, "similar": 3}


@pytest.fixture(scope="module")
def pool(request) -> BatchPool:
    pool = BatchPool(1)
    request.addfinalizer(pool.close)
    return pool


@pytest.fixture(scope="module")
def ready_pool(pool: BatchPool, bundle: Bundle) -> BatchPool:
    done, _ = wait(pool.prepare(bundle), timeout=120)
    assert all(f.exception() is None for f in done)
    deadline = time.monotonic() + 10  # done callbacks run just after waiters wake
    while pool.ready(bundle.model_version) < 1:
        assert time.monotonic() < deadline, "the loaded worker never counted as ready"
        time.sleep(0.01)
    return pool


def _same(got: list[Prediction], want: list[Prediction]) -> bool:
    """Equal predictions; confidences to 1e-9 relative (a batch's floating-point sums may
    round differently in their last bits with its size, visible only in tiny ones)."""
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert [(s.agency, s.explanation) for s in g.suggestions] == [
            (s.agency, s.explanation) for s in w.suggestions
        ]
        assert [s.confidence for s in g.suggestions] == pytest.approx(
            [s.confidence for s in w.suggestions], rel=1e-9, abs=1e-12
        )
        assert (g.decision, g.threshold, g.model_version, g.similar) == (
            w.decision,
            w.threshold,
            w.model_version,
            w.similar,
        )
    return True


def _relabelled(bundle: Bundle, version: str) -> Bundle:
    """The same model under another version (its directory still holds the original)."""
    manifest = {**bundle.manifest, "model_version": version}
    return replace(bundle, manifest=manifest)


def _texts(corpus, n: int) -> list[str]:
    """`n` complaints, every fifth with a NIK or phone number of its own."""
    texts = list(corpus.texts)

    def personal(i: int) -> str:
        return {0: f"NIK 32010{i:011d}", 1: f"hp 0812{i:08d}"}.get(i % 5, "")

    return [f"{texts[i % len(texts)]} nomor {i} {personal(i)}" for i in range(n)]


def test_split_covers_the_batch_in_order_in_proportion_to_the_shares():
    texts = ["a" * 10] * 50 + ["b" * 1000] * 5 + ["c" * 10] * 45
    for shares in ([1.0, 1.0], [OWN_SHARE, 1.0], [OWN_SHARE, 1.0, 1.0]):
        parts = _split(texts, shares)
        assert len(parts) == len(shares)
        assert parts[0][0] == 0 and parts[-1][1] == len(texts)
        assert all(a < b for a, b in parts)
        assert all(parts[i][1] == parts[i + 1][0] for i in range(len(parts) - 1))
        sizes = [sum(len(t) + 50 for t in texts[a:b]) for a, b in parts]
        want = [sum(sizes) * share / sum(shares) for share in shares]
        assert all(abs(size - w) <= 1050 for size, w in zip(sizes, want, strict=True))
    equal = ["x" * 100] * 90
    assert [b - a for a, b in _split(equal, [0.5, 1.0])] == [30, 60]
    assert _split(["x"], [OWN_SHARE, 1.0]) == [(0, 1)]


def test_default_workers_leaves_one_core_to_the_server():
    assert default_workers() == max(len(os.sched_getaffinity(0)) - 1, 0)


def test_a_shared_batch_gives_the_same_answers_as_one_process(ready_pool, bundle, small_corpus):
    texts = _texts(small_corpus, 3 * MIN_PARALLEL_ITEMS)
    sent = ready_pool.parts_sent
    got = ready_pool.suggest(bundle, texts, **OPTIONS)
    assert ready_pool.parts_sent == sent + WORKER_PIECES  # the worker did its pieces
    assert _same(got, suggest(bundle, texts, **OPTIONS))


def test_parts_come_in_input_order_the_calling_threads_first(ready_pool, bundle, small_corpus):
    texts = _texts(small_corpus, 3 * MIN_PARALLEL_ITEMS)
    parts = list(ready_pool.suggest_parts(bundle, texts, **OPTIONS))
    shares = [OWN_SHARE] + [1.0 / WORKER_PIECES] * WORKER_PIECES
    assert len(parts) == 1 + WORKER_PIECES
    assert [len(p.predictions) for p in parts] == [b - a for a, b in _split(texts, shares)]
    got = [p for part in parts for p in part.predictions]
    assert _same(got, suggest(bundle, texts, **OPTIONS))
    # each part brings its texts masked, the worker's pieces as the server's own part
    assert [m for part in parts for m in part.masked] == [mask_personal_data(t) for t in texts]
    assert all(any("[NIK]" in m for m in part.masked) for part in parts)
    # a reader that stops early frees the worker for the next batch
    early = ready_pool.suggest_parts(bundle, texts, **OPTIONS)
    next(early)
    early.close()
    sent = ready_pool.parts_sent
    ready_pool.suggest(bundle, texts, **OPTIONS)
    assert ready_pool.parts_sent == sent + WORKER_PIECES


def test_small_batches_and_other_versions_stay_in_the_server(ready_pool, bundle, small_corpus):
    sent = ready_pool.parts_sent
    small = _texts(small_corpus, MIN_PARALLEL_ITEMS - 1)
    assert _same(ready_pool.suggest(bundle, small, **OPTIONS), suggest(bundle, small, **OPTIONS))
    other = _relabelled(bundle, "rt-other")
    texts = _texts(small_corpus, 2 * MIN_PARALLEL_ITEMS)
    assert _same(ready_pool.suggest(other, texts, **OPTIONS), suggest(other, texts, **OPTIONS))
    assert ready_pool.parts_sent == sent


def test_a_dead_worker_costs_no_answer_and_is_replaced(ready_pool, bundle, small_corpus):
    [worker] = ready_pool._workers
    for process in list(worker.executor._processes.values()):
        os.kill(process.pid, signal.SIGKILL)
    texts = _texts(small_corpus, 2 * MIN_PARALLEL_ITEMS)
    assert _same(ready_pool.suggest(bundle, texts, **OPTIONS), suggest(bundle, texts, **OPTIONS))
    [fresh] = ready_pool._workers
    assert fresh is not worker
    deadline = time.monotonic() + 120
    while ready_pool.ready(bundle.model_version) < 1:
        assert time.monotonic() < deadline, "the replacement worker never became ready"
        time.sleep(0.2)
    sent = ready_pool.parts_sent
    assert _same(ready_pool.suggest(bundle, texts, **OPTIONS), suggest(bundle, texts, **OPTIONS))
    assert ready_pool.parts_sent == sent + WORKER_PIECES


def test_a_worker_that_cannot_load_the_bundle_is_never_used(bundle, small_corpus, tmp_path):
    pool = BatchPool(1, signing_key="not-the-key-it-was-signed-with")
    try:
        done, _ = wait(pool.prepare(bundle), timeout=120)
        assert all(f.exception() is not None for f in done)
        texts = _texts(small_corpus, 2 * MIN_PARALLEL_ITEMS)
        assert _same(pool.suggest(bundle, texts, **OPTIONS), suggest(bundle, texts, **OPTIONS))
        assert pool.parts_sent == 0
    finally:
        pool.close()


def test_negative_worker_counts_are_refused():
    with pytest.raises(ValueError, match="workers"):
        BatchPool(-1)


def _server_pid(url: str) -> int:
    port = url.rsplit(":", 1)[1]
    for proc in Path("/proc").iterdir():
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"serve.py") for a in args) and port.encode() in args:
            return int(proc.name)
    raise AssertionError("server process not found")


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_served_batches_use_the_worker_and_it_dies_with_the_server(
    trained_bundle, bundle, small_corpus, tmp_path
):
    log = tmp_path / "server.log"
    env = clean_env(
        ROUTING_DB_URL=f"sqlite:///{tmp_path / 'routing.storage.db'}",
        ROUTING_API_KEYS=API_KEYS,
        ROUTING_BATCH_WORKERS="1",
    )
    texts = _texts(small_corpus, 3 * MIN_PARALLEL_ITEMS)
    with running_server(trained_bundle, cwd=tmp_path, env=env, log=log) as url:
        deadline = time.monotonic() + 120
        while httpx.get(f"{url}/readyz").json()["batch_workers"] < 1:
            assert time.monotonic() < deadline, "the batch worker never became ready"
            time.sleep(0.2)
        assert "batch worker ready" in log.read_text(errors="replace")
        workers = _children(_server_pid(url))
        assert workers
        response = httpx.post(
            f"{url}/v1/predict/batch",
            json={"items": [{"text": t} for t in texts], "top_k": 3},
            headers={"X-API-Key": INTEGRATION_KEY},
            timeout=120,
        )
        assert response.status_code == 200
        served = [
            [(s["agency"], s["explanation"]) for s in r["suggestions"]]
            for r in response.json()["results"]
        ]
        want = [
            [(s.agency, s.explanation) for s in p.suggestions]
            for p in suggest(bundle, texts, top_k=3, explain_words=5)
        ]
        assert served == want
        ids = [r["prediction_id"] for r in response.json()["results"]]
    # what was stored: every text masked, the worker's pieces as the server's own part
    engine = make_engine(f"sqlite:///{tmp_path / 'routing.storage.db'}")
    try:
        with session_factory(engine)() as session:
            stored = {r.id: r.text_masked for r in session.query(PredictionRecord)}
    finally:
        engine.dispose()
    assert [stored[i] for i in ids] == [mask_personal_data(t) for t in texts]
    assert sum("[NIK]" in stored[i] for i in ids) >= len(texts) // 5
    # running_server stopped it with SIGKILL: no cleanup ran, the workers must go by themselves
    deadline = time.monotonic() + 60
    while any(_alive(pid) for pid in workers):
        assert time.monotonic() < deadline, "batch workers outlived the killed server"
        time.sleep(0.2)


def test_only_the_latest_load_makes_a_worker_ready(bundle):
    """Two reloads in a row: the first load's end must not send parts to a worker that will
    load another version next (they would wait behind that load)."""
    pool = BatchPool(1)
    try:
        other = _relabelled(bundle, "rt-not-this")
        first = pool.prepare(bundle)
        second = pool.prepare(other)  # its directory holds another version: this load fails
        wait(first + second, timeout=120)
        assert first[0].exception() is None
        assert second[0].exception() is not None
        assert pool.ready(bundle.model_version) == 0
        assert pool.ready(other.model_version) == 0
    finally:
        pool.close()
