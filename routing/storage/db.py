"""Database schema, engines and migrations for the service's predictions and feedback.

SQLite (WAL) is the default store and PostgreSQL works from its URL alone. Every SQLite
connection is set up for durability (an acknowledged write survives kill -9 and power loss)
and for several writers at once (they wait for the lock instead of failing). The schema only
changes through the Alembic migrations shipped in `routing/storage/migrations`, so an
installed package can upgrade its own database without an alembic.ini.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pydantic_core
from alembic import command
from alembic.config import Config
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Engine,
    Float,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    TypeDecorator,
    create_engine,
    event,
    make_url,
    text,
)
from sqlalchemy.engine import URL
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool

__all__ = [
    "MIGRATIONS_DIR",
    "Base",
    "FeedbackRecord",
    "PredictionRecord",
    "UTCDateTime",
    "make_engine",
    "ping",
    "probe_write",
    "session_factory",
    "upgrade",
]

MIGRATIONS_DIR: Path = Path(__file__).resolve().parent / "migrations"

# Deterministic constraint names, so that later migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 5000
# Any constant works: it only has to be the same in every process that migrates one database.
_PG_MIGRATION_LOCK = 72_410_001


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always UTC and timezone-aware in Python, on SQLite too.

    SQLite keeps no timezone: values are converted to UTC before they are stored, and naive
    values passed in are taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class PredictionRecord(Base):
    """One served prediction; its text is masked and later purged, its decision kept."""

    __tablename__ = "predictions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    complaint_id: Mapped[str | None] = mapped_column(String(), index=True)
    text_masked: Mapped[str | None] = mapped_column(Text())
    text_purged: Mapped[bool] = mapped_column(Boolean(), default=False)
    suggestions: Mapped[list[dict[str, Any]]] = mapped_column(JSON())
    top_agency: Mapped[str] = mapped_column(String(), index=True)
    top_confidence: Mapped[float] = mapped_column(Float())
    decision: Mapped[str] = mapped_column(String(16))
    threshold: Mapped[float] = mapped_column(Float())
    model_version: Mapped[str] = mapped_column(String(), index=True)
    # the API key id (such as "integration#1", never the key) that asked: an audit trail
    key_id: Mapped[str | None] = mapped_column(String(64))
    # why "review" (routing.policy.review_reasons); None for predictions stored before
    # reasons were recorded. reason_codes: the codes sorted and comma-joined ("" for auto),
    # which the database can group by on every backend, unlike JSON.
    reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(), nullable=True)
    reason_codes: Mapped[str | None] = mapped_column(String(), nullable=True)
    # the Kemendagri code of the place the prediction found (routing.places); None: none found
    # (or an ambiguous place without a common region), or stored before places were read
    jurisdiction: Mapped[str | None] = mapped_column(String(), nullable=True)


class FeedbackRecord(Base):
    """An admin's decision on a prediction; the latest one per prediction is the one that counts."""

    __tablename__ = "feedback"
    # Leads with prediction_id, so it also serves lookups by prediction alone; created_at second
    # finds the latest decision of each prediction without a sort.
    __table_args__ = (Index("ix_feedback_prediction_id_created_at", "prediction_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    prediction_id: Mapped[str] = mapped_column(String(32), ForeignKey("predictions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    agency: Mapped[str] = mapped_column(String())
    accepted: Mapped[bool] = mapped_column(Boolean())
    new_agency: Mapped[bool] = mapped_column(Boolean(), default=False)
    admin: Mapped[str | None] = mapped_column(String())
    note: Mapped[str | None] = mapped_column(Text())
    key_id: Mapped[str | None] = mapped_column(String(64))  # the API key id that decided
    # the Kemendagri code of the province or regency/city the admin says the complaint is
    # about; None: not given
    jurisdiction: Mapped[str | None] = mapped_column(String(), nullable=True)


def _is_memory_sqlite(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or "mode=memory" in str(url)


def _use_wal(cursor: sqlite3.Cursor) -> None:
    """Put the database in WAL mode unless it is already. Switching a new file needs an
    exclusive lock, and SQLite answers "database is locked" at once, without waiting, when
    another connection holds one (two processes starting on a new file): then look again
    (the other one has switched it) until the busy timeout."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _set_sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # busy_timeout first: switching a new file to WAL needs a lock another process may hold.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        _use_wal(cursor)
        # NORMAL would let a power loss drop the last commits in WAL mode; FULL syncs each one.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _to_json(value: Any) -> str:
    """JSON columns' text, compact, by pydantic-core: faster per row than the standard
    library's encoder, which showed in storing large batches (benchmarks/latency.py)."""
    return pydantic_core.to_json(value).decode()


def make_engine(url: str | URL) -> Engine:
    """An engine for `url`; SQLite files get their folder created and durable, concurrent pragmas.

    An in-memory SQLite database is shared by all connections of the engine (one connection),
    which is what tests of the service want.
    """
    url = make_url(url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, json_serializer=_to_json)
    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False},
        "json_serializer": _to_json,
    }
    if _is_memory_sqlite(url):
        kwargs["poolclass"] = StaticPool
    elif not str(url.database).startswith("file:"):
        Path(str(url.database)).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _set_sqlite_pragmas)
    return engine


def alembic_config() -> Config:
    """Alembic configuration pointing at the migrations inside the installed package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine_or_url: Engine | str | URL) -> None:
    """Migrate the database to the newest schema; does nothing when it is already there.

    The whole upgrade runs in one transaction that first takes the database's write lock
    (SQLite) or an advisory lock (PostgreSQL), so two processes starting at once migrate
    one after the other instead of both creating the same tables.
    """
    owned = not isinstance(engine_or_url, Engine)
    engine = make_engine(engine_or_url) if owned else engine_or_url
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                # pysqlite would not open a transaction before DDL on its own.
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            elif engine.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                )
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
    finally:
        if owned:
            engine.dispose()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (the service returns them afterwards)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def ping(engine: Engine) -> None:
    """Run `SELECT 1`; raises when the database cannot be reached."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def probe_write(engine: Engine) -> None:
    """Write one row and roll it back; raises when the database answers reads but refuses
    writes (a read-only file or mount, a full disk, a replica). Leaves nothing behind."""
    with engine.connect() as connection:
        # alembic_version always holds one row, on every backend, once the schema exists
        connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
        connection.rollback()
