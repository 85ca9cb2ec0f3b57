"""Service latency benchmark: the real server over HTTP, side by side with the model in-process.

    python benchmarks/latency.py                          # models/sample, LAPOR-10 texts if present
    python benchmarks/latency.py --model /tmp/lapor10-model --requests 2000
    python benchmarks/latency.py --texts data/sample/complaints.csv --text-col text

Starts `serve.py` as a subprocess (SQLite in a temporary folder, an integration and an admin
key), waits for /readyz, then measures:

- single-complaint `POST /v1/predict` latency (p50/p95/p99) at concurrency 1 and 8, over
  keep-alive connections (one per thread; the standard library's http.client, or httpx with
  `--client httpx`), and the same complaints in-process:
  `routing.suggest.suggest` with the service's explain_words ("model only"; with `--similar`
  both paths add the 3 similar past complaints that `include_similar` asks for), and that plus
  the same storage write the service does, `store_predictions` in a fresh session on a SQLite file
  of its own ("model + storage");
- batch throughput: `POST /v1/predict/batch` with up to 1,000 complaints against
  `suggest` + `store_predictions` of the same 1,000 in-process.

HTTP and in-process runs alternate in blocks of complaints, so a busy shared machine slows both
alike: read the ratios, and medians over several runs. Prints Markdown and writes it to
benchmarks/results/latency.md (`benchmarks/record.py`); never complaint text.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import sklearn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.record import add_results_arguments, recorded  # noqa: E402
from routing.api.batch_pool import default_workers  # noqa: E402
from routing.api.limits import MAX_BODY_BYTES, MAX_TEXT_CHARS  # noqa: E402
from routing.api.schemas import SIMILAR_DEFAULT  # noqa: E402
from routing.api.served import warm_up  # noqa: E402
from routing.bundle import Bundle, load_bundle  # noqa: E402
from routing.registry import resolve_bundle_dir  # noqa: E402
from routing.storage.db import make_engine, session_factory, upgrade  # noqa: E402
from routing.storage.repository import store_predictions  # noqa: E402
from routing.suggest import EXPLAIN_WORDS, suggest  # noqa: E402

LAPOR10 = ROOT.parent / "shared" / "data" / "lapor10" / "lapor10.csv"
SAMPLE = ROOT / "data" / "sample" / "complaints.csv"
DEFAULT_MODEL = ROOT / "models" / "sample"
INTEGRATION_KEY = "bench-integration"
ADMIN_KEY = "bench-admin"
HEADERS = {"X-API-Key": INTEGRATION_KEY}
TOP_K = 3
BLOCK = 50  # complaints per alternation between HTTP and in-process
START_TIMEOUT_S = 180
# guards, not targets (issue "Simple core"): an admin's screen feels instant well below them
GOAL_P99_MS = 25.0
GOAL_OVERHEAD = 1.5
GOAL_BATCH_PER_S = 1000.0


@dataclass(frozen=True)
class Run:
    """Latencies (seconds) of one path at one concurrency, its wall time and CPU time."""

    name: str
    concurrency: int
    latencies: np.ndarray
    wall_s: float
    cpu_s: float

    @property
    def cpu_ms(self) -> float:
        """CPU per request: unlike latency, barely changed by other work on the machine."""
        return self.cpu_s / len(self.latencies) * 1000

    def ms(self, q: float) -> float:
        return float(np.percentile(self.latencies, q) * 1000)

    @property
    def per_s(self) -> float:
        return len(self.latencies) / self.wall_s


# --- inputs ---------------------------------------------------------------------------------


def load_texts(path: Path, text_col: str, seed: int = 0) -> list[str]:
    """Non-empty texts the API accepts, shuffled (the file's order may be sorted by agency)."""
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if text_col not in (reader.fieldnames or []):
            raise SystemExit(f"{path}: no column {text_col!r}")
        texts = [r[text_col] for r in reader if (r[text_col] or "").strip()]
    texts = [t for t in texts if len(t) <= MAX_TEXT_CHARS]
    if not texts:
        raise SystemExit(f"{path}: no usable texts in column {text_col!r}")
    random.Random(seed).shuffle(texts)
    return texts


def cycle(texts: Sequence[str], n: int, start: int = 0) -> list[str]:
    return [texts[(start + i) % len(texts)] for i in range(n)]


def batch_items(texts: Sequence[str], size: int, start: int = 0) -> list[str]:
    """Up to `size` texts from `start` on whose batch request stays under the body limit."""
    items: list[str] = []
    body = 64
    for text in cycle(texts, size, start):
        body += len(json.dumps({"text": text})) + 1
        if body > MAX_BODY_BYTES * 0.95:
            break
        items.append(text)
    return items


# --- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`python serve.py` on a free port with a SQLite file in `workdir`; SIGTERM on close."""

    def __init__(self, model: Path, workdir: Path, batch_workers: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "server.log"
        self.batch_workers = batch_workers
        env = {k: v for k, v in os.environ.items() if not k.startswith("ROUTING_")}
        env["ROUTING_API_KEYS"] = f"integration:{INTEGRATION_KEY},admin:{ADMIN_KEY}"
        env["ROUTING_BATCH_WORKERS"] = str(batch_workers)
        with self.log.open("wb") as err:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    str(ROOT / "serve.py"),
                    "--model",
                    str(model),
                    "--port",
                    str(self.port),
                    "--db",
                    f"sqlite:///{workdir / 'bench.db'}",
                ],
                cwd=workdir,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.log.read_text(errors="replace").strip().splitlines()[-5:]
                raise SystemExit("server exited at start-up:\n" + "\n".join(tail))
            try:
                ready = httpx.get(f"{self.url}/readyz", timeout=2)
                # batch workers load the model in the background: wait for them too
                if ready.status_code == 200 and ready.json()["batch_workers"] >= self.batch_workers:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"server not ready after {START_TIMEOUT_S} s")

    def cpu_seconds(self) -> float:
        """CPU time the server process used so far (Linux /proc; NaN elsewhere)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def resident_mb(self) -> tuple[float, list[float]]:
        """Resident memory (MB) of the server process and of each of its batch workers (Linux
        /proc; NaN and none elsewhere)."""

        def rss(pid: int) -> float:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                return float("nan")
            kb = next((line.split()[1] for line in status.splitlines() if line[:6] == "VmRSS:"), "")
            return int(kb) / 1024 if kb else float("nan")

        workers = []
        try:
            for task in Path(f"/proc/{self.process.pid}/task").iterdir():
                workers += [int(pid) for pid in (task / "children").read_text().split()]
        except OSError:
            pass

        def is_worker(pid: int) -> bool:  # not multiprocessing's resource tracker
            try:
                return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                return False

        return rss(self.process.pid), [rss(pid) for pid in workers if is_worker(pid)]

    def close(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()


# --- the three paths --------------------------------------------------------------------------


class HttpPath:
    """Single predictions over keep-alive connections, one connection per worker thread.

    Connections outlive the worker threads, so one is opened per worker for the whole run, as
    a client application with a connection pool would. The default client is the standard
    library's `http.client` (the request's JSON encoded, the answer's decoded): a lean client,
    so that what is measured is the service; `--client httpx` measures through httpx instead.
    """

    def __init__(
        self,
        url: str,
        cpu_seconds: Callable[[], float],
        include_similar: bool = False,
        client: str = "http.client",
    ) -> None:
        self.url = url
        self.cpu_seconds = cpu_seconds  # the server's, not this client's
        self.kind = client
        self.clients: dict[int, Any] = {}
        # the contract's request, plus similar past complaints when asked for
        self.extra = {"include_similar": True} if include_similar else {}

    def _connection(self, worker: int, fresh: bool = False) -> Any:
        if fresh or worker not in self.clients:
            if worker in self.clients:
                self.clients[worker].close()
            if self.kind == "httpx":
                self.clients[worker] = httpx.Client(base_url=self.url, headers=HEADERS, timeout=300)
            else:
                host, port = self.url.removeprefix("http://").rsplit(":", 1)
                self.clients[worker] = http.client.HTTPConnection(host, int(port), timeout=300)
        return self.clients[worker]

    def post(self, path: str, payload: dict, worker: int = 0) -> tuple[int, Any]:
        """Status and decoded JSON answer of one POST."""
        if self.kind == "httpx":
            response = self._connection(worker).post(path, json=payload)
            return response.status_code, response.json()
        body = json.dumps(payload).encode()
        headers = {**HEADERS, "Content-Type": "application/json"}

        def send(connection: http.client.HTTPConnection) -> tuple[int, Any]:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, json.loads(response.read())

        try:
            return send(self._connection(worker))
        except (http.client.RemoteDisconnected, ConnectionError):
            # an idle keep-alive connection the server closed: once more, on a new one
            return send(self._connection(worker, fresh=True))

    def __call__(self, text: str, worker: int = 0) -> None:
        status, answer = self.post(
            "/v1/predict", {"text": text, "top_k": TOP_K, **self.extra}, worker
        )
        if status != 200:
            raise SystemExit(f"/v1/predict answered {status}: {str(answer)[:200]}")

    def batch(self, texts: Sequence[str]) -> None:
        status, answer = self.post(
            "/v1/predict/batch", {"items": [{"text": t} for t in texts], "top_k": TOP_K}
        )
        if status != 200:
            raise SystemExit(f"/v1/predict/batch answered {status}: {str(answer)[:200]}")


class InProcess:
    """The service's work without HTTP: suggest, and optionally the same storage write."""

    def __init__(self, bundle: Bundle, db_url: str | None, similar: int = 0) -> None:
        self.bundle = bundle
        self.similar = similar  # past complaints added to single predictions
        self.sessions = None
        if db_url is not None:
            engine = make_engine(db_url)
            upgrade(engine)
            self.sessions = session_factory(engine)

    def __call__(self, text: str, worker: int = 0) -> None:
        self.batch([text], similar=self.similar)

    def cpu_seconds(self) -> float:
        """This process's CPU time, all threads (library thread pools too), as for the server."""
        return time.process_time()

    def batch(self, texts: Sequence[str], similar: int = 0) -> None:
        # the same sklearn settings as the service's predict handler: the same work
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            predictions = suggest(
                self.bundle, texts, top_k=TOP_K, explain_words=EXPLAIN_WORDS, similar=similar
            )
        if self.sessions is not None:
            with self.sessions() as session:
                rows = [(t, None, p) for t, p in zip(texts, predictions, strict=True)]
                store_predictions(session, rows)


