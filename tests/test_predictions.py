"""predict's output: one file, or shards that concatenate to it; nothing left on failure."""

from __future__ import annotations

import pytest

from routing.predictions import shard_name, write_lines

LINES = [f'{{"n": {i}}}' for i in range(7)]


def batches(size: int):
    return (LINES[i : i + size] for i in range(0, len(LINES), size))


def test_shards_concatenate_in_name_order_to_the_single_file(tmp_path):
    assert write_lines(batches(3), tmp_path / "one.jsonl", folder=False) == len(LINES)
    folder = tmp_path / "many"
    assert write_lines(batches(2), folder, folder=True, shard_rows=3) == len(LINES)
    names = sorted(p.name for p in folder.iterdir())
    assert names == [shard_name(0), shard_name(1), shard_name(2)]
    joined = "".join((folder / name).read_text("utf-8") for name in names)
    assert (
        joined
        == (tmp_path / "one.jsonl").read_text("utf-8")
        == "".join(line + "\n" for line in LINES)
    )


@pytest.mark.parametrize("folder", [False, True])
def test_a_failure_midway_leaves_no_output(tmp_path, folder):
    def failing():
        yield LINES[:2]
        raise RuntimeError("worker died")

    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        write_lines(failing(), out, folder=folder, shard_rows=1)
    assert list(tmp_path.iterdir()) == []
