"""The SQLite file under write load: commits leave the write-ahead log to the scheduler."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from intake import scheduler
from intake.db import Database


def write_megabytes(database: Database, count: int) -> None:
    for _ in range(count):
        with database.transaction() as session:
            session.execute(text("INSERT INTO filler VALUES (randomblob(1000000))"))


def test_no_commit_copies_the_log_into_the_database_the_checkpoint_does(tmp_path: Path):
    file = tmp_path / "intake.db"
    database = Database(f"sqlite:///{file}")
    try:
        with database.transaction() as session:
            session.execute(text("CREATE TABLE filler (data BLOB)"))

        write_megabytes(database, 12)  # 3,000 pages: SQLite's own mark is 1,000

        assert file.stat().st_size < 1_000_000  # every page still only in the log
        assert database.checkpoint() > 2_900
        assert file.stat().st_size > 12_000_000
    finally:
        database.dispose()


def test_the_scheduler_checkpoints(runtime):
    if not runtime.settings.database_url.startswith("sqlite"):
        assert runtime.db.checkpoint() == 0  # PostgreSQL checkpoints by itself
        return
    file = Path(runtime.settings.database_url.split("///", 1)[1])
    with runtime.db.transaction() as session:
        session.execute(text("CREATE TABLE filler (data BLOB)"))
    write_megabytes(runtime.db, 3)
    before = file.stat().st_size

    scheduler.run(runtime, interval=0.05, stop_after=0.3)

    assert file.stat().st_size > before + 3_000_000
