"""Scale: `routing predict` on the local engine and on Ray with 1 and 2 CPUs, the driver's
memory as the input grows, and whether Ray's answers equal the local ones on LAPOR-10 for
predict, evaluate and audit.

The corpus is generated, never stored: LAPOR-10 texts resampled with light perturbation (a few
words dropped, two neighbours swapped, case changed), `--rows` complaints streamed to CSV shards
in a temporary folder; its first `--small-rows` and first `--startup-rows` complaints are
corpora of their own. Throughput: each configuration (local; a local Ray of 1 CPU; of 2 CPUs,
reading included) runs the real command in a subprocess on the whole corpus, side by side and
`--repeats` times, the figures being medians; the start-up corpus measures what a run costs
before its first complaint (starting Ray, loading the bundle in each worker), so that the rate
after start-up can be told apart. Memory: Ray with 2 CPUs on the whole corpus against its runs
on the small corpus. While a run goes, the process tree under it is read from /proc:
the peak memory (VmHWM) of the driver and of each Ray worker, and the CPU seconds of Ray's own
processes (GCS, raylet, agents, Ray Data's actors); /proc/stat gives the CPU that other work
on the machine took meanwhile.

How throughput would grow with nodes is a projection from the measured rate per worker and
the measured 1 → 2 CPU speed-up, not a measurement. Results: benchmarks/results/scale.md
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
CONFIGS = (("local", None), ("ray", 1), ("ray", 2))  # (engine, CPUs of the local Ray)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--text-col", default="text")
    parser.add_argument("--label-col", default="agency")
    parser.add_argument("--model", type=Path, help="bundle to use (default: train on --data)")
    parser.add_argument("--rows", type=int, default=200_000, help="generated complaints")
    parser.add_argument(
        "--small-rows", type=int, default=20_000, help="the memory reference (its first rows)"
    )
    # a few blocks per worker: a 2-CPU run on fewer would not wait for its second worker
    parser.add_argument(
        "--startup-rows", type=int, default=2_000, help="the start-up corpus (its first rows)"
    )
    parser.add_argument("--shard-rows", type=int, default=5_000, help="complaints per shard")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-same-answers", action="store_true", help="skip the LAPOR-10 check")
    add_results_arguments(parser)
    args = parser.parse_args(argv)
    if not args.data.is_file():
        sys.exit(f"{args.data} not found: this benchmark needs ../shared/data (LAPOR-10)")
    if not 0 < args.startup_rows < args.small_rows <= args.rows:
        sys.exit("need 0 < --startup-rows < --small-rows <= --rows")
    with recorded("scale", argv, args.results):
        run(args)


def run(args: argparse.Namespace) -> None:
    import ray

    with tempfile.TemporaryDirectory(prefix="scale-") as tmp:
        work = Path(tmp)
        model = args.model or train(args, work / "model")
        corpora = generate(args, work)
        print(
            f"Corpus: {args.rows:,} complaints generated from {args.data.name} in CSV shards of "
            f"{args.shard_rows:,}; its first {args.small_rows:,} for the memory reference and "
            f"first {args.startup_rows:,} for start-up. `routing predict` with its defaults "
            f"(top 3, no explanations); Ray {ray.__version__}, a local Ray of `--num-cpus` CPUs "
            f"(an actor each, reading included); {os.cpu_count()} CPUs on this machine\n"
        )
        runs: dict[tuple[str, int | None, int], list[dict]] = {}

        def predict(engine: str, cpus: int | None, rows: int) -> None:
            out = work / f"out-{engine}-{cpus}-{rows}.jsonl"
            result = measure(predict_command(corpora[rows], model, out, engine, cpus))
            runs.setdefault((engine, cpus, rows), []).append(result)
            print(
                f"<!-- {engine} {cpus or ''} {rows} rows {result['seconds']:.1f} s, other work "
                f"{result['others']:.2f} CPUs -->",
                file=sys.stderr,
            )

        for _ in range(args.repeats):
            for engine, cpus in CONFIGS:
                predict(engine, cpus, args.startup_rows)
                predict(engine, cpus, args.rows)
            if args.rows > args.small_rows:
                predict("ray", 2, args.small_rows)
        report(args, runs)
        if not args.no_same_answers:
            same_answers(args, model, work)


def train(args: argparse.Namespace, out: Path) -> Path:
    routing(
        "train", args.data, "--text-col", args.text_col, "--label-col", args.label_col,
        "--out", out, "-q",
    )  # fmt: skip
    return out


def generate(args: argparse.Namespace, work: Path) -> dict[int, Path]:
    """Folders of CSV shards: the generated corpus (`--rows`) and its first `--small-rows` and
    `--startup-rows` complaints, by size; a shard at a time, so the corpus is never in memory.
    """
    frame = pd.read_csv(args.data, dtype=str, keep_default_na=False)
    texts, agencies = frame[args.text_col].tolist(), frame[args.label_col].tolist()
    rng = np.random.default_rng(args.seed)
    sizes = sorted({args.rows, args.small_rows, args.startup_rows})
    folders = {rows: work / f"corpus-{rows}" for rows in sizes}
    for folder in folders.values():
        folder.mkdir()
    for shard, start in enumerate(range(0, args.rows, args.shard_rows)):
        picks = rng.integers(0, len(texts), min(args.shard_rows, args.rows - start))
        part = pd.DataFrame(
            {
                "id": [f"g{start + i:07d}" for i in range(len(picks))],
                "text": [perturb(texts[i], rng) for i in picks],
                "agency": [agencies[i] for i in picks],
            }
        )
        for rows, folder in folders.items():
            if start < rows:
                part.head(rows - start).to_csv(folder / f"part-{shard:05d}.csv", index=False)
    return folders


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
    """Run `command`; its wall time, the driver's and each worker's peak memory (MiB), the CPU
    seconds of Ray's own processes, read from /proc while it runs, and the CPUs that other
    work on the machine used meanwhile (on average)."""
    busy_before = machine_busy()
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
    busy = machine_busy() - busy_before
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
        # the run's own CPU is read last at up to 0.3 s before each process ended: a bound
        "others": max(0.0, busy - sum(p["cpu"] for p in seen.values())) / seconds,
    }


def machine_busy() -> float:
    """CPU seconds this machine has spent on anything but idling, since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    idle, iowait = fields[3], fields[4]
    return (sum(fields) - idle - iowait) / CLK_TCK


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

    rows, startup = args.rows, args.startup_rows
    rates: dict[tuple[str, int | None], tuple[float, float]] = {}
    print(f"### Throughput: {rows:,} complaints (median of {args.repeats} runs, side by side)\n")
    print(
        "| engine | CPUs | wall s (runs) | complaints/s | start-up s | complaints/s after "
        "start-up | other work, CPUs |"
    )
    print("|---|---|---|---|---|---|---|")
    for engine, cpus in CONFIGS:
        seconds = median("seconds", (engine, cpus, rows))
        begin = median("seconds", (engine, cpus, startup))
        rates[engine, cpus] = rows / seconds, (rows - startup) / (seconds - begin)
        all_runs = ", ".join(f"{r['seconds']:.0f}" for r in runs[engine, cpus, rows])
        others = statistics.median(r["others"] for r in runs[engine, cpus, rows])
        whole_rate, after_rate = rates[engine, cpus]
        print(
            f"| {engine} | {cpus or 1} | {seconds:.1f} ({all_runs}) | {whole_rate:,.0f} "
            f"| {begin:.1f} | {after_rate:,.0f} | {others:.2f} |"
        )
    whole, after = (rates["ray", 2][i] / rates["ray", 1][i] for i in (0, 1))
    print(
        f"\nRay with 2 CPUs vs 1 CPU: {whole:.2f}× the throughput of the whole run, {after:.2f}× "
        "after start-up (Done when: ≥ 1.5×). Start-up: the median run on the first "
        f"{startup:,} complaints. Other work: the CPUs that the rest of the machine used "
        "during the run, on average (the machine has "
        f"{os.cpu_count()}).\n"
    )

    print("### Memory and Ray's own CPU (medians of the runs)\n")
    print(
        "| engine | CPUs | complaints | runs | driver peak MiB | worker peak MiB "
        "| Ray's own CPU s |"
    )
    print("|---|---|---|---|---|---|---|")
    for engine, cpus, rows in sorted(runs, key=lambda c: (c[0], c[1] or 0, c[2])):
        config = (engine, cpus, rows)
        worker = f"{median('worker_mib', config):.0f}" if engine == "ray" else "–"
        own = f"{median('ray_cpu_s', config):.1f}" if engine == "ray" else "–"
        print(
            f"| {engine} | {cpus or 1} | {rows:,} | {len(runs[config])} "
            f"| {median('driver_mib', config):.0f} | {worker} | {own} |"
        )
    if args.rows > args.small_rows:
        big = median("driver_mib", ("ray", 2, args.rows))
        little = median("driver_mib", ("ray", 2, args.small_rows))
        seconds = median("seconds", ("ray", 2, args.rows))
        print(
            f"\nRay driver peak at {args.rows:,} / at {args.small_rows:,} complaints (2 CPUs): "
            f"{big / little:.2f}× (Done when: ≤ 1.2×). The {args.rows:,} complaints took "
            f"{seconds:.0f} s ({args.rows / seconds:,.0f} complaints/s).\n"
        )

    per_cpu = rates["ray", 2][1] / 2
    efficiency = after / 2
    print("### Projection to nodes (not measured: from the rates above)\n")
    print(
        f"Measured here: {per_cpu:,.0f} complaints/s per CPU after start-up with 2 CPUs, a "
        f"1 → 2 CPU scaling efficiency of {efficiency:.0%}. If each added CPU keeps that rate "
        "and efficiency, and storage and the driver (which writes every line) keep up:\n"
    )
    print("| nodes × CPUs | projected complaints/s | 1 million complaints in |")
    print("|---|---|---|")
    for nodes, cpus in ((1, 16), (4, 16), (16, 16)):
        rate = per_cpu * nodes * cpus * min(1.0, efficiency)
        print(f"| {nodes} × {cpus} | {rate:,.0f} | {1e6 / rate / 60:.0f} min |")
    print()


