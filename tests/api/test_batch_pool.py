"""Batch workers: big batches shared with a process pool, same answers, never a failure."""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from serve_process import clean_env, running_server  # tests/ is on sys.path

from routing.api import batch_pool
from routing.api.batch_pool import MIN_PARALLEL_ITEMS, BatchPool, default_workers
from routing.bundle import Bundle, load_bundle
from routing.storage.db import PredictionRecord, make_engine, session_factory
from routing.suggest import Prediction, suggest
from routing.text import mask_personal_data

from .helpers import API_KEYS, INTEGRATION_KEY

OPTIONS = {"top_k": 3, "explain_words": 5, "similar": 3}
DEADLINE_S = 120


@pytest.fixture
def here(monkeypatch) -> list[int]:
    """Sizes of the chunks computed in this process (the workers run their own copy of the
    module, which this does not touch)."""
    sizes: list[int] = []
    compute = batch_pool._suggest

    def counted(bundle, texts, options):
        sizes.append(len(texts))
        return compute(bundle, texts, options)

    monkeypatch.setattr(batch_pool, "_suggest", counted)
    return sizes


@pytest.fixture
def make_pool() -> Iterator[Callable[..., BatchPool]]:
    pools: list[BatchPool] = []

    def make(workers: int = 1, **kwargs) -> BatchPool:
        pools.append(BatchPool(workers, **kwargs))
        return pools[-1]

    yield make
    for pool in pools:
        pool.close()


def _wait_ready(pool: BatchPool, version: str, workers: int = 1) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while pool.ready(version) < workers:
        assert time.monotonic() < deadline, f"the batch workers never loaded {version}"
        time.sleep(0.05)


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


def test_default_workers_leaves_one_core_to_the_server():
    assert default_workers() == max(len(os.sched_getaffinity(0)) - 1, 0)


def test_negative_worker_counts_are_refused():
    with pytest.raises(ValueError, match="workers"):
        BatchPool(-1)


def test_without_workers_every_batch_is_answered_in_process(make_pool, bundle, small_corpus, here):
    pool = make_pool(0)
    pool.start(bundle)
    texts = _texts(small_corpus, 3 * MIN_PARALLEL_ITEMS)
    assert pool.ready(bundle.model_version) == 0
    assert _same(pool.suggest(bundle, texts, **OPTIONS), suggest(bundle, texts, **OPTIONS))
    assert here == [len(texts)]


