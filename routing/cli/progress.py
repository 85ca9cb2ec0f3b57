"""How long work shows itself: a progress bar on a terminal, plain log lines elsewhere.

The work reports through the standard `logging` module: the training pipeline's messages
and `Router.fit`'s steps, whose records carry `done` and `total` (fold i of k, calibration,
final fit). On a terminal those drive a rich progress bar with an estimate of the time left;
otherwise (a log file, CI) each becomes one time-stamped line, without file names or line
numbers. With --quiet nothing is shown: errors only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from routing.cli.common import console_err

# The loggers whose INFO records are the work's steps.
STEP_LOGGERS = ("routing", "training")
PLAIN_FORMAT = "%(asctime)s %(message)s"
TIME_FORMAT = "%H:%M:%S"

Say = Callable[[str], None]


class _BarHandler(logging.Handler):
    """Log records → a rich progress bar: counted steps move it, other messages print above."""

    def __init__(self, progress: Progress) -> None:
        super().__init__(logging.INFO)
        self.progress = progress
        self.task = progress.add_task("starting", total=None)

    def emit(self, record: logging.LogRecord) -> None:
        message = escape(record.getMessage())
        done, total = getattr(record, "done", None), getattr(record, "total", None)
        if done is None or total is None:
            stamp = time.strftime(TIME_FORMAT, time.localtime(record.created))
            self.progress.console.print(f"{stamp} {message}", highlight=False)
            self.progress.update(self.task, description=message)
        elif done == 0:  # a counted run starts: its clock, and so its estimate, start now
            self.progress.reset(self.task, total=total, completed=0, description=message)
        else:
            self.progress.update(self.task, total=total, completed=done, description=message)


@contextmanager
def work_progress(quiet: bool) -> Iterator[Say]:
    """Show the steps logged while the block runs; yields a function to report a step with."""
    logger = logging.getLogger("routing.cli")
    if quiet:
        yield lambda _message: None
        return
    if console_err.is_terminal:
        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console_err,
            transient=True,
        )
        with progress, _handling(_BarHandler(progress)):
            yield logger.info
        return
    handler = logging.StreamHandler(console_err.file)
    handler.setFormatter(logging.Formatter(PLAIN_FORMAT, TIME_FORMAT))
    with _handling(handler):
        yield logger.info


@contextmanager
def _handling(handler: logging.Handler) -> Iterator[None]:
    """`handler` receives the step loggers' INFO records, and only it, while the block runs."""
    saved = []
    for name in STEP_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.propagate))
        logger.setLevel(logging.INFO)
        logger.propagate = False
        logger.addHandler(handler)
    try:
        yield
    finally:
        for logger, level, propagate in saved:
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate
