"""What the database holds as raw bytes, and the personal data that must never appear in it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from intake.runtime import Runtime

SECRETS = ("Shevchenko", "FE123456", "Olena", "Kyiv", "1990-05-01")


def raw_database_text(runtime: Runtime) -> bytes:
    """Everything the database holds, as bytes: the SQLite files, or every PostgreSQL row."""
    url = runtime.settings.database_url
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        files = (path, path.with_name(path.name + "-wal"))
        return b"".join(file.read_bytes() for file in files if file.exists())
    with runtime.db.engine.connect() as connection:
        tables = inspect(connection).get_table_names()
        rows = [
            connection.execute(text(f"SELECT row_to_json(t)::text FROM {table} t")).scalars()  # noqa: S608
            for table in tables
        ]
        return "\n".join(row for result in rows for row in result).encode()

