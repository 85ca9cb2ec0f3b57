"""Shared pieces of the command line: consoles, progress, user-error exits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

console = Console(soft_wrap=True)
console_err = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one clear line and return the Exit to raise."""
    console_err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(code)


@contextmanager
def status(message: str, quiet: bool) -> Iterator[None]:
    """A spinner for a long step, silent with --quiet or when not on a terminal."""
    if quiet or not console_err.is_terminal:
        yield
        return
    with console_err.status(message):
        yield


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
