"""The `audit` verb: list past complaints most likely disposed to the wrong agency."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from routing.cli.common import (
    IRRELEVANT_QUANTILE,
    CorrectionsOpt,
    FormatOpt,
    LabelCol,
    QuietOpt,
    SeedOpt,
    TextCol,
    console,
    console_err,
    fail,
    require_id_col,
    status,
)
from routing.cli.engine import EngineOpt, NumCpusOpt, RayAddressOpt, check_engine, ray_workers
from routing.cli.outputs import check_file_output, partial_file

if TYPE_CHECKING:
    import pandas as pd

SHOWN = 10  # rows of each summary table


def audit(
    data: Path = typer.Argument(
        ..., metavar="DATA", help="Historical dispositions (CSV, JSONL or Parquet)."
    ),
    text_col: str = TextCol,
    label_col: str = LabelCol,
    out: Path = typer.Option(
        ..., "--out", metavar="FILE", help="CSV to write the suspected complaints to."
    ),
    id_col: str = typer.Option(
        None,
        "--id-col",
        metavar="COLUMN",
        help="Column with complaint ids, shown for the most suspect rows; needed by "
        "--review-file and --corrections.",
    ),
    review_file: Path = typer.Option(
        None,
        "--review-file",
        metavar="FILE",
        help="Also write a blind review sheet of the suspects (CSV): id, masked text, the "
        "recorded and the suggested agency as candidate_a/candidate_b in random order (--seed), "
        "and empty verdict, agency, reviewer, reviewed_at and reason columns to fill; "
        "`routing corrections resolve` turns it into a corrections file.",
    ),
    corrections: list[Path] = CorrectionsOpt,
    folds: int = typer.Option(
        5, "--folds", metavar="N", help="Cross-validation folds (at least 2)."
    ),
    seed: int = SeedOpt,
    irrelevant_quantile: float = typer.Option(
        IRRELEVANT_QUANTILE,
        "--irrelevant-quantile",
        metavar="Q",
        help="Flag a complaint only when its recorded agency is less likely than this quantile "
        "of the probabilities of unrelated agencies: lower finds fewer, surer suspects; "
        "1 keeps nearly all that confident learning finds.",
    ),
    data_format: str = FormatOpt,
    engine: str = EngineOpt,
    ray_address: str = RayAddressOpt,
    num_cpus: int = NumCpusOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Find complaints most likely disposed to the wrong agency and write them to OUT.

    OUT holds only the suspects, most suspect first: every input column (the text with personal
    data masked) plus suggested_agency and label_quality (lower = more suspect). With --engine
    ray each fold is fitted as a Ray task; the suspects are the same. With --corrections the
    corrected labels are audited (unclear complaints left out) and complaints already
    reviewed stay out of the review sheet.
    """
    from routing.evaluation.audit import (
        audit_dispositions,
        summarize_by_agency,
        suspected_pairs,
    )
    from routing.text import mask_personal_data
    from training.data import require_columns
    from training.pipeline import load_training_data

    if folds < 2:
        raise fail(f"--folds must be at least 2, got {folds}")
    if not 0.0 < irrelevant_quantile <= 1.0:
        raise fail(f"--irrelevant-quantile must be in (0, 1], got {irrelevant_quantile}")
    on_ray = check_engine(engine, ray_address, num_cpus)
    require_id_col(id_col, ("--review-file", review_file), ("--corrections", corrections))
    check_file_output(out, "--out")
    if review_file is not None:
        check_file_output(review_file, "--review-file")
    # Without id_col the validated "id" is the input row number, which maps suspects back to
    # their full input rows.
    loaded = load_training_data(data, text_col, label_col, format=data_format)
    table, report, clean = loaded.table, loaded.report, loaded.frame
    reviewed: set[str] = set()
    if id_col:
        require_columns(table.frame, [id_col], table.path)
        input_ids = table.frame[id_col].astype(str).str.strip()
        clean = clean.assign(complaint_id=input_ids.to_numpy()[clean["id"].astype(int)])
    if corrections:
        clean, reviewed = _corrected(clean, corrections, input_ids)
    texts, labels = clean["text"].tolist(), clean["agency"].tolist()
    with (
        status(f"cross-validating {len(texts)} complaints ({folds} folds)…", quiet),
        _fold_engine(on_ray, ray_address, num_cpus, folds),
    ):
        try:
            suspects = audit_dispositions(
                texts, labels, folds=folds, seed=seed, irrelevant_quantile=irrelevant_quantile
            )
        except ValueError as exc:  # too few complaints per agency to cross-validate
            raise fail(f"{data}: cannot audit: {exc}") from None

    source_rows = clean["id"].to_numpy(dtype=object)[suspects["row"].to_numpy()].astype(int)
    rows = table.frame.iloc[source_rows].reset_index(drop=True)
    rows[text_col] = [mask_personal_data(str(t)) for t in rows[text_col].tolist()]
    rows["suggested_agency"] = suspects["suggested_agency"].to_numpy(dtype=object)
    rows["label_quality"] = suspects["label_quality"].to_numpy()
    _write_csv(rows, out)
    sheet_rows = 0
    if review_file is not None:
        sheet_rows = _write_review_sheet(clean, suspects, reviewed, review_file, seed)

    if quiet:
        return
    for warning in report.warnings:
        console_err.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False)
    dropped = report.rows_read - report.rows_kept
    reasons = ", ".join(f"{k.replace('_', ' ')}: {n}" for k, n in report.dropped.items())
    console.print(
        f"audited {report.rows_kept:,} of {report.rows_read:,} rows"
        + (f"; {dropped:,} dropped by validation and not audited ({reasons})" if dropped else "")
    )
    console.print(
        f"{len(suspects):,} suspected mis-dispositions "
        f"({len(suspects) / max(report.rows_kept, 1):.1%}) written to {escape(str(out))}"
    )
    if review_file is not None:
        console.print(
            f"review sheet of {sheet_rows:,} suspects written to {escape(str(review_file))}"
            + (f" ({len(suspects) - sheet_rows:,} already reviewed left out)" if reviewed else "")
        )
    if suspects.empty:
        return
    console.print(_agency_table(summarize_by_agency(labels, suspects)))
    console.print(_pairs_table(suspected_pairs(suspects)))
    if id_col:
        console.print(_suspects_table(rows, id_col, label_col))


