"""Complaint tables as Ray Datasets: a file or a folder of shards, on disk or in an object store.

Each shard is read as bytes by Ray and parsed in a worker by `training.data.parse_table`, the
parser of the local engine, so both engines see the same rows in the same order (shards in
name order, as `training.data.shard_files`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from training.data import DataError, is_shard_name, parse_table, require_columns

if TYPE_CHECKING:
    import pyarrow.fs
    import ray.data

__all__ = ["BLOCK_BYTES", "list_shards", "read_complaints"]

# Complaints a worker scores at a time: some hundreds of LAPOR! complaints, enough to keep
# the per-block costs small and the blocks many, so that the workers finish together.
BLOCK_BYTES = 256 * 1024
READERS = 1  # reading and parsing tasks at a time


def list_shards(location: str) -> tuple[pyarrow.fs.FileSystem, list[str]]:
    """The filesystem of `location` (a local path or a URI such as s3://bucket/folder) and its
    shard paths in name order: the file itself, or the shards of a folder."""
    import pyarrow.fs as pafs

    if "://" not in location:
        location = str(Path(location).resolve())
    filesystem, path = pafs.FileSystem.from_uri(location)
    info = filesystem.get_file_info(path)
    if info.type == pafs.FileType.NotFound:
        raise DataError(f"file not found: {location}")
    if info.type == pafs.FileType.File:
        return filesystem, [path]
    entries = filesystem.get_file_info(pafs.FileSelector(path))
    shards = sorted(
        e.path for e in entries if e.type == pafs.FileType.File and is_shard_name(e.base_name)
    )
    if not shards:
        raise DataError(f"{location} holds no files to read")
    return filesystem, shards


def read_complaints(
    location: str,
    columns: dict[str, str],
    *,
    format: str | None = None,
    block_bytes: int = BLOCK_BYTES,
) -> ray.data.Dataset:
    """A Dataset of the input at `location` with, for each `columns` item (name → input
    column), the column's values as `str`; in input order, in blocks of about `block_bytes`
    (the unit that workers share out)."""
    import ray.data

    filesystem, paths = list_shards(location)
    # Reading claims no CPU: the workers that score the rows hold every CPU for the whole run
    # (an actor each), and a read waiting for one of them would wait forever. So a file is
    # parsed as it is read and cut into blocks by size (the Dataset's target block size):
    # Ray Data's repartition by rows would be a step of its own that claims a CPU.
    # A task that claims no CPU has no limit either: Ray would start a process for each of
    # a large input's shards at once, which would take the CPUs from the workers. One file
    # at a time is read and parsed, far ahead of the workers, who score much slower.
    files = ray.data.read_binary_files(
        paths, filesystem=filesystem, include_paths=True, num_cpus=0, concurrency=READERS
    )
    files.context.target_max_block_size = block_bytes
    return files.map_batches(
        _parse_shards,
        fn_kwargs={"columns": columns, "format": format},
        batch_size=1,  # a file at a time
        batch_format="numpy",
        num_cpus=0,
        concurrency=READERS,
    )


def _parse_shards(
    batch: dict[str, np.ndarray], columns: dict[str, str], format: str | None
) -> dict[str, np.ndarray]:
    parts: dict[str, list[np.ndarray]] = {name: [] for name in columns}
    for raw, path in zip(batch["bytes"], batch["path"], strict=True):
        frame, _ = parse_table(bytes(raw), str(path), format=format)
        require_columns(frame, list(columns.values()), path)
        for name, column in columns.items():
            parts[name].append(frame[column].astype(str).to_numpy(dtype=object))
    return {name: np.concatenate(values) for name, values in parts.items()}
