"""What the sandbox received, kept in its own database with its own engine and tables.

The sandbox may be mounted in an app that has its own SQLAlchemy engine, so it never shares one:
its tables (prefixed ``sandbox_``) live on a separate :class:`~sqlalchemy.MetaData` and are created
at start-up (a throwaway emulator database, no migrations). Every operation is one short
transaction under a process-wide lock, which keeps read-modify-write upserts correct across the
dev server's and gunicorn's threads; SQLite runs in WAL mode with a busy timeout so several
processes can share a file, and ``:memory:`` uses one shared connection so all threads see it.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from connector.sandbox.shapes import timestamp, utc_now

#: Namespace of the deterministic org UUID derived from a widget key.
ORG_NAMESPACE = uuid.UUID("6f1c1f0e-6a55-4d37-9a3c-2b8f0d6c4e11")

metadata = MetaData()

orgs = Table(
    "sandbox_orgs", metadata,
    Column("id", String(36), primary_key=True),
    Column("name", Text, nullable=False),
    Column("key_hint", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
)

end_users = Table(
    "sandbox_end_users", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("org_id", String(36), nullable=False, index=True),
    Column("external_id", Text),
    Column("email", Text, index=True),
    Column("name", Text),
    Column("traits", JSON, nullable=False),
    Column("custom_fields", JSON, nullable=False),
    Column("context", JSON, nullable=False),
    Column("company_id", String(36)),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("first_seen", String(40)),
    Column("last_seen", String(40)),
    UniqueConstraint("org_id", "external_id", name="uq_sandbox_end_users_external_id"),
)

companies = Table(
    "sandbox_companies", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("org_id", String(36), nullable=False, index=True),
    Column("external_id", Text, nullable=False),
    Column("name", Text),
    Column("traits", JSON, nullable=False),
    Column("custom_fields", JSON, nullable=False),
    Column("context", JSON, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    UniqueConstraint("org_id", "external_id", name="uq_sandbox_companies_external_id"),
)

tickets = Table(
    "sandbox_tickets", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("org_id", String(36), nullable=False, index=True),
    Column("end_user_id", String(36), nullable=False),
    Column("request_user_id", Text),
    Column("request_email", Text),
    Column("request_name", Text),
    Column("subject", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("source", String(50), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("ai_enabled", Boolean, nullable=False),
    Column("created_at", String(40), nullable=False),
)

events = Table(
    "sandbox_events", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("org_id", String(36), nullable=False, index=True),
    Column("end_user_id", String(36)),
    Column("user_id", Text),
    Column("session_id", Text, index=True),
    Column("event_type", String(100), nullable=False),
    Column("element_selector", Text),
    Column("page_url", Text),
    Column("metadata", JSON, nullable=False),
    Column("created_at", String(40), nullable=False),
)

#: Email series and other automations; sandbox-wide (not per org), seeded through /sandbox/control.
automations = Table(
    "sandbox_automations", metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("name", Text),
    Column("created_at", String(40), nullable=False),
)

enrollments = Table(
    "sandbox_series_enrollments", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("org_id", String(36), nullable=False),
    Column("series_id", String(36), nullable=False),
    Column("end_user_id", String(36), nullable=False),
    Column("scheduled_for", String(40), nullable=False),
    Column("created_at", String(40), nullable=False),
    UniqueConstraint("org_id", "series_id", "end_user_id", name="uq_sandbox_enrollment"),
)

DATA_TABLES = (enrollments, events, tickets, end_users, companies, orgs, automations)


def org_id_for_key(api_key: str) -> str:
    """The org a widget key belongs to: a stable UUID, so the same key always finds its data."""
    return str(uuid.uuid5(ORG_NAMESPACE, api_key))


def key_hint(api_key: str) -> str:
    """Enough of a (publishable) key to tell orgs apart on the page, never the whole key."""
    return f"{api_key[:8]}…{api_key[-4:]}" if len(api_key) > 16 else f"{api_key[:8]}…"


def make_engine(database_url: str) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(database_url, pool_pre_ping=True)
    in_memory = url.database in (None, "", ":memory:")
    if in_memory:
        engine = create_engine(
            database_url, poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(database_url, connect_args={"check_same_thread": False, "timeout": 15})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()

    return engine


def _row(row: Any) -> dict[str, Any] | None:
    return dict(row._mapping) if row is not None else None


class SandboxStore:
    """The sandbox's records; every method is one short transaction."""

    def __init__(self, database_url: str) -> None:
        self.engine = make_engine(database_url)
        self._lock = threading.RLock()
        metadata.create_all(self.engine)

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self._lock, self.engine.begin() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()

    def release_connections(self) -> None:
        """Close pooled connections before a fork (see ``app.release_connections``). An
        in-memory database lives in its one connection, so that one is kept: a forked child
        gets its own copy of the memory anyway."""
        if not isinstance(self.engine.pool, StaticPool):
            self.engine.dispose()

    def reset(self) -> None:
        with self._tx() as conn:
            for table in DATA_TABLES:
                conn.execute(delete(table))

    # --- orgs --------------------------------------------------------------------------------

    def ensure_org(self, api_key: str) -> str:
        org_id = org_id_for_key(api_key)
        with self._tx() as conn:
            if conn.execute(select(orgs.c.id).where(orgs.c.id == org_id)).first() is None:
                conn.execute(insert(orgs).values(
                    id=org_id, name=f"Sandbox workspace {org_id[:8]}", key_hint=key_hint(api_key),
                    created_at=timestamp(),
                ))
        return org_id

    def get_org(self, org_id: str) -> dict[str, Any] | None:
        with self._tx() as conn:
            return _row(conn.execute(select(orgs).where(orgs.c.id == org_id)).first())

    def list_orgs(self) -> list[dict[str, Any]]:
        with self._tx() as conn:
            return [dict(r._mapping) for r in conn.execute(select(orgs).order_by(orgs.c.created_at))]

    # --- end users ---------------------------------------------------------------------------

    def _user_by(self, conn: Connection, org_id: str, **where: Any) -> dict[str, Any] | None:
        query = select(end_users).where(end_users.c.org_id == org_id)
        for column, value in where.items():
            query = query.where(end_users.c[column] == value)
        return _row(conn.execute(query.order_by(end_users.c.seq).limit(1)).first())

    def _insert_user(self, conn: Connection, org_id: str, **values: Any) -> dict[str, Any]:
        now = timestamp()
        row = {
            "id": str(uuid.uuid4()), "org_id": org_id, "external_id": None, "email": None,
            "name": None, "traits": {}, "custom_fields": {}, "context": {}, "company_id": None,
            "created_at": now, "updated_at": now, "first_seen": None, "last_seen": None,
        }
        row.update(values)
        conn.execute(insert(end_users).values(**row))
        return row

    def _update_user(self, conn: Connection, user: dict[str, Any], **values: Any) -> dict[str, Any]:
        values["updated_at"] = timestamp()
        conn.execute(update(end_users).where(end_users.c.id == user["id"]).values(**values))
        return {**user, **values}

    def find_user(self, org_id: str, external_id: str) -> dict[str, Any] | None:
        with self._tx() as conn:
            return self._user_by(conn, org_id, external_id=external_id)

    def get_user(self, user_id: str) -> dict[str, Any] | None:
        with self._tx() as conn:
            return _row(conn.execute(select(end_users).where(end_users.c.id == user_id)).first())

    def _merged_user_values(
        self, user: Mapping[str, Any] | None, columns: dict[str, Any], custom: dict[str, Any],
        context: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Traits and context merged over the stored ones (new keys overwrite)."""
        traits = dict(user["traits"]) if user else {}
        values: dict[str, Any] = {}
        for key, value in columns.items():
            if key in ("name", "email"):
                values[key] = value
            else:
                traits[key] = value
        values["traits"] = traits
        values["custom_fields"] = {**(user["custom_fields"] if user else {}), **custom}
        if context is not None:
            values["context"] = {**(user["context"] if user else {}), **context}
        return values

    def identify_user(
        self, org_id: str, external_id: str, columns: dict[str, Any], custom: dict[str, Any],
        context: dict[str, Any], session_id: str | None,
    ) -> tuple[dict[str, Any], bool]:
        """Upsert on ``external_id``, merge traits/context, bump ``last_seen``; relink a session."""
        now = timestamp()
        with self._tx() as conn:
            user = self._user_by(conn, org_id, external_id=external_id)
            values = self._merged_user_values(user, columns, custom, context)
            if user is None:
                user = self._insert_user(
                    conn, org_id, external_id=external_id, first_seen=now, last_seen=now, **values
                )
                created = True
            else:
                user = self._update_user(conn, user, last_seen=now, **values)
                created = False
            if session_id:
                conn.execute(
                    update(events)
                    .where(events.c.org_id == org_id, events.c.session_id == session_id,
                           events.c.end_user_id.is_(None))
                    .values(end_user_id=user["id"], user_id=external_id)
                )
            return user, created

    def update_users(
        self, org_id: str, items: list[dict[str, Any]], *, update_only: bool
    ) -> dict[str, int]:
        """Backfill: never touches ``last_seen``/``first_seen``; ``update_only`` skips unknown ids."""
        counts = {"created": 0, "updated": 0, "skipped": 0}
        with self._tx() as conn:
            for item in items:
                user = self._user_by(conn, org_id, external_id=item["user_id"])
                values = self._merged_user_values(user, item["columns"], item["custom"])
                if user is not None:
                    self._update_user(conn, user, **values)
                    counts["updated"] += 1
                elif update_only:
                    counts["skipped"] += 1
                else:
                    self._insert_user(conn, org_id, external_id=item["user_id"], **values)
                    counts["created"] += 1
        return counts

    def touch_user(self, org_id: str, external_id: str) -> dict[str, Any]:
        """Upsert a bare user and refresh ``last_seen`` (what ``/events`` does with ``user_id``)."""
        now = timestamp()
        with self._tx() as conn:
            user = self._user_by(conn, org_id, external_id=external_id)
            if user is None:
                return self._insert_user(conn, org_id, external_id=external_id, first_seen=now, last_seen=now)
            return self._update_user(conn, user, last_seen=now)

    # --- tickets -----------------------------------------------------------------------------

    def create_ticket(self, org_id: str, fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], bool]:
        """Resolve the customer (external_id, then email, then create) and store the ticket."""
        with self._tx() as conn:
            user, created = self._resolve_customer(conn, org_id, fields)
            ticket = {
                "id": str(uuid.uuid4()),
                "org_id": org_id,
                "end_user_id": user["id"],
                "request_user_id": fields["user_id"],
                "request_email": fields["email"],
                "request_name": fields["name"],
                "subject": fields["subject"],
                "message": fields["message"],
                "metadata": fields["metadata"],
                "source": fields["source"],
                "priority": fields["priority"],
                "status": "priority" if fields["priority"] == "priority" else "open",
                "ai_enabled": fields["ai_enabled"],
                "created_at": timestamp(),
            }
            conn.execute(insert(tickets).values(**ticket))
            return ticket, user, created

    def _resolve_customer(
        self, conn: Connection, org_id: str, fields: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        user_id, email, name = fields["user_id"], fields["email"], fields["name"]
        user = self._user_by(conn, org_id, external_id=user_id) if user_id else None
        if user is None and email:
            user = self._user_by(conn, org_id, email=email)
        if user is None:
            user = self._insert_user(
                conn, org_id, external_id=user_id, email=email, name=name, first_seen=timestamp()
            )
            return user, True
        # PROVISIONAL (open question 4): enrich an existing user only where a value is missing.
        missing = {
            key: value
            for key, value in (("external_id", user_id), ("email", email), ("name", name))
            if value and not user[key]
        }
        if missing:
            user = self._update_user(conn, user, **missing)
        return user, False

    # --- companies ---------------------------------------------------------------------------

    def identify_company(
        self, org_id: str, external_id: str, columns: dict[str, Any], custom: dict[str, Any],
        context: dict[str, Any], user_id: str | None,
    ) -> tuple[dict[str, Any], bool, str | None]:
        """Upsert on ``company_id`` with traits/context merged; link the user when it exists."""
        now = timestamp()
        with self._tx() as conn:
            company = _row(conn.execute(
                select(companies).where(companies.c.org_id == org_id, companies.c.external_id == external_id)
            ).first())
            traits = dict(company["traits"]) if company else {}
            values: dict[str, Any] = {}
            for key, value in columns.items():
                if key == "name":
                    values["name"] = value
                else:
                    traits[key] = value
            values["traits"] = traits
            values["custom_fields"] = {**(company["custom_fields"] if company else {}), **custom}
            values["context"] = {**(company["context"] if company else {}), **context}
            if company is None:
                company = {
                    "id": str(uuid.uuid4()), "org_id": org_id, "external_id": external_id,
                    "name": None, "created_at": now, "updated_at": now, **values,
                }
                conn.execute(insert(companies).values(**company))
                created = True
            else:
                values["updated_at"] = now
                conn.execute(update(companies).where(companies.c.id == company["id"]).values(**values))
                company = {**company, **values}
                created = False
            linked = None
            if user_id:
                user = self._user_by(conn, org_id, external_id=user_id)
                if user is not None:
                    self._update_user(conn, user, company_id=company["id"])
                    linked = user_id
            return company, created, linked

    # --- events ------------------------------------------------------------------------------

    def record_events(
        self, org_id: str, items: list[dict[str, Any]], *, user: dict[str, Any] | None, session_id: str | None
    ) -> int:
        now = timestamp()
        rows = [
            {
                "id": str(uuid.uuid4()), "org_id": org_id,
                "end_user_id": user["id"] if user else None,
                "user_id": user["external_id"] if user else None,
                "session_id": session_id, "created_at": now, **item,
            }
            for item in items
        ]
        if rows:
            with self._tx() as conn:
                conn.execute(insert(events), rows)
        return len(rows)

    # --- series ------------------------------------------------------------------------------

    def put_automation(self, automation_id: str, *, kind: str, status: str, name: str | None) -> dict[str, Any]:
        row = {"id": automation_id, "kind": kind, "status": status, "name": name}
        with self._tx() as conn:
            if conn.execute(select(automations.c.id).where(automations.c.id == automation_id)).first():
                conn.execute(update(automations).where(automations.c.id == automation_id).values(**row))
            else:
                conn.execute(insert(automations).values(created_at=timestamp(), **row))
            return _row(conn.execute(select(automations).where(automations.c.id == automation_id)).first())

    def get_automation(self, automation_id: str) -> dict[str, Any] | None:
        with self._tx() as conn:
            return _row(conn.execute(select(automations).where(automations.c.id == automation_id)).first())

    def enroll(self, org_id: str, series_id: str, user: dict[str, Any]) -> tuple[bool, Any]:
        """``(True, scheduled_for)`` for a new enrollment, ``(False, None)`` when already enrolled."""
        with self._tx() as conn:
            existing = conn.execute(select(enrollments.c.seq).where(
                enrollments.c.org_id == org_id, enrollments.c.series_id == series_id,
                enrollments.c.end_user_id == user["id"],
            )).first()
            if existing is not None:
                return False, None
            scheduled = utc_now() + timedelta(minutes=5)
            conn.execute(insert(enrollments).values(
                org_id=org_id, series_id=series_id, end_user_id=user["id"],
                scheduled_for=timestamp(scheduled), created_at=timestamp(),
            ))
            return True, scheduled

    def unenroll(self, org_id: str, series_id: str, user: dict[str, Any]) -> int:
        with self._tx() as conn:
            result = conn.execute(delete(enrollments).where(
                enrollments.c.org_id == org_id, enrollments.c.series_id == series_id,
                enrollments.c.end_user_id == user["id"],
            ))
            return result.rowcount or 0

    # --- inspection --------------------------------------------------------------------------

    def recent(self, table: Table, limit: int, org_id: str | None = None) -> list[dict[str, Any]]:
        query = select(table)
        if org_id:
            query = query.where(table.c.org_id == org_id)
        with self._tx() as conn:
            return [dict(r._mapping) for r in conn.execute(query.order_by(table.c.seq.desc()).limit(limit))]

    def users_by_id(self, ids: set[str]) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        with self._tx() as conn:
            rows = conn.execute(select(end_users).where(end_users.c.id.in_(ids)))
            return {r.id: dict(r._mapping) for r in rows}

    def recent_tickets(self, limit: int, org_id: str | None = None) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
        rows = self.recent(tickets, limit, org_id)
        users = self.users_by_id({r["end_user_id"] for r in rows})
        return [(r, users.get(r["end_user_id"])) for r in rows]