def _corrected(
    clean: pd.DataFrame, paths: list[Path], input_ids: pd.Series
) -> tuple[pd.DataFrame, set[str]]:
    """The validated complaints with their corrected labels (unclear ones left out), and the
    ids already reviewed."""
    from routing.corrections import load_corrections, training_labels

    loaded = load_corrections(paths, ids=input_ids, labels=set(clean["agency"]))
    learned, keep = training_labels(clean["complaint_id"].tolist(), clean["agency"], loaded)
    return clean.assign(agency=learned)[keep].reset_index(drop=True), set(loaded.by_id)


def _write_review_sheet(
    clean: pd.DataFrame, suspects: pd.DataFrame, reviewed: set[str], path: Path, seed: int
) -> int:
    """Write the blind review sheet of the suspects not yet reviewed; returns its rows."""
    from routing.corrections import review_sheet, write_csv

    rows = clean.iloc[suspects["row"].to_numpy()]
    fresh = ~rows["complaint_id"].isin(reviewed).to_numpy()
    rows = rows[fresh]
    sheet = review_sheet(
        rows["complaint_id"].tolist(),
        rows["text"].tolist(),
        rows["agency"].tolist(),
        suspects["suggested_agency"].to_numpy(dtype=object)[fresh].tolist(),
        seed=seed,
    )
    with partial_file(path) as tmp:
        write_csv(sheet, tmp)
    return len(sheet)


@contextmanager
def _fold_engine(
    on_ray: bool, ray_address: str | None, num_cpus: int | None, folds: int
) -> Iterator[None]:
    """Where the router's folds are fitted: here, or (on_ray) a fold per Ray task."""
    if not on_ray:
        yield
        return
    from routing.scale.folds import folds_on_ray

    with (
        ray_workers(ray_address, num_cpus) as workers,
        folds_on_ray(min(folds, workers)),
    ):
        yield


def _write_csv(frame: pd.DataFrame, out: Path) -> None:
    """Write via a temporary file so an interrupted audit leaves no half-written CSV; cells a
    spreadsheet would run as formulas are escaped (`routing.csvcells`)."""
    from routing.csvcells import escape_formula

    with partial_file(out) as tmp:
        frame.map(escape_formula).to_csv(tmp, index=False, encoding="utf-8")


def _agency_table(by_agency: pd.DataFrame) -> Table:
    table = Table(title="Suspected mis-dispositions by recorded agency")
    table.add_column("recorded agency")
    table.add_column("audited", justify="right")
    table.add_column("suspected", justify="right")
    table.add_column("share", justify="right")
    shown = by_agency[by_agency["suspected"] > 0].head(SHOWN)
    for row in shown.itertuples(index=False):
        table.add_row(
            escape(row.agency), f"{row.audited:,}", f"{row.suspected:,}", f"{row.share:.1%}"
        )
    return table


def _pairs_table(pairs: pd.DataFrame) -> Table:
    table = Table(title="Most frequent suspected mis-dispositions (recorded → suggested)")
    table.add_column("recorded agency")
    table.add_column("suggested agency")
    table.add_column("suspected", justify="right")
    for row in pairs.head(SHOWN).itertuples(index=False):
        table.add_row(escape(row.agency), escape(row.suggested_agency), f"{row.suspected:,}")
    return table


def _suspects_table(rows: pd.DataFrame, id_col: str, label_col: str) -> Table:
    table = Table(title=f"The {min(SHOWN, len(rows))} most suspect complaints")
    for name in (id_col, "recorded agency", "suggested agency"):
        table.add_column(escape(name))
    table.add_column("label_quality", justify="right")
    for _, row in rows.head(SHOWN).iterrows():
        table.add_row(
            escape(str(row[id_col])),
            escape(str(row[label_col])),
            escape(str(row["suggested_agency"])),
            f"{row['label_quality']:.4f}",
        )
    return table


def register(app: typer.Typer) -> None:
    app.command()(audit)