def same_answers(args: argparse.Namespace, model: Path, work: Path) -> None:
    """predict, evaluate and audit on LAPOR-10 with each engine: are the answers the same?"""
    print(f"### Ray and local answers on {args.data.name} (Ray with 2 CPUs)\n")
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
    rows, worst, differ = compare_predictions(lp, rp)
    print(
        f"| predict --explain 3 | {rows:,} rows | {'NO' if differ else 'yes'}: {differ:,} rows "
        f"differ beyond confidences within 1e-9 (largest confidence difference {worst:.1e}) |"
    )
    same_metrics = json.loads(lm.read_text()) == json.loads(rm.read_text())
    print(f"| evaluate | metrics JSON | {'yes' if same_metrics else 'NO'} |")
    local_s, ray_s = (pd.read_csv(p, dtype=str, keep_default_na=False) for p in (ls, rs))
    print(f"| audit | {len(local_s):,} suspects | {'yes' if local_s.equals(ray_s) else 'NO'} |")
    print()


def compare_predictions(local: Path, ray: Path) -> tuple[int, float, int]:
    """Rows compared, the largest confidence difference, and the rows that differ in anything
    but confidences within 1e-9."""
    worst, differ, rows = 0.0, 0, 0
    with local.open(encoding="utf-8") as a, ray.open(encoding="utf-8") as b:
        for line_a, line_b in zip(a, b, strict=True):
            row_a, row_b = json.loads(line_a), json.loads(line_b)
            conf_a = [s.pop("confidence") for s in row_a["suggestions"]]
            conf_b = [s.pop("confidence") for s in row_b["suggestions"]]
            gap = max((abs(x - y) for x, y in zip(conf_a, conf_b, strict=False)), default=0.0)
            worst = max(worst, gap)
            differ += row_a != row_b or len(conf_a) != len(conf_b) or gap > 1e-9
            rows += 1
    return rows, worst, differ


if __name__ == "__main__":
    main()