def test_a_shared_batch_is_answered_in_input_order(make_pool, bundle, small_corpus, here):
    pool = make_pool(1)
    pool.start(bundle)
    _wait_ready(pool, bundle.model_version)
    texts = _texts(small_corpus, 3 * MIN_PARALLEL_ITEMS + 1)
    assert _same(pool.suggest(bundle, texts, **OPTIONS), suggest(bundle, texts, **OPTIONS))
    assert here == [len(texts) // 2]  # the worker computed the other half


def test_each_shared_chunk_keeps_its_own_complaints_locations(
    make_pool, catalogue_bundle, small_corpus, here
):
    bundle = load_bundle(catalogue_bundle)
    pool = make_pool(1)
    pool.start(bundle)
    _wait_ready(pool, bundle.model_version)
    texts = _texts(small_corpus, 2 * MIN_PARALLEL_ITEMS)
    locations = ["32.73" if i % 3 else "Kabupaten Sleman" for i in range(len(texts))]
    got = pool.suggest(bundle, texts, locations=locations, **OPTIONS)
    assert here == [len(texts) // 2]  # the worker computed the other half
    want = suggest(bundle, texts, locations=locations, **OPTIONS)
    _same(got, want)
    assert [p.jurisdiction.code for p in got] == [
        "32.73" if i % 3 else "34.04" for i in range(len(texts))
    ]


def test_small_batches_and_other_versions_stay_in_process(make_pool, bundle, small_corpus, here):
    pool = make_pool(1)
    pool.start(bundle)
    _wait_ready(pool, bundle.model_version)
    small = _texts(small_corpus, MIN_PARALLEL_ITEMS - 1)
    assert _same(pool.suggest(bundle, small, **OPTIONS), suggest(bundle, small, **OPTIONS))
    other = _relabelled(bundle, "rt-other")
    texts = _texts(small_corpus, 2 * MIN_PARALLEL_ITEMS)
    assert _same(pool.suggest(other, texts, **OPTIONS), suggest(other, texts, **OPTIONS))
    assert here == [len(small), len(texts)]


def test_a_dead_worker_fails_no_batch_and_the_pool_is_started_again(
    make_pool, bundle, small_corpus, here
):
    pool = make_pool(1)
    pool.start(bundle)
    _wait_ready(pool, bundle.model_version)
    broken = pool._current.executor
    for pid in list(broken._processes):
        os.kill(pid, signal.SIGKILL)
    texts = _texts(small_corpus, 2 * MIN_PARALLEL_ITEMS)
    assert _same(pool.suggest(bundle, texts, **OPTIONS), suggest(bundle, texts, **OPTIONS))
    assert sum(here) == len(texts)  # all of it answered here
    assert pool.restarts == 1
    assert pool._current.executor is not broken
    _wait_ready(pool, bundle.model_version)
    here.clear()
    assert _same(pool.suggest(bundle, texts, **OPTIONS), suggest(bundle, texts, **OPTIONS))
    assert here == [len(texts) // 2]  # the new worker takes its share again


def test_after_a_reload_the_workers_serve_the_new_bundle(
    make_pool, bundle, second_bundle, small_corpus, here
):
    second = load_bundle(second_bundle)
    assert second.model_version != bundle.model_version
    pool = make_pool(1)
    pool.start(bundle)
    _wait_ready(pool, bundle.model_version)
    pool.start(second)
    assert pool.ready(bundle.model_version) == 0
    _wait_ready(pool, second.model_version)
    texts = _texts(small_corpus, 2 * MIN_PARALLEL_ITEMS)
    assert _same(pool.suggest(second, texts, **OPTIONS), suggest(second, texts, **OPTIONS))
    assert here == [len(texts) // 2]


def test_a_reload_fails_no_batch_in_flight(
    make_pool, bundle, second_bundle, small_corpus, monkeypatch
):
    second = load_bundle(second_bundle)
    pool = make_pool(1)
    pool.start(bundle)
    _wait_ready(pool, bundle.model_version)
    compute = batch_pool._suggest
    retired = []

    def reload_meanwhile(served, texts, options):
        # the worker holds its chunk of this batch now: the reload retires its executor
        if not retired:
            retired.append(pool._current.executor)
            pool.start(second)
        return compute(served, texts, options)

    monkeypatch.setattr(batch_pool, "_suggest", reload_meanwhile)
    texts = _texts(small_corpus, 2 * MIN_PARALLEL_ITEMS)
    assert _same(pool.suggest(bundle, texts, **OPTIONS), suggest(bundle, texts, **OPTIONS))
    assert retired and pool._current.executor is not retired[0]
    assert pool.restarts == 0


def test_workers_that_cannot_load_the_bundle_are_never_used(
    make_pool, bundle, small_corpus, here, caplog
):
    pool = make_pool(1, signing_key="not-the-key-it-was-signed-with")
    with caplog.at_level(logging.WARNING, logger="routing.service"):
        pool.start(bundle)
        deadline = time.monotonic() + DEADLINE_S
        while "could not load" not in caplog.text:
            assert time.monotonic() < deadline, "the failed load was never reported"
            time.sleep(0.05)
    assert pool.ready(bundle.model_version) == 0
    texts = _texts(small_corpus, 2 * MIN_PARALLEL_ITEMS)
    assert _same(pool.suggest(bundle, texts, **OPTIONS), suggest(bundle, texts, **OPTIONS))
    assert here == [len(texts)]
    assert pool.restarts == 0


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


def _server_pid(port: str) -> int:
    for proc in Path("/proc").iterdir():
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"serve.py") for a in args) and port.encode() in args:
            return int(proc.name)
    raise AssertionError("server process not found")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_a_served_batch_is_stored_masked_and_the_workers_stop_with_the_server(
    trained_bundle, bundle, small_corpus, tmp_path
):
    log = tmp_path / "server.log"
    env = clean_env(
        ROUTING_DB_URL=f"sqlite:///{tmp_path / 'routing.db'}",
        ROUTING_API_KEYS=API_KEYS,
        ROUTING_BATCH_WORKERS="1",
    )
    texts = _texts(small_corpus, 3 * MIN_PARALLEL_ITEMS)
    with running_server(trained_bundle, cwd=tmp_path, env=env, log=log, stop=signal.SIGTERM) as url:
        deadline = time.monotonic() + DEADLINE_S
        while httpx.get(f"{url}/readyz").json()["batch_workers"] < 1:
            assert time.monotonic() < deadline, "the batch worker never became ready"
            time.sleep(0.2)
        workers = _children(_server_pid(url.rsplit(":", 1)[1]))
        assert workers
        response = httpx.post(
            f"{url}/v1/predict/batch",
            json={"items": [{"text": t} for t in texts], "top_k": 3},
            headers={"X-API-Key": INTEGRATION_KEY},
            timeout=DEADLINE_S,
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
    engine = make_engine(f"sqlite:///{tmp_path / 'routing.db'}")
    try:
        with session_factory(engine)() as session:
            stored = {r.id: r.text_masked for r in session.query(PredictionRecord)}
    finally:
        engine.dispose()
    assert [stored[i] for i in ids] == [mask_personal_data(t) for t in texts]
    assert sum("[NIK]" in stored[i] for i in ids) >= len(texts) // 5
    # SIGTERM: the server shut down cleanly, its workers with it
    deadline = time.monotonic() + 60
    while any(_alive(pid) for pid in workers):
        assert time.monotonic() < deadline, "batch workers outlived the server"
        time.sleep(0.2)
