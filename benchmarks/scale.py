"""Scale: `routing predict` on the local engine and on Ray with 1 and 2 workers, and whether Ray's
answers equal the local ones on LAPOR-10 for predict, evaluate and audit.

The corpus is generated, never stored: LAPOR-10 texts resampled with light perturbation (a few
words dropped, two neighbours swapped, case changed), `--rows` complaints (and the first
`--small-rows` of them, to see whether the driver's memory grows with the input). Each
configuration runs the real command in a subprocess, side by side (local, Ray 1 worker, Ray 2
workers, then again), `--repeats` times; the figures are medians. While a run goes, the process
tree under it is read from /proc: the peak memory (VmHWM) of the driver and of each Ray worker,
and the CPU seconds of Ray's own processes (GCS, raylet, agents, Ray Data's actors).

How throughput would grow with nodes is a projection from the measured rate per worker and
the measured 1 → 2 worker speed-up, not a measurement. Results: benchmarks/results/scale.md
(`benchmarks/record.py`); no complaint text is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.record import add_results_arguments, recorded  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "lapor10" / "lapor10.csv"
# Ray's own processes and actors; every other process under the driver is a worker
RAY_OWN = (
    "gcs_server",
    "raylet",
    "ray::DashboardAgent",
    "ray::RuntimeEnvAgent",
    "ray::_StatsActor",
    "ray::_AutoscalingCoordinatorActor",
    "ray::ActorLocationTracker",
    "ray/_private/log_monitor.py",
    "ray/autoscaler",
    "ray/dashboard",
)
CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = 1024**2


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--text-col", default="text")
    parser.add_argument("--label-col", default="agency")
    parser.add_argument("--model", type=Path, help="bundle to use (default: train on --data)")
    parser.add_argument("--rows", type=int, default=200_000, help="generated complaints")
    parser.add_argument("--small-rows", type=int, default=20_000, help="the smaller corpus")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-same-answers", action="store_true", help="skip the LAPOR-10 check")
    add_results_arguments(parser)
    args = parser.parse_args(argv)
    if not args.data.is_file():
        sys.exit(f"{args.data} not found: this benchmark needs ../shared/data (LAPOR-10)")
    with recorded("scale", argv, args.results):
        run(args)


def run(args: argparse.Namespace) -> None:
    import ray

    with tempfile.TemporaryDirectory(prefix="scale-") as tmp:
        work = Path(tmp)
        model = args.model or train(args, work / "model")
        big, small = generate(args, work)
        print(
            f"Corpus: {args.rows:,} complaints generated from {args.data.name} (and the first "
            f"{args.small_rows:,}); `routing predict` with its defaults (top 3, no explanations); "
            f"Ray {ray.__version__} (a local Ray for N workers has N + 1 CPUs: one reads the "
            "input); "
            f"{os.cpu_count()} CPUs on this machine, shared with other work while it ran\n"
        )
        configs = [("local", None), ("ray", 1), ("ray", 2)]
        runs: dict[tuple[str, int | None, int], list[dict]] = {}
        for repeat in range(args.repeats):
            for engine, cpus in configs:
                for path, rows in ((big, args.rows), (small, args.small_rows)):
                    if rows == args.small_rows and engine != "ray":
                        continue  # the small corpus is there for the Ray driver's memory
                    out = work / f"out-{engine}-{cpus}-{rows}.jsonl"
                    result = measure(predict_command(path, model, out, engine, cpus))
                    runs.setdefault((engine, cpus, rows), []).append(result)
                    print(
                        f"<!-- repeat {repeat + 1}: {engine} {cpus or ''} {rows} rows "
                        f"{result['seconds']:.1f} s -->",
                        file=sys.stderr,
                    )
        report(args, runs)
        if not args.no_same_answers:
            same_answers(args, model, work)


def train(args: argparse.Namespace, out: Path) -> Path:
    routing(
        "train", args.data, "--text-col", args.text_col, "--label-col", args.label_col,
        "--out", out, "-q",
    )  # fmt: skip
    return out


def generate(args: argparse.Namespace, work: Path) -> tuple[Path, Path]:
    """The generated corpus (`--rows`) and its first `--small-rows`, as CSV files."""
    frame = pd.read_csv(args.data, dtype=str, keep_default_na=False)
    texts = frame[args.text_col].tolist()
    rng = np.random.default_rng(args.seed)
    picks = rng.integers(0, len(texts), args.rows)
    corpus = pd.DataFrame(
        {
            "id": [f"g{i:07d}" for i in range(args.rows)],
            "text": [perturb(texts[i], rng) for i in picks],
            "agency": frame[args.label_col].to_numpy()[picks],
        }
    )
    big, small = work / "corpus.csv", work / "corpus-small.csv"
    corpus.to_csv(big, index=False)
    corpus.head(args.small_rows).to_csv(small, index=False)
    return big, small


def perturb(text: str, rng: np.random.Generator) -> str:
    """A light variation of a complaint: words dropped, two neighbours swapped, case changed."""
    words = [w for w in text.split() if rng.random() >= 0.05] or text.split()
    if len(words) > 2 and rng.random() < 0.3:
        i = int(rng.integers(0, len(words) - 1))
        words[i], words[i + 1] = words[i + 1], words[i]
    out = " ".join(words)
    return out.lower() if rng.random() < 0.2 else out


def routing(*args) -> None:
    subprocess.run(cli() + [str(a) for a in args], check=True, env=env())


def cli() -> list[str]:
    return [sys.executable, "-c", "from routing.cli import main; main()"]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}


def predict_command(data: Path, model: Path, out: Path, engine: str, cpus: int | None):
    command = [*cli(), "predict", str(data), "--model", str(model), "--text-col", "text"]
    command += ["--id-col", "id", "--out", str(out), "-q", "--engine", engine]
    return command + (["--num-cpus", str(cpus)] if cpus else [])


def measure(command: list[str]) -> dict:
    """Run `command`; its wall time, the driver's and each worker's peak memory (MiB) and the
    CPU seconds of Ray's own processes, read from /proc while it runs."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env())
    seen: dict[int, dict] = {}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for pid in descendants(proc.pid):
                info = read_proc(pid)
                if info:  # peak and CPU only grow (an exited process reads as zero)
                    last = seen.get(pid, {"hwm": 0.0, "cpu": 0.0, "names": set()})
                    seen[pid] = {
                        "hwm": max(last["hwm"], info["hwm"]),
                        "cpu": max(last["cpu"], info["cpu"]),
                        "names": last["names"] | {info["name"]} - {""},
                    }
            done.wait(0.3)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    code = proc.wait()
    seconds = time.perf_counter() - start
    done.set()
    watcher.join()
    if code != 0:
        raise SystemExit(f"failed ({code}): {' '.join(command[3:])}")
    driver = seen.get(proc.pid, {"hwm": 0.0})
    own = [p for pid, p in seen.items() if pid != proc.pid and is_ray_own(p["names"])]
    workers = [p for pid, p in seen.items() if pid != proc.pid and not is_ray_own(p["names"])]
    return {
        "seconds": seconds,
        "driver_mib": driver["hwm"] / MIB,
        "worker_mib": max((p["hwm"] for p in workers), default=0.0) / MIB,
        "workers": len(workers),
        "ray_cpu_s": sum(p["cpu"] for p in own),
    }


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def read_proc(pid: int) -> dict | None:
    """Peak resident memory (bytes), CPU seconds and command line of a process."""
    try:
        status = (Path("/proc") / str(pid) / "status").read_text()
        stat = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        cmdline = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return None
    hwm = next((line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")), 0)
    return {
        "hwm": float(hwm) * 1024,
        "cpu": (int(stat[11]) + int(stat[12])) / CLK_TCK,  # utime + stime
        "name": cmdline.decode(errors="replace")[:200],
    }


def is_ray_own(names: set[str]) -> bool:
    return all(any(marker in name for marker in RAY_OWN) for name in names)


def report(args: argparse.Namespace, runs: dict) -> None:
    def median(key: str, config) -> float:
        return statistics.median(r[key] for r in runs[config])

    local = median("seconds", ("local", None, args.rows))
    print(f"### Throughput: {args.rows:,} complaints (median of {args.repeats} runs)\n")
    print("| engine | workers | wall s (runs) | complaints/s | vs local |")
    print("|---|---|---|---|---|")
    for engine, cpus in (("local", None), ("ray", 1), ("ray", 2)):
        config = (engine, cpus, args.rows)
        seconds = median("seconds", config)
        all_runs = ", ".join(f"{r['seconds']:.0f}" for r in runs[config])
        print(
            f"| {engine} | {cpus or 1} | {seconds:.1f} ({all_runs}) | {args.rows / seconds:,.0f} "
            f"| {local / seconds:.2f}× |"
        )
    one, two = median("seconds", ("ray", 1, args.rows)), median("seconds", ("ray", 2, args.rows))
    speedup = one / two
    print(f"\nRay 2 workers vs 1: {speedup:.2f}× the throughput (Done when: ≥ 1.5×)\n")

    print(f"### Memory and Ray's own CPU (medians of {args.repeats} runs)\n")
    print("| engine | workers | complaints | driver peak MiB | worker peak MiB | Ray's own CPU s |")
    print("|---|---|---|---|---|---|")
    for engine, cpus, rows in sorted(runs, key=str):
        config = (engine, cpus, rows)
        worker = f"{median('worker_mib', config):.0f}" if engine == "ray" else "–"
        own = f"{median('ray_cpu_s', config):.1f}" if engine == "ray" else "–"
        print(
            f"| {engine} | {cpus or 1} | {rows:,} | {median('driver_mib', config):.0f} "
            f"| {worker} | {own} |"
        )
    big = median("driver_mib", ("ray", 2, args.rows))
    little = median("driver_mib", ("ray", 2, args.small_rows))
    print(
        f"\nRay driver peak at {args.rows:,} / at {args.small_rows:,} complaints (2 workers): "
        f"{big / little:.2f}× (Done when: ≤ 1.2×)\n"
    )

    per_cpu = args.rows / two / 2
    efficiency = speedup / 2
    print("### Projection to nodes (not measured: from the rates above)\n")
    print(
        f"Measured here: {per_cpu:,.0f} complaints/s per worker with 2 workers, a 1 → 2 worker "
        f"scaling efficiency of {efficiency:.0%}. If each added CPU keeps that rate and "
        "efficiency, and storage and the driver (which writes every line) keep up:\n"
    )
    print("| nodes × CPUs | projected complaints/s | 1 million complaints in |")
    print("|---|---|---|")
    for nodes, cpus in ((1, 16), (4, 16), (16, 16)):
        rate = per_cpu * nodes * cpus * min(1.0, efficiency)
        print(f"| {nodes} × {cpus} | {rate:,.0f} | {1e6 / rate / 60:.0f} min |")
    print()


def same_answers(args: argparse.Namespace, model: Path, work: Path) -> None:
    """predict, evaluate and audit on LAPOR-10 with each engine: are the answers the same?"""
    print(f"### Ray and local answers on {args.data.name} (Ray with 2 workers)\n")
    print("| verb | compared | same |")
    print("|---|---|---|")
    outputs = {}
    for engine in ("local", "ray"):
        ray_args = ["--engine", engine] + (["--num-cpus", "2"] if engine == "ray" else [])
        data, cols = args.data, ["--text-col", args.text_col]
        labelled = [*cols, "--label-col", args.label_col]
        pred, metrics, suspects = (work / f"{engine}.{s}" for s in ("jsonl", "json", "csv"))
        routing("predict", data, "--model", model, *cols, "--out", pred, "--explain", "3",
                "-q", *ray_args)  # fmt: skip
        routing("evaluate", data, "--model", model, *labelled, "--json", metrics, "-q", *ray_args)
        routing("audit", data, *labelled, "--out", suspects, "-q", *ray_args)
        outputs[engine] = (pred, metrics, suspects)
    (lp, lm, ls), (rp, rm, rs) = outputs["local"], outputs["ray"]
    rows, worst, same_rows = compare_predictions(lp, rp)
    print(
        f"| predict --explain 3 | {rows:,} rows | {'yes' if same_rows else 'NO'} "
        f"(largest confidence difference {worst:.1e}) |"
    )
    same_metrics = json.loads(lm.read_text()) == json.loads(rm.read_text())
    print(f"| evaluate | metrics JSON | {'yes' if same_metrics else 'NO'} |")
    local_s, ray_s = (pd.read_csv(p, dtype=str, keep_default_na=False) for p in (ls, rs))
    print(f"| audit | {len(local_s):,} suspects | {'yes' if local_s.equals(ray_s) else 'NO'} |")
    print()


def compare_predictions(local: Path, ray: Path) -> tuple[int, float, bool]:
    """Rows compared, the largest confidence difference, and whether all else is identical."""
    worst, same, rows = 0.0, True, 0
    with local.open(encoding="utf-8") as a, ray.open(encoding="utf-8") as b:
        for line_a, line_b in zip(a, b, strict=True):
            row_a, row_b = json.loads(line_a), json.loads(line_b)
            conf_a = [s.pop("confidence") for s in row_a["suggestions"]]
            conf_b = [s.pop("confidence") for s in row_b["suggestions"]]
            worst = max([worst, *(abs(x - y) for x, y in zip(conf_a, conf_b, strict=True))])
            same = same and row_a == row_b
            rows += 1
    return rows, worst, same and worst <= 1e-9


if __name__ == "__main__":
    main()
