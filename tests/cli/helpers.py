"""Running the `routing` entry point in-process and checking its one-line user errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from routing.cli import main


def run_main(monkeypatch, capsys, *args) -> tuple[int, str, str]:
    """Run the console-script entry point in-process; return (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["routing", *(str(a) for a in args)])
    with pytest.raises(SystemExit) as exc:
        main()
    captured = capsys.readouterr()
    return exc.value.code, captured.out, captured.err


def assert_user_error(code: int, stderr: str, *fragments: str) -> str:
    """Exit code 2, exactly one line on stderr, no traceback; returns that line."""
    assert code == 2
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def tree(root: Path) -> set[Path]:
    """Every file and directory under `root`, to show that a failed verb left nothing behind."""
    return set(root.rglob("*"))