def warmed(path: Path) -> Bundle:
    """The bundle loaded and warmed up as the service does at start-up."""
    bundle = load_bundle(path)
    warm_up(bundle)
    return bundle


# --- measuring ------------------------------------------------------------------------------


def timed(call: Callable[[str, int], None], texts: Sequence[str], concurrency: int) -> np.ndarray:
    """Latency of each call; `concurrency` threads share the texts and start together."""
    latencies = np.zeros(len(texts))
    barrier = threading.Barrier(concurrency)

    def worker(offset: int) -> None:
        barrier.wait()
        for i in range(offset, len(texts), concurrency):
            start = time.perf_counter()
            call(texts[i], offset)
            latencies[i] = time.perf_counter() - start

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def side_by_side(
    paths: dict[str, HttpPath | InProcess], texts: Sequence[str], concurrency: int
) -> list[Run]:
    """Every path on the same complaints, alternating in blocks so machine noise hits all."""
    block = BLOCK * concurrency
    collected: dict[str, list[np.ndarray]] = {name: [] for name in paths}
    walls = dict.fromkeys(paths, 0.0)
    cpus = dict.fromkeys(paths, 0.0)
    for start in range(0, len(texts), block):
        chunk = texts[start : start + block]
        for name, path in paths.items():
            t0, cpu0 = time.perf_counter(), path.cpu_seconds()
            collected[name].append(timed(path, chunk, concurrency))
            walls[name] += time.perf_counter() - t0
            cpus[name] += path.cpu_seconds() - cpu0
    return [
        Run(name, concurrency, np.concatenate(collected[name]), walls[name], cpus[name])
        for name in paths
    ]


