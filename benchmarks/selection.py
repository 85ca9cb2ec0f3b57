"""Defaults chosen on some runs and reported on others.

A benchmark grid that picks a default and reports the picked default's score on the same runs
flatters it. These helpers split the runs of a grid (repeats, folds or agencies) into the ones
that choose and the ones that report, so the figure printed beside a default is one the choice
never saw.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["HeldOutChoice", "held_out_choice", "split_runs"]


def split_runs(n: int, n_select: int | None = None) -> tuple[list[int], list[int]]:
    """Run indices that choose (the first half, rounded down, at least one) and that report."""
    if n < 2:
        raise ValueError(f"choosing on some runs and reporting on others needs ≥ 2 runs, got {n}")
    k = max(1, n // 2) if n_select is None else n_select
    if not 1 <= k < n:
        raise ValueError(f"runs that choose must be between 1 and {n - 1}, got {k}")
    return list(range(k)), list(range(k, n))


@dataclass(frozen=True)
class HeldOutChoice:
    """The configuration a grid chose on `select` runs, and scores on the `report` runs."""

    chosen: Hashable
    default: Hashable
    select: list[int]
    report: list[int]
    chosen_selected: float
    chosen_reported: float
    default_reported: float

    @property
    def default_agrees(self) -> bool:
        return self.chosen == self.default


def held_out_choice(
    scores: Mapping[Hashable, Sequence[float]],
    default: Hashable,
    select: Sequence[int],
    report: Sequence[int],
    *,
    eligible: Callable[[Hashable], bool] | None = None,
) -> HeldOutChoice:
    """Pick the configuration with the best mean score over `select` runs (higher is better).

    `scores[config][run]` is one run's score. `eligible(config)` may restrict the choice (e.g.
    configurations that meet a floor on the selection runs); when none is eligible, all are.
    """
    configs = list(scores)
    pool = [c for c in configs if eligible is None or eligible(c)] or configs

    def mean(config: Hashable, runs: Sequence[int]) -> float:
        return float(np.mean([scores[config][r] for r in runs]))

    chosen = max(pool, key=lambda c: mean(c, select))
    return HeldOutChoice(
        chosen=chosen,
        default=default,
        select=list(select),
        report=list(report),
        chosen_selected=mean(chosen, select),
        chosen_reported=mean(chosen, report),
        default_reported=mean(default, report),
    )
