"""Read complaint/disposition tables (CSV, JSONL, Parquet) without losing rows.

Historical exports come from many systems: Excel-saved CSVs in cp1252, JSON lines from an API,
Parquet from a warehouse. Reading is strict about structure (a clear one-line `DataError` that
names the file, the line or the missing column) and lenient about encoding: bytes that are not
valid UTF-8 are decoded per line with a cp1252 → latin-1 fallback and counted, never dropped.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AnyStr

import pandas as pd

__all__ = [
    "DataError",
    "LoadedTable",
    "detect_format",
    "is_shard_name",
    "parse_table",
    "read_table",
    "require_columns",
    "shard_files",
    "write_table",
]

FORMATS = ("csv", "jsonl", "parquet")

_SUFFIX_FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_FORMAT_ALIASES = {
    "csv": "csv",
    "tsv": "csv",
    "jsonl": "jsonl",
    "ndjson": "jsonl",
    "json": "jsonl",
    "parquet": "parquet",
    "pq": "parquet",
}
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class DataError(ValueError):
    """A user-facing problem with an input file; str() is one clear line."""


@dataclass(frozen=True)
class LoadedTable:
    """A table as read from disk, with what is needed to trace a model back to its data."""

    frame: pd.DataFrame
    path: Path
    format: str
    sha256: str
    non_utf8_rows: int


def detect_format(path: Path) -> str:
    """Return "csv", "jsonl" or "parquet" from the file suffix."""
    suffix = Path(path).suffix.lower()
    try:
        return _SUFFIX_FORMATS[suffix]
    except KeyError:
        known = ", ".join(sorted(_SUFFIX_FORMATS))
        raise DataError(
            f"cannot tell the format of {path} from its suffix {suffix or '(none)'!r}; "
            f"use one of {known} or pass the format explicitly"
        ) from None


def read_table(path: str | Path, *, format: str | None = None) -> LoadedTable:
    """Read a CSV, JSONL or Parquet file, or a folder of such shards, into a frame of Python
    objects.

    A folder's shards (`shard_files`) are read in name order and their rows concatenated. Text-like
    columns come back as Python `str` (object dtype). Raises `DataError` for a missing or empty
    file, a file with no rows, an unparseable line (named by number) or an unknown format.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"file not found: {path}")
    if path.is_dir():
        return _read_shards(path, format)
    if not path.is_file():
        raise DataError(f"not a file: {path}")
    fmt = _resolve_format(path, format)
    raw = path.read_bytes()
    frame, bad_rows = parse_table(raw, path, format=format)
    return LoadedTable(
        frame=frame,
        path=path,
        format=fmt,
        sha256=hashlib.sha256(raw).hexdigest(),
        non_utf8_rows=bad_rows,
    )


def parse_table(
    raw: bytes, path: str | Path, *, format: str | None = None
) -> tuple[pd.DataFrame, int]:
    """The rows of one file's bytes, as `read_table` reads them, and how many were not UTF-8.

    `path` names the file in errors and gives its format when `format` is None; the Ray engine
    (routing.scale) parses each shard with this, so both engines read the same rows.
    """
    path = Path(path)
    fmt = _resolve_format(path, format)
    if not raw.strip():
        raise DataError(f"{path} is empty: no rows")
    if fmt == "parquet":
        frame, bad_rows = _read_parquet(raw, path), 0
    else:
        lines, bad_lines = _decode_lines(raw, path)
        if fmt == "csv":
            sep = "\t" if _is_tab_separated(path, format) else ","
            frame = _read_csv("".join(lines), path, sep)
            bad_rows = _count_bad_csv_records(lines, bad_lines) if bad_lines else 0
        else:
            frame = _read_jsonl(lines, path)
            bad_rows = sum(1 for i in bad_lines if lines[i].strip())
    if len(frame) == 0:
        detail = " (header only)" if fmt == "csv" else ""
        raise DataError(f"{path} has no rows{detail}")
    return _as_python_strings(frame), bad_rows


def shard_files(folder: str | Path) -> list[Path]:
    """The shards of a folder input: its files in name order, without hidden files (".x") and
    markers such as "_SUCCESS"."""
    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "_")))
    if not files:
        raise DataError(f"{folder} holds no files to read")
    return files


def is_shard_name(name: str) -> bool:
    """Whether a file of a folder input is one of its shards (`shard_files`)."""
    return not name.startswith((".", "_"))


def _read_shards(folder: Path, format: str | None) -> LoadedTable:
    tables = [read_table(p, format=format) for p in shard_files(folder)]
    formats = {t.format for t in tables}
    digest = hashlib.sha256("".join(t.sha256 for t in tables).encode()).hexdigest()
    return LoadedTable(
        frame=pd.concat([t.frame for t in tables], ignore_index=True),
        path=folder,
        format=formats.pop() if len(formats) == 1 else "mixed",
        sha256=digest,
        non_utf8_rows=sum(t.non_utf8_rows for t in tables),
    )


def require_columns(frame: pd.DataFrame, columns: list[str], path: str | Path | None) -> None:
    """Raise `DataError` naming each missing column and listing the available ones."""
    missing = [c for c in columns if c not in frame.columns]
    if not missing:
        return
    where = f" in {path}" if path is not None else ""
    available = ", ".join(str(c) for c in frame.columns) or "(none)"
    names = ", ".join(repr(c) for c in missing)
    noun = "column" if len(missing) == 1 else "columns"
    raise DataError(f"missing {noun} {names}{where}; available: {available}")


def write_table(frame: pd.DataFrame, path: str | Path, *, format: str | None = None) -> None:
    """Write a frame as `read_table` reads it back (CSV, TSV by suffix, JSONL or Parquet).

    The cells are written as they are: this is data for training and evaluation, which read
    exactly what was written, not a report to open in a spreadsheet.
    """
    path = Path(path)
    fmt = _resolve_format(path, format)
    tmp = path.with_name(f".{path.name}.partial")
    try:
        if fmt == "parquet":
            frame.to_parquet(tmp, index=False)
        elif fmt == "jsonl":
            frame.to_json(tmp, orient="records", lines=True, force_ascii=False)
        else:
            sep = "\t" if _is_tab_separated(path, format) else ","
            frame.to_csv(tmp, index=False, sep=sep, encoding="utf-8")
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _resolve_format(path: Path, format: str | None) -> str:
    if format is None:
        return detect_format(path)
    try:
        return _FORMAT_ALIASES[format.lower()]
    except KeyError:
        raise DataError(
            f"unknown format {format!r} for {path}; use one of {', '.join(FORMATS)}"
        ) from None


def _is_tab_separated(path: Path, format: str | None) -> bool:
    if format is not None:
        return format.lower() == "tsv"
    return path.suffix.lower() == ".tsv"


def _decode_lines(raw: bytes, path: Path) -> tuple[list[str], list[int]]:
    """Decode to lines (ends kept); return them with the indices of lines that were not UTF-8.

    Whole-file UTF-8 is the fast path. Otherwise each physical line is decoded on its own so one
    bad byte costs one line its accents, not the file its rows. Lines split on "\n" only: JSON
    strings may hold U+2028 and friends, which `str.splitlines` would break on.
    """
    if raw.startswith(_UTF16_BOMS):
        try:
            return _split_lines(raw.decode("utf-16")), []
        except UnicodeDecodeError:
            raise DataError(
                f"{path} starts like UTF-16 but cannot be decoded; save it as UTF-8"
            ) from None
    if b"\x00" in raw:
        raise DataError(
            f"{path} contains NUL bytes: it looks like UTF-16 without a byte-order mark or a "
            "binary file; save it as UTF-8"
        )
    raw = raw.removeprefix(_UTF8_BOM)
    try:
        return _split_lines(raw.decode("utf-8")), []
    except UnicodeDecodeError:
        pass
    lines: list[str] = []
    bad: list[int] = []
    for i, chunk in enumerate(_split_lines(raw)):
        try:
            lines.append(chunk.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(_decode_fallback(chunk))
            bad.append(i)
    return lines, bad


def _split_lines(data: AnyStr) -> list[AnyStr]:
    """Split str or bytes after each newline, keeping the newline; no empty last piece."""
    newline: Any = "\n" if isinstance(data, str) else b"\n"
    parts = data.split(newline)
    lines = [part + newline for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _decode_fallback(data: bytes) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:  # cp1252 leaves five bytes undefined; latin-1 maps every byte
        return data.decode("latin-1")


def _read_csv(text: str, path: Path, sep: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty: no rows") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(f"cannot parse {path} as CSV: {_one_line(exc)}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _count_bad_csv_records(lines: list[str], bad_lines: list[int]) -> int:
    """Count data records (not the header) that span at least one non-UTF-8 line.

    A record ends at a line break outside quotes; with RFC 4180 quoting ("" inside a quoted
    field) the parity of quote characters tells whether a line break is inside a field.
    """
    bad = set(bad_lines)
    in_quotes = False
    record_is_bad = False
    record_has_content = False
    flags: list[bool] = []
    for i, line in enumerate(lines):
        if line.count('"') % 2:
            in_quotes = not in_quotes
        record_is_bad = record_is_bad or i in bad
        record_has_content = record_has_content or bool(line.strip())
        if not in_quotes:
            if record_has_content:
                flags.append(record_is_bad)
            record_is_bad = record_has_content = False
    if record_has_content:
        flags.append(record_is_bad)
    return sum(flags[1:])


def _read_jsonl(lines: list[str], path: Path) -> pd.DataFrame:
    text = "".join(lines)
    if text.lstrip().startswith("["):
        return _read_json_array(text, path)
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}, line {number}: not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            kind = type(record).__name__
            raise DataError(f"{path}, line {number}: expected a JSON object, got {kind}")
        records.append(record)
    return pd.DataFrame.from_records(records)


def _read_json_array(text: str, path: Path) -> pd.DataFrame:
    """Accept a `.json` file holding one array of objects, a common export next to JSON lines."""
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            kind = type(record).__name__
            raise DataError(f"{path}, item {number}: expected a JSON object, got {kind}")
    return pd.DataFrame.from_records(records)


def _read_parquet(raw: bytes, path: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(io.BytesIO(raw)).to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(f"cannot read {path} as Parquet: {_one_line(exc)}") from None


def _as_python_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Store text-like columns as Python `str` objects, whatever backend pandas chose."""
    frame = frame.reset_index(drop=True)
    for column in frame.columns:
        dtype = frame[column].dtype
        if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
            frame[column] = frame[column].astype(object)
    return frame


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
