"""Shared fixtures: the synthetic sample corpus, a small labelled subset and one trained bundle.

Fitting is the slow part of the suite, so the small corpus (5 agencies x 30 complaints) and
the bundle trained on it are built once per session; tests that change a bundle copy it first.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import NamedTuple

import pytest

from routing.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CSV = ROOT / "data" / "sample" / "complaints.csv"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"

requires_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason="../shared/data not present: real-data test skipped"
)

# The keys of the metrics contract (evaluate_suggestions, `routing evaluate`'s JSON).
METRICS_KEYS = {
    "n",
    "accuracy",
    "macro_f1",
    "top3_accuracy",
    "ece",
    "coverage_at_precision",
    "threshold",
    "threshold_precision",
    "threshold_coverage",
    "per_class",
}

# The key `signed_bundle` is signed with, and another one that did not sign it.
SIGNING_KEY = "test-signing-key"
OTHER_SIGNING_KEY = "another-signing-key"

POSTGRES_URL = os.environ.get("ROUTING_TEST_POSTGRES_URL")
DB_BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not POSTGRES_URL, reason="ROUTING_TEST_POSTGRES_URL not set: PostgreSQL not tested"
        ),
    ),
]


@pytest.fixture(params=DB_BACKENDS)
def migrated(request, tmp_path):
    """An engine on an empty database migrated to head: a SQLite file, and PostgreSQL when
    ROUTING_TEST_POSTGRES_URL is given (`.ci/run` starts one)."""
    from sqlalchemy import text

    from routing.storage.db import make_engine, upgrade

    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'routing.db'}")
    else:
        engine = make_engine(POSTGRES_URL)
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS feedback, predictions, alembic_version"))
    upgrade(engine)
    yield engine
    engine.dispose()


# Agencies with distinct vocabularies, PLN first so informal electricity complaints route there.
SMALL_AGENCIES = (
    "PT PLN (PERSERO)",
    "BPJS KESEHATAN",
    "DIREKTORAT JENDERAL IMIGRASI",
    "KEPOLISIAN NEGARA REPUBLIK INDONESIA",
    "PDAM TIRTAWENING KOTA BANDUNG",
)
PER_AGENCY = 30
HELDOUT_PER_AGENCY = 10


class Corpus(NamedTuple):
    """Complaint texts, their agencies and their sample-corpus ids, in the same order."""

    texts: list[str]
    labels: list[str]
    ids: list[str]


def _sample_rows() -> list[dict[str, str]]:
    with SAMPLE_CSV.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _subset(start: int, stop: int) -> Corpus:
    """Rows start..stop (in file order) of each agency in SMALL_AGENCIES."""
    by_agency: dict[str, list[dict[str, str]]] = {a: [] for a in SMALL_AGENCIES}
    for row in _sample_rows():
        if row["agency"] in by_agency:
            by_agency[row["agency"]].append(row)
    rows = [row for agency in SMALL_AGENCIES for row in by_agency[agency][start:stop]]
    return Corpus(
        texts=[r["text"] for r in rows],
        labels=[r["agency"] for r in rows],
        ids=[r["id"] for r in rows],
    )


def write_csv(path: Path, corpus: Corpus) -> Path:
    """Write a corpus as an `id,text,agency` CSV like data/sample/complaints.csv."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "text", "agency"])
        writer.writerows(zip(corpus.ids, corpus.texts, corpus.labels, strict=True))
    return path


def pytest_collection_modifyitems(config, items):
    """Tests marked `shared` need the real data: skip them, with the reason, when it is absent."""
    for item in items:
        if item.get_closest_marker("shared"):
            item.add_marker(requires_shared)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (read-only real complaints); the test is skipped when it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared/data not present: real-data test skipped")
    return SHARED


@pytest.fixture(autouse=True)
def _clean_routing_env(monkeypatch):
    """No ROUTING_* setting of the developer's shell (a signing key!) leaks into a test.

    ROUTING_TEST_* variables configure the test run itself and are kept.
    """
    for name in list(os.environ):
        if name.startswith("ROUTING_") and not name.startswith("ROUTING_TEST_"):
            monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def sample_csv() -> Path:
    return SAMPLE_CSV


@pytest.fixture(scope="session")
def small_corpus() -> Corpus:
    """5 agencies x 30 complaints from the sample corpus: small enough to fit a router quickly."""
    return _subset(0, PER_AGENCY)


@pytest.fixture(scope="session")
def heldout_corpus() -> Corpus:
    """10 further complaints per agency of `small_corpus`, never trained on."""
    return _subset(PER_AGENCY, PER_AGENCY + HELDOUT_PER_AGENCY)


@pytest.fixture(scope="session")
def small_csv(tmp_path_factory, small_corpus) -> Path:
    return write_csv(tmp_path_factory.mktemp("data") / "small.csv", small_corpus)


@pytest.fixture(scope="session")
def heldout_csv(tmp_path_factory, heldout_corpus) -> Path:
    return write_csv(tmp_path_factory.mktemp("data") / "heldout.csv", heldout_corpus)


@pytest.fixture(scope="session")
def trained_bundle(tmp_path_factory, small_csv) -> Path:
    """A bundle trained once by the pipeline on `small_csv` (seed 0); do not modify it."""
    from training.pipeline import train

    out = tmp_path_factory.mktemp("bundles") / "small"
    return train(small_csv, "text", "agency", out, id_col="id", seed=0).bundle_path


@pytest.fixture(scope="session")
def catalogue_bundle(tmp_path_factory, small_csv) -> Path:
    """Like `trained_bundle`, trained with the shipped agency catalogue (as `routing train`
    does by default): national agencies learned as their codes, PDAM as its role."""
    from routing.authority import DEFAULT_AGENCIES_PATH
    from training.pipeline import train

    out = tmp_path_factory.mktemp("catalogue") / "small"
    return train(
        small_csv, "text", "agency", out, id_col="id", seed=0, agencies=DEFAULT_AGENCIES_PATH
    ).bundle_path


@pytest.fixture(scope="session")
def signed_bundle(tmp_path_factory, small_csv) -> Path:
    """Like `trained_bundle`, but another seed (another version) and signed with SIGNING_KEY."""
    from training.pipeline import train

    out = tmp_path_factory.mktemp("signed") / "small"
    return train(
        small_csv, "text", "agency", out, id_col="id", seed=2, signing_key=SIGNING_KEY
    ).bundle_path