def batch_rates(
    paths: dict[str, Callable[[Sequence[str]], None]],
    texts: Sequence[str],
    size: int,
    repeats: int,
    start: int,
) -> tuple[int, dict[str, list[float]]]:
    """Complaints per second of each path, alternating, `repeats` batches of `size` texts:
    each batch the next texts from `start` on, the same batch for every path. Returns the
    smallest batch size and the rates."""
    rates: dict[str, list[float]] = {name: [] for name in paths}
    smallest = size
    for k in range(repeats):
        items = batch_items(texts, size, start + k * size)
        smallest = min(smallest, len(items))
        for name, call in paths.items():
            t0 = time.perf_counter()
            call(items)
            rates[name].append(len(items) / (time.perf_counter() - t0))
    return smallest, rates


# --- report ---------------------------------------------------------------------------------


def latency_table(runs: Sequence[Run]) -> list[str]:
    lines = [
        "| path | concurrency | requests | p50 ms | p95 ms | p99 ms | req/s | CPU ms/req |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        lines.append(
            f"| {run.name} | {run.concurrency} | {len(run.latencies)} | {run.ms(50):.2f} | "
            f"{run.ms(95):.2f} | {run.ms(99):.2f} | {run.per_s:.0f} | {run.cpu_ms:.2f} |"
        )
    return lines


