import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, inspect, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

import routing
from routing.storage.db import (
    MIGRATIONS_DIR,
    Base,
    FeedbackRecord,
    PredictionRecord,
    alembic_config,
    make_engine,
    ping,
    session_factory,
    upgrade,
)
from tests.conftest import DB_BACKENDS, POSTGRES_URL

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "nested" / "dir" / "routing.db"


def _prediction(**overrides) -> PredictionRecord:
    values = {
        "id": "a" * 32,
        "created_at": datetime(2024, 5, 1, tzinfo=UTC),
        "complaint_id": "C1",
        "text_masked": "jalan rusak",
        "text_purged": False,
        "suggestions": [{"agency": "PUPR", "confidence": 0.9}],
        "top_agency": "PUPR",
        "top_confidence": 0.9,
        "decision": "auto",
        "threshold": 0.8,
        "model_version": "v1",
    }
    return PredictionRecord(**{**values, **overrides})


def test_make_engine_creates_the_folder_and_turns_wal_on(db_path):
    engine = make_engine(f"sqlite:///{db_path}")
    ping(engine)
    engine.dispose()
    assert db_path.parent.is_dir()
    # WAL is a property of the file: a plain sqlite3 connection sees it too.
    with sqlite3.connect(db_path) as plain:
        assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_every_sqlite_connection_is_durable_and_waits_for_locks(db_path):
    engine = make_engine(f"sqlite:///{db_path}")
    with engine.connect() as connection:
        pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("synchronous") == 2  # FULL
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == 5000
    engine.dispose()


def test_foreign_keys_are_enforced_on_sqlite(db_path):
    engine = make_engine(f"sqlite:///{db_path}")
    upgrade(engine)
    with session_factory(engine)() as session:
        session.add(
            FeedbackRecord(
                id="f" * 32,
                prediction_id="missing",
                created_at=datetime.now(UTC),
                agency="PUPR",
                accepted=False,
                new_agency=False,
            )
        )
        with pytest.raises(IntegrityError):
            session.commit()
    engine.dispose()


def test_upgrade_is_idempotent_and_reaches_head(db_path):
    url = f"sqlite:///{db_path}"
    upgrade(url)
    upgrade(url)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with sqlite3.connect(db_path) as plain:
        assert plain.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)]
        tables = {row[0] for row in plain.execute("SELECT name FROM sqlite_master")}
    assert {"predictions", "feedback"} <= tables


# Reads one database URL per line and upgrades it: both processes get each line at once.
UPGRADER = textwrap.dedent(
    """
    import sys
    from routing.storage.db import make_engine, upgrade
    for line in sys.stdin:
        engine = make_engine(line.strip())
        try:
            upgrade(engine)
            print("ok", flush=True)
        except Exception as exc:
            print(" ".join(f"{type(exc).__name__}: {exc}".split()), flush=True)
        finally:
            engine.dispose()
    """
)
UPGRADE_ROUNDS = 20


@pytest.fixture(params=DB_BACKENDS)
def empty_database(request, tmp_path) -> Callable[[int], str]:
    """Round number -> URL of an empty database: a new SQLite file, or PostgreSQL's test
    database emptied (when ROUTING_TEST_POSTGRES_URL is given)."""
    if request.param == "sqlite":
        return lambda round_: f"sqlite:///{tmp_path / f'round{round_}' / 'routing.db'}"

    def emptied(round_: int) -> str:
        engine = make_engine(POSTGRES_URL)
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS feedback, predictions, alembic_version"))
        engine.dispose()
        return POSTGRES_URL

    return emptied


def test_two_processes_upgrading_at_once_both_succeed(empty_database):
    # a race: each round two processes meet an empty database (on SQLite, switching a new file
    # to WAL once failed in about one round out of seven, "database is locked")
    upgraders = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADER],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for round_ in range(UPGRADE_ROUNDS):
            url = empty_database(round_)
            for upgrader in upgraders:
                upgrader.stdin.write(url + "\n")
                upgrader.stdin.flush()
            answers = [upgrader.stdout.readline().strip() for upgrader in upgraders]
            assert answers == ["ok", "ok"], f"round {round_}"
            engine = make_engine(url)
            with engine.connect() as connection:
                versions = connection.execute(text("SELECT count(*) FROM alembic_version"))
                assert versions.scalar() == 1
                if engine.dialect.name == "sqlite":
                    assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            engine.dispose()
    finally:
        for upgrader in upgraders:
            upgrader.stdin.close()
            try:
                upgrader.wait(timeout=30)
            except subprocess.TimeoutExpired:
                upgrader.kill()
                upgrader.wait()


def test_migrations_ship_inside_the_package():
    package_dir = os.path.dirname(routing.__file__)
    assert str(MIGRATIONS_DIR).startswith(package_dir)
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_current_head() == "0004"


def test_migrated_schema_matches_the_models(migrated):
    with migrated.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_schema_comparison_notices_a_missing_column(migrated):
    """Guards the test above: the comparison must be able to find a difference."""
    metadata = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(metadata)
    metadata.tables["feedback"].append_column(Column("extra", Integer()))
    with migrated.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    assert [entry[0] for entry in diff] == ["add_column"]


def test_in_memory_sqlite_is_shared_by_the_engines_connections():
    engine = make_engine("sqlite://")
    upgrade(engine)
    with session_factory(engine)() as session:
        session.add(_prediction())
        session.commit()
    with session_factory(engine)() as session:
        assert session.scalar(select(PredictionRecord.id)) == "a" * 32
    assert set(inspect(engine).get_table_names()) >= {"predictions", "feedback"}


def test_session_objects_stay_readable_after_commit(migrated):
    with session_factory(migrated)() as session:
        record = _prediction()
        session.add(record)
        session.commit()
    assert record.top_agency == "PUPR"  # no refresh needed on a closed session


def test_timestamps_come_back_utc_aware(migrated):
    jakarta = timezone(timedelta(hours=7))
    with session_factory(migrated)() as session:
        session.add(_prediction(created_at=datetime(2024, 5, 1, 14, 30, tzinfo=jakarta)))
        session.add(_prediction(id="b" * 32, created_at=datetime(2024, 5, 1, 7, 30)))
        session.commit()
    with session_factory(migrated)() as session:
        times = session.scalars(select(PredictionRecord.created_at)).all()
    assert times == [datetime(2024, 5, 1, 7, 30, tzinfo=UTC)] * 2
    assert all(t.utcoffset() == timedelta(0) for t in times)


def test_ping_raises_when_the_database_is_unreachable():
    engine = make_engine("postgresql+psycopg://nobody:nothing@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(OperationalError):
        ping(engine)


def test_predictions_stored_before_reasons_read_back_without_them(db_path):
    """A database at 0001 with a prediction in it upgrades; the old row has no reasons."""
    from alembic import command

    from routing.storage.repository import stats

    engine = make_engine(f"sqlite:///{db_path}")
    with engine.connect() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.commit()
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO predictions (id, created_at, text_purged, suggestions, top_agency, "
                "top_confidence, decision, threshold, model_version) VALUES ('a', "
                "'2024-01-01 00:00:00', 0, '[]', 'PLN', 0.5, 'review', 0.9, 'v1')"
            )
        )
    upgrade(engine)
    with session_factory(engine)() as session:
        old = session.get(PredictionRecord, "a")
        assert (old.reasons, old.reason_codes) == (None, None)
        assert stats(session)["by_reason"] == {}
    engine.dispose()
