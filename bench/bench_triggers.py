"""New Submission trigger latency with 1,000,000 stored records.

What it measures: wall time of ``GET /v1/triggers/new_submission`` through the Flask test client
(routing, auth, parameter validation, the query with its ticket join, JSON) against a database
holding ``--records`` submissions (90% in the polled tenant, half of them with a ticket), for
the polls the platforms make: Zapier's newest-100 poll, Make's epoch poll just behind the head
(``after_id``), a catch-up poll from the middle (``after_id``), ``since`` an hour ago and
``since`` a month back. Budget (DESIGN.md): p99 <= 100 ms.

Records are bulk-loaded below the ORM: ``executemany`` in one transaction on SQLite (default),
``COPY`` on PostgreSQL (``--database-url postgresql://…``; the database should be empty, its
tables are created by the connector's migrations).

Run:  .venv/bin/python bench/bench_triggers.py [--records 1000000] [--polls 200] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402

API_KEY = "bench-key-123456"
TENANT = "default"
COLUMNS = ("tenant", "channel", "source", "event_id", "received_at", "updated_at", "content_type",
           "headers", "raw_body", "ticket_request", "customer_email", "customer_name", "resolved_by",
           "subject", "status", "status_reason", "attempts")
TICKET_COLUMNS = ("tenant", "submission_id", "halo_ticket_id", "created_at", "channel", "origin",
                  "customer_email", "subject", "source", "request", "response")


def submissions(count: int, start: datetime) -> Iterator[tuple[Any, ...]]:
    """``count`` realistic submissions, one every 2 s from ``start``; every 10th in another tenant."""
    for number in range(count):
        at = start + timedelta(seconds=2 * number)
        email = f"customer{number % 50_000}@example.com"
        request = {"subject": f"Form entry {number}", "message": "Hello, I need help with my order.",
                   "metadata": {"plan": "pro", "order": str(number)}, "customer": {"email": email}}
        delivered = number % 20 != 0
        yield ("other" if number % 10 == 9 else TENANT, "webhook", "typeform", f"evt-{number}", at, at,
               "application/json", "{}", b"", json.dumps(request), email, "Pat Example",
               "route:email_field", f"Form entry {number}",
               "delivered" if delivered else "needs_attention",
               None if delivered else "No customer email or user id was found.", 1)


def load_sqlite(path: str, count: int, start: datetime) -> None:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    stamp = "%Y-%m-%d %H:%M:%S.%f"
    rows = ((*row[:4], row[4].strftime(stamp), row[5].strftime(stamp), *row[6:])
            for row in submissions(count, start))
    marks = ",".join("?" * len(COLUMNS))
    with connection:
        connection.executemany(f"INSERT INTO submissions ({','.join(COLUMNS)}) VALUES ({marks})", rows)
        connection.execute(f"""INSERT INTO tickets ({','.join(TICKET_COLUMNS)})
            SELECT tenant, id, 'tkt_' || id, received_at, channel, source, customer_email, subject,
                   'typeform', '{{}}', '{{}}'
            FROM submissions WHERE status = 'delivered' AND id % 2 = 0""")
    connection.execute("ANALYZE")
    connection.close()


def load_postgres(url: str, count: int, start: datetime) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY submissions ({','.join(COLUMNS)}) FROM STDIN") as copy:
                for row in submissions(count, start):
                    copy.write_row(row)
            cursor.execute(f"""INSERT INTO tickets ({','.join(TICKET_COLUMNS)})
                SELECT tenant, id, 'tkt_' || id, received_at, channel, source, customer_email, subject,
                       'typeform', '{{}}', '{{}}'
                FROM submissions WHERE status = 'delivered' AND id % 2 = 0""")
        connection.commit()
        connection.execute("ANALYZE")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--polls", type=int, default=200, help="polls of each kind")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-triggers-"))
    url = args.database_url or f"sqlite:///{workdir}/connector.db"
    env = {"HALO_API_URL": "https://halo.bench/api/sdk", "HALO_API_KEY": "ab_live_bench",
           "CONNECTOR_API_KEYS": API_KEY, "DATABASE_URL": url, "WORKER_MODE": "external",
           "SANDBOX_ENABLED": "false", "LOG_LEVEL": "WARNING"}
    app = create_app(env)  # creates the schema
    services = app.extensions["halo_connector"]
    start = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(seconds=2 * args.records)
    started = time.perf_counter()
    if url.startswith("sqlite"):
        load_sqlite(url.split("///", 1)[1], args.records, start)
    else:
        load_postgres(services.store.url, args.records, start.replace(tzinfo=timezone.utc))
    print(f"loaded {args.records:,} submissions in {time.perf_counter() - started:.1f} s")

    client = app.test_client()
    headers = {"Authorization": f"Bearer {API_KEY}"}
    newest = client.get("/v1/triggers/new_submission?limit=1", headers=headers).get_json()[0]["id"]
    end = start + timedelta(seconds=2 * args.records)
    kinds = {
        "zapier newest 100": {},
        "make after_id at head": {"after_id": newest - 50},
        "catch-up after_id mid": {"after_id": newest // 2, "limit": 100},
        "since 1 hour ago": {"since": (end - timedelta(hours=1)).isoformat() + "Z"},
        "since 30 days ago": {"since": (end - timedelta(days=30)).isoformat() + "Z", "limit": 100},
    }
    everything: list[float] = []
    print(f"{'poll':26} {'items':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name, params in kinds.items():
        timings = []
        items = 0
        for _ in range(args.polls):
            began = time.perf_counter()
            response = client.get("/v1/triggers/new_submission", query_string=params, headers=headers)
            timings.append((time.perf_counter() - began) * 1000)
            items = len(response.get_json())
            assert response.status_code == 200
        everything += timings
        print(f"{name:26} {items:>5} {percentile(timings, .5):8.2f} {percentile(timings, .95):8.2f} "
              f"{percentile(timings, .99):8.2f}")
    p99 = percentile(everything, .99)
    print(f"{'all polls':26} {'':>5} {percentile(everything, .5):8.2f} {percentile(everything, .95):8.2f} "
          f"{p99:8.2f}")
    print(f"budget p99 <= 100 ms: {'met' if p99 <= 100 else 'MISSED'}")
    services.close()


if __name__ == "__main__":
    main()