def overhead_table(runs: Sequence[Run]) -> list[str]:
    lines = [
        "| concurrency | HTTP ÷ model + storage, p50 | p99 | CPU | HTTP ÷ model only, p50 | p99 |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for c in sorted({r.concurrency for r in runs}):
        by = {r.name: r for r in runs if r.concurrency == c}
        http, stored, model = by[HTTP], by[STORED], by[MODEL]
        lines.append(
            f"| {c} | {http.ms(50) / stored.ms(50):.2f}× | {http.ms(99) / stored.ms(99):.2f}× | "
            f"{http.cpu_ms / stored.cpu_ms:.2f}× | "
            f"{http.ms(50) / model.ms(50):.2f}× | {http.ms(99) / model.ms(99):.2f}× |"
        )
    return lines


def batch_table(rates: dict[str, list[float]], items: int) -> list[str]:
    lines = [
        "| path | items | complaints/s (median) | min | max |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, values in rates.items():
        lines.append(
            f"| {name} | {items} | {np.median(values):.0f} | {min(values):.0f} | "
            f"{max(values):.0f} |"
        )
    return lines


def goals(runs: Sequence[Run], rates: dict[str, list[float]]) -> list[str]:
    by = {(r.name, r.concurrency): r for r in runs}
    http, stored = by[(HTTP, 1)], by[(STORED, 1)]
    checks = [
        (f"p99 ≤ {GOAL_P99_MS:g} ms at concurrency 1", http.ms(99) <= GOAL_P99_MS,
         f"{http.ms(99):.2f} ms"),
        (f"overhead ≤ {GOAL_OVERHEAD:g}× at p99 (vs model + storage)",
         http.ms(99) / stored.ms(99) <= GOAL_OVERHEAD, f"{http.ms(99) / stored.ms(99):.2f}×"),
        (f"batch ≥ {GOAL_BATCH_PER_S:,.0f} complaints/s",
         float(np.median(rates[HTTP_BATCH])) >= GOAL_BATCH_PER_S,
         f"{np.median(rates[HTTP_BATCH]):.0f}/s"),
    ]  # fmt: skip
    return [f"- {'met' if ok else 'MISSED'}: {goal} ({value})" for goal, ok, value in checks]


HTTP = "HTTP (model + storage)"
MODEL = "in-process, model only"
STORED = "in-process, model + storage"
HTTP_BATCH = "HTTP /v1/predict/batch"
INPROC_BATCH = "in-process suggest + store"


LENGTH_BANDS = ((0, 300), (300, 1000), (1000, 2000), (2000, None))


def length_table(runs: Sequence[Run], texts: Sequence[str]) -> list[str]:
    """Latency at concurrency 1 by complaint length: where the p99 comes from."""
    lengths = np.asarray([len(t) for t in texts])
    ones = [r for r in runs if r.concurrency == 1]
    lines = [
        "Concurrency 1 by complaint length (characters), p50 / p99 ms:\n",
        "| length | complaints | " + " | ".join(r.name for r in ones) + " |",
        "|---|---:|" + "---:|" * len(ones),
    ]
    for low, high in LENGTH_BANDS:
        band = (lengths >= low) & (lengths < (high if high is not None else np.inf))
        if not band.any():
            continue
        cells = [
            f"{np.percentile(r.latencies[band], 50) * 1000:.1f} / "
            f"{np.percentile(r.latencies[band], 99) * 1000:.1f}"
            for r in ones
        ]
        label = f"{low:,}–{high:,}" if high is not None else f"{low:,}+"
        lines.append(f"| {label} | {int(band.sum())} | " + " | ".join(cells) + " |")
    slowest = np.zeros(len(lengths), bool)
    for r in ones:
        slowest |= r.latencies >= np.percentile(r.latencies, 99)
    lines.append(
        f"\nThe slowest 1 % of each path: median {int(np.median(lengths[slowest])):,} characters "
        f"(all complaints: {int(np.median(lengths)):,})."
    )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="bundle directory")
    parser.add_argument(
        "--texts", type=Path, default=None, help="CSV of complaints (default: LAPOR-10 or sample)"
    )
    parser.add_argument("--text-col", default="text", help="column holding the complaint text")
    parser.add_argument("--requests", type=int, default=1000, help="requests per concurrency")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured requests per path")
    parser.add_argument("--batch-size", type=int, default=1000, help="complaints per batch")
    parser.add_argument("--batch-repeats", type=int, default=5, help="batches per path")
    parser.add_argument("--concurrency", default="1,8", help="comma-separated thread counts")
    parser.add_argument(
        "--batch-workers",
        type=int,
        default=None,
        help="the server's ROUTING_BATCH_WORKERS (default: the service's, one per core beyond "
        "the first)",
    )
    parser.add_argument(
        "--similar",
        action="store_true",
        help=f"single predictions ask for the {SIMILAR_DEFAULT} similar past complaints "
        "(include_similar, as the admin console does)",
    )
    parser.add_argument(
        "--client",
        choices=["http.client", "httpx"],
        default="http.client",
        help="HTTP client of the benchmark (default: the standard library's, the leanest)",
    )
    add_results_arguments(parser)
    args = parser.parse_args(argv)
    with recorded("latency", argv, args.results):
        return run(args)


def run(args: argparse.Namespace) -> int:

    texts_path = args.texts or (LAPOR10 if LAPOR10.is_file() else SAMPLE)
    texts = load_texts(texts_path, args.text_col)
    source = "LAPOR-10 (real complaints)" if texts_path == LAPOR10 else texts_path.name
    levels = [int(c) for c in args.concurrency.split(",")]
    model_dir = args.model.resolve()  # the server runs in a temporary folder
    bundle = load_bundle(resolve_bundle_dir(model_dir))  # a registry: its current version
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="routing-bench-") as tmp:
        workdir = Path(tmp)
        workers = default_workers() if args.batch_workers is None else args.batch_workers
        server = Server(model_dir, workdir, workers)
        try:
            server.wait_ready()
            http = HttpPath(
                server.url, server.cpu_seconds, include_similar=args.similar, client=args.client
            )
            similar = SIMILAR_DEFAULT if args.similar else 0
            single = {
                HTTP: http,
                # each path loads its own copy, its word caches warmed as the service's are
                # at start-up (warm_up): no path inherits another's
                MODEL: InProcess(warmed(bundle.path), None, similar),
                STORED: InProcess(
                    warmed(bundle.path), f"sqlite:///{workdir / 'inprocess.db'}", similar
                ),
            }
            # warm-up: connections, lazily built tables, the OS page cache of both databases
            side_by_side(single, cycle(texts, args.warmup, start=len(texts) // 2), 1)
            runs: list[Run] = []
            measured = cycle(texts, args.requests)
            for c in levels:
                runs += side_by_side(single, measured, c)
            # each repeat sends complaints no path has seen yet (after those measured above):
            # a bulk import meets new words, and word caches must not flatter either path
            first = args.warmup + args.requests
            batches = {HTTP_BATCH: http.batch, INPROC_BATCH: single[STORED].batch}
            for call in batches.values():  # warm-up
                call(batch_items(texts, 50, first))
            items, rates = batch_rates(
                batches, texts, args.batch_size, args.batch_repeats, first + 50
            )
            # the same batches again: the steady state of a service whose caches hold them
            _, warm = batch_rates(batches, texts, args.batch_size, args.batch_repeats, first + 50)
            rates |= {f"{name}, again": values for name, values in warm.items()}
            memory = server.resident_mb()
        finally:
            exit_code = server.close()

    print(f"## Service latency — model {bundle.model_version} ({len(bundle.labels)} agencies)\n")
    median_chars = int(np.median([len(t) for t in texts]))
    load_after = os.getloadavg()[0]
    busy = " (over the core count: other work shared the CPUs)" if load_after > cores else ""
    print(
        f"Texts: {source}, {len(texts)} complaints (median {median_chars} characters). "
        f"{cores} CPU cores; top_k {TOP_K}, explanations of {EXPLAIN_WORDS} words; "
        + (
            f"single predictions with {SIMILAR_DEFAULT} similar past complaints (--similar); "
            if args.similar
            else "single predictions as the contract's request (no similar past complaints); "
        )
        + f"client {args.client}, keep-alive. SQLite (WAL, synchronous=FULL) on disk. "
        f"Load average {load_before:.1f} before, "
        f"{load_after:.1f} after{busy}.\n"
    )
    print("\n".join(latency_table(runs)) + "\n")
    print("Overhead of the service (HTTP, validation, auth, logging, metrics):\n")
    print("\n".join(overhead_table(runs)) + "\n")
    print("\n".join(length_table(runs, measured)) + "\n")
    print("\n".join(batch_table(rates, items)) + "\n")
    print(
        f"Batches: {args.batch_repeats} per path, each of complaints neither path had seen, "
        'then the same batches again ("again": words already in the caches); the server '
        f"shares each batch with {workers} batch worker process(es) (ROUTING_BATCH_WORKERS), "
        "the in-process path runs in one process. The goal is judged on first-seen "
        "complaints.\n"
    )
    server_mb, worker_mb = memory
    print(
        f"Resident memory after the run: server {server_mb:.0f} MB, batch worker(s) "
        + (", ".join(f"{mb:.0f} MB" for mb in worker_mb) or "none")
        + ".\n"
    )
    print("\n".join(goals(runs, rates)))
    print(f"\nserver exit code after SIGTERM: {exit_code}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
