"""Keys of the browser tests' service and a small client for checking what it stored."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy import select

from routing.storage.db import FeedbackRecord, make_engine, session_factory

ADMIN_KEY = "browser-admin-key"
INTEGRATION_KEY = "browser-integration-key"
ADMIN = {"X-API-Key": ADMIN_KEY}


@dataclass(frozen=True)
class Service:
    """The running service: its base URL and its database."""

    url: str
    db_url: str

    @property
    def console(self) -> str:
        return f"{self.url}/console/"

    def stats(self) -> dict:
        response = httpx.get(f"{self.url}/v1/stats", headers=ADMIN, timeout=10)
        response.raise_for_status()
        return response.json()

    def agencies(self) -> list[str]:
        response = httpx.get(f"{self.url}/v1/agencies", headers=ADMIN, timeout=10)
        response.raise_for_status()
        return [a["agency"] for a in response.json()["agencies"]]

    def latest_feedback(self, prediction_id: str) -> FeedbackRecord | None:
        """The decision that counts for a prediction, read from the database itself."""
        engine = make_engine(self.db_url)
        try:
            with session_factory(engine)() as session:
                return session.scalars(
                    select(FeedbackRecord)
                    .where(FeedbackRecord.prediction_id == prediction_id)
                    .order_by(FeedbackRecord.created_at.desc())
                    .limit(1)
                ).first()
        finally:
            engine.dispose()
