"""Bundle format benchmark: the model files as skops (the bundle's format) and as joblib pickles.

    python benchmarks/bundle_format.py --data /work/shared/data/lapor10/lapor10.csv
    python benchmarks/bundle_format.py --model models/sample --no-results

Trains a bundle on `--data` (or takes the bundle or registry `--model`), then for each model
file (router, similar-complaints index, out-of-scope detector) compares side by side: joblib
with compress=3 (the format before schema 4), skops as the bundle writes it (deflated, each
vectorizer's vocabulary an array of terms: `routing.vocabularies`), the same stored
uncompressed, and skops deflated with the vocabularies as dicts (schema 4, which skops writes
and loads entry by entry). Reports bytes on disk, load time from bytes already read (median
of `--repeats`, the formats alternating in each repeat) and whether the loaded objects answer
exactly alike; then the whole `load_bundle`, which is what a start-up or hot reload pays.
Prints Markdown and writes it to benchmarks/results/bundle_format.md (`benchmarks/record.py`).
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import skops.io as sio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.record import add_results_arguments, recorded  # noqa: E402
from routing.bundle import (  # noqa: E402
    NOVELTY_FILE,
    ROUTER_FILE,
    SIMILAR_FILE,
    TRUSTED_TYPES,
    load_bundle,
)
from routing.registry import resolve_bundle_dir  # noqa: E402
from routing.router import Router  # noqa: E402
from routing.similar import SimilarIndex  # noqa: E402
from routing.vocabularies import restore_vocabularies, vocabularies_as_arrays  # noqa: E402
from training.pipeline import train  # noqa: E402

SAMPLE = ROOT / "data" / "sample" / "complaints.csv"
FORMATS = (
    "joblib, compress=3",
    "skops, deflated (the bundle's)",
    "skops, stored",
    "skops, deflated, vocabularies as dicts (schema 4)",
)
PROBES = 200  # complaints the loaded objects are compared on


def encodings(obj: object, bundle_bytes: bytes) -> dict[str, bytes]:
    """`obj` in each format; the skops bytes the bundle holds stand for the bundle's format."""
    pickled = io.BytesIO()
    joblib.dump(obj, pickled, compress=3)
    with vocabularies_as_arrays(obj):
        stored = sio.dumps(obj)
    return {
        FORMATS[0]: pickled.getvalue(),
        FORMATS[1]: bundle_bytes,
        FORMATS[2]: stored,
        FORMATS[3]: sio.dumps(obj, compression=zipfile.ZIP_DEFLATED),
    }


def loader(name: str) -> Callable[[bytes], object]:
    if name.startswith("joblib"):
        return lambda data: joblib.load(io.BytesIO(data))

    def load(data: bytes) -> object:
        obj = sio.loads(data, trusted=list(TRUSTED_TYPES))
        restore_vocabularies(obj)  # does nothing to dicts
        return obj

    return load


@dataclass(frozen=True)
class Probe:
    """Complaints to compare answers on, normalized, and the bundle's router's probabilities."""

    texts: list[str]
    normalized: list[str]
    proba: np.ndarray


def answers(obj: object, probe: Probe) -> np.ndarray:
    """What a model file's object answers for the probe: probabilities, similarities, scores."""
    if isinstance(obj, Router):
        return obj.predict_proba(probe.texts)
    if isinstance(obj, SimilarIndex):
        return obj.similarity(probe.texts, proba=probe.proba)
    return obj.score(probe.normalized, probe.proba)


def compare(name: str, data: dict[str, bytes], probe: Probe, repeats: int) -> list[str]:
    """Table rows for one model file: size, median load time, identical answers."""
    seconds: dict[str, list[float]] = {f: [] for f in data}
    loaded: dict[str, object] = {}
    for _ in range(repeats):
        for fmt, payload in data.items():  # alternating, so drifting load hits each alike
            start = time.perf_counter()
            loaded[fmt] = loader(fmt)(payload)
            seconds[fmt].append(time.perf_counter() - start)
    reference = answers(loaded[FORMATS[0]], probe)
    rows = []
    for fmt, payload in data.items():
        same = np.array_equal(reference, answers(loaded[fmt], probe))
        base = statistics.median(seconds[FORMATS[0]])
        median = statistics.median(seconds[fmt])
        rows.append(
            f"| {name} | {fmt} | {len(payload) / 1e6:.2f} | {median:.3f} | "
            f"{median / base:.2f} | {'yes' if same else 'NO'} |"
        )
    return rows


def probe_texts(path: Path, text_col: str) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        texts = [row[text_col] for row in csv.DictReader(fh)]
    step = max(1, len(texts) // PROBES)
    return texts[::step][:PROBES]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="CSV (id,text,agency) to train a bundle on")
    source.add_argument("--model", type=Path, help="a bundle or registry instead of training")
    parser.add_argument("--texts", type=Path, help="CSV of complaints to compare answers on")
    parser.add_argument("--text-col", default="text", help="column holding the complaint text")
    parser.add_argument("--repeats", type=int, default=5, help="loads of each file per format")
    add_results_arguments(parser)
    args = parser.parse_args(argv)
    with recorded("bundle_format", argv, args.results), tempfile.TemporaryDirectory() as tmp:
        run(args, Path(tmp))


def run(args: argparse.Namespace, tmp: Path) -> None:
    if args.data is not None:
        bundle_dir = train(
            args.data, args.text_col, "agency", tmp / "bundle", id_col="id"
        ).bundle_path
    else:
        bundle_dir = resolve_bundle_dir(args.model)
    texts = probe_texts(args.texts or args.data or SAMPLE, args.text_col)
    bundle = load_bundle(bundle_dir)
    probe = Probe(
        texts, bundle.router.normalizer_.transform(texts), bundle.router.predict_proba(texts)
    )
    print(f"## Bundle format — model {bundle.model_version} ({len(bundle.labels)} agencies)\n")
    print(
        f"Trained on {args.data.name if args.data else bundle_dir}; answers compared on "
        f"{len(texts)} complaints. Load: seconds from bytes already read, median of "
        f"{args.repeats}; ratio to joblib.\n"
    )
    print("| file | format | MB | load s | × joblib | same answers |")
    print("|---|---|---|---|---|---|")
    objects = {
        ROUTER_FILE: bundle.router,
        SIMILAR_FILE: bundle.similar,
        NOVELTY_FILE: bundle.novelty,
    }
    for name, obj in objects.items():
        if obj is None:
            continue
        data = encodings(obj, (bundle_dir / name).read_bytes())
        print("\n".join(compare(name, data, probe, args.repeats)))
    seconds = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        load_bundle(bundle_dir)
        seconds.append(time.perf_counter() - start)
    print(
        f"\nThe whole bundle (`load_bundle`: verify, read, load every file): median "
        f"{statistics.median(seconds):.2f} s of {args.repeats}."
    )


if __name__ == "__main__":
    main()
