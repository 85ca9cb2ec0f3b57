"""`routing predict`'s output: one JSON line per complaint, to one file or a folder of shards.

Both engines (local, and Ray in `routing.scale`) turn a batch of complaints into lines with
`prediction_lines` and hand the lines, in input order, to `write_lines`; so their outputs are
the same whatever the engine, batch size or shard size.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

from routing.bundle import Bundle
from routing.suggest import suggest

__all__ = ["SHARD_ROWS", "prediction_lines", "shard_name", "write_lines"]

SHARD_ROWS = 100_000  # lines per shard when writing to a folder


def prediction_lines(
    bundle: Bundle,
    texts: Sequence[str],
    ids: Sequence[str] | None = None,
    *,
    top_k: int = 3,
    explain: int = 0,
    similar: int = 0,
    locations: Sequence[str | None] | None = None,
) -> list[str]:
    """The output lines (without newline) of complaints `texts`, with their `ids` when given
    and their `locations` (LAPOR!'s location field) when given.

    Each line holds the suggestions (agency name, its catalogue code or null, confidence),
    the decision and its reasons, and the complaint's `jurisdiction` (`Jurisdiction.to_dict`,
    null when no place was found or the bundle has no authority).
    """
    lines = []
    predictions = suggest(
        bundle, texts, top_k=top_k, explain_words=explain, similar=similar, locations=locations
    )
    for i, pred in enumerate(predictions):
        row: dict = {}
        if ids is not None:
            row["id"] = ids[i]
        row["suggestions"] = [
            {"agency": s.agency, "agency_code": s.agency_code, "confidence": s.confidence}
            | ({"explanation": s.explanation} if explain else {})
            | ({"few_shot": True} if s.few_shot else {})
            for s in pred.suggestions
        ]
        row["decision"] = pred.decision
        row["reasons"] = pred.reasons
        row["jurisdiction"] = pred.jurisdiction.to_dict() if pred.jurisdiction else None
        row["model_version"] = pred.model_version
        if similar:
            row["similar"] = pred.similar or []
        lines.append(json.dumps(row, ensure_ascii=False))
    return lines


def shard_name(index: int) -> str:
    """File name of shard `index`: names sort in shard order."""
    return f"part-{index:05d}.jsonl"


def write_lines(
    batches: Iterable[Sequence[str]], out: Path, *, folder: bool, shard_rows: int = SHARD_ROWS
) -> int:
    """Write batches of lines, in order, to the file `out` or (`folder`) to shards in the folder
    `out` that concatenate in name order to that file; returns the number of lines.

    Written beside `out` first and moved in at the end, so an interrupted run leaves no partial
    output; an empty folder at `out` is replaced.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(out.name + ".partial")
    _remove(staging)
    lines = (line for batch in batches for line in batch)
    written = 0
    try:
        if not folder:
            with open(staging, "w", encoding="utf-8") as fh:
                for line in lines:
                    fh.write(line + "\n")
                    written += 1
        else:
            staging.mkdir()
            line = next(lines, None)
            while line is not None:
                with open(staging / shard_name(written // shard_rows), "w", encoding="utf-8") as fh:
                    for _ in range(shard_rows):
                        fh.write(line + "\n")
                        written += 1
                        line = next(lines, None)
                        if line is None:
                            break
        _remove(out)
        staging.replace(out)
    except BaseException:
        _remove(staging)
        raise
    return written


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
