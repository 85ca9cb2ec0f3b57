import os
import sqlite3
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, inspect, select
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


def test_two_processes_upgrading_at_once_both_succeed(tmp_path):
    # a race: each round two connections meet a new file (switching it to WAL once failed in
    # about one round out of seven, "database is locked")
    for round_ in range(20):
        db_path = tmp_path / f"round{round_}" / "routing.db"
        url = f"sqlite:///{db_path}"
        errors: list[BaseException] = []
        barrier = threading.Barrier(2)

        def start(url: str = url, errors: list = errors, barrier=barrier) -> None:
            engine = make_engine(url)
            try:
                barrier.wait()
                upgrade(engine)
            except BaseException as exc:
                errors.append(exc)
            finally:
                engine.dispose()

        threads = [threading.Thread(target=start) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == [], f"round {round_}"
        with sqlite3.connect(db_path) as plain:
            assert plain.execute("SELECT count(*) FROM alembic_version").fetchone()[0] == 1
            assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_migrations_ship_inside_the_package():
    package_dir = os.path.dirname(routing.__file__)
    assert str(MIGRATIONS_DIR).startswith(package_dir)
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_current_head() == "0001"


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
