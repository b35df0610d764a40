"""Engine and sessions; schema migrations through Alembic."""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    bindparam,
    create_engine,
    event,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import QueryableAttribute, Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
# SQLite copies the write-ahead log into the database (a checkpoint) inside the commit that
# takes the log past this many pages, while that writer holds the write lock. The scheduler
# checkpoints every second instead (`Database.checkpoint`), beside the writers; this much
# higher mark (SQLite's default is 1,000 pages) is reached only when no scheduler runs, or
# when readers keep the log from starting over.
WAL_BACKSTOP_PAGES = 8000


log = logging.getLogger(__name__)


class Database:
    """One engine per process, and sessions that commit or roll back as a unit."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._writer_lock: str | None = None
        if url.startswith("sqlite"):
            self._writer_lock = _ensure_sqlite_folder(url)
            self.engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        else:
            self.engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
        # hide_parameters: an error's message quotes its SQL, never the values (encrypted
        # fields, references, hashes), so that logged tracebacks carry none.
        writer = self.engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")
        self._writers = sessionmaker(writer, expire_on_commit=False)
        self._readers = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def takes_write_lock_in_process(self) -> bool:
        """Whether a writer holds the database's write lock itself (an SQLite file), rather
        than the database server holding locks for it."""
        return self._writer_lock is not None

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one write transaction: committed on success, rolled back on error.

        On SQLite the write lock is taken at the start (BEGIN IMMEDIATE), so a transaction
        that reads and then writes never fails halfway because another writer came first.
        """
        with self._writer_turn(), self._writers() as session, session.begin():
            yield session

    @contextmanager
    def _writer_turn(self) -> Iterator[None]:
        """On an SQLite file, wait for the one writer slot in the kernel (flock), which wakes
        the next writer the moment the slot is free. SQLite's own busy handler sleeps up to
        100 ms between tries: under load, writers waited many times longer than any held it.
        """
        if self._writer_lock is None:
            yield
            return
        handle = os.open(self._writer_lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            os.close(handle)  # releases the lock

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading only; never blocks or is blocked by writers."""
        with self._readers() as session, session.begin():
            yield session

    def upgrade(self, revision: str = "head") -> None:
        """Create or migrate the schema to a revision, by default the newest."""
        self._migrate("upgrade", revision)

    def downgrade(self, revision: str) -> None:
        """Migrate the schema back to an older revision."""
        self._migrate("downgrade", revision)

    def revision(self, message: str) -> Path:
        """Write a new migration that takes the schema from the newest revision to the
        models (Alembic's autogenerate, against this database at the newest revision);
        returns its file, for the author to read and complete before committing."""
        from alembic import command
        from alembic.script import ScriptDirectory

        config = self._alembic_config()
        head = ScriptDirectory.from_config(config).get_current_head() or "0000"
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            script = command.revision(
                config, message, autogenerate=True, rev_id=f"{int(head) + 1:04d}"
            )
        if script is None or isinstance(script, list):  # the history has one head
            raise RuntimeError("autogenerate wrote no single migration")
        return Path(script.path)

    def current(self) -> str | None:
        """The revision this database is at (None before the first upgrade)."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def _migrate(self, direction: str, revision: str) -> None:
        from alembic import command

        config = self._alembic_config()
        with (
            self.engine.connect() as connection,
            self._foreign_keys_deferred(connection),
            connection.begin(),
        ):
            config.attributes["connection"] = connection
            getattr(command, direction)(config, revision)

    @staticmethod
    @contextmanager
    def _foreign_keys_deferred(connection: Any) -> Iterator[None]:
        """On SQLite, a migration in batch mode copies a table and drops the old one, which
        rows pointing at it would refuse: foreign keys are off while it runs (as Alembic's
        batch mode advises), and checked once it is done."""
        if connection.dialect.name != "sqlite":
            yield
            return
        raw = connection.connection.driver_connection
        raw.execute("PRAGMA foreign_keys=OFF")  # outside a transaction: inside, it is ignored
        try:
            yield
            broken = raw.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration left {len(broken)} rows pointing nowhere")
        finally:
            raw.execute("PRAGMA foreign_keys=ON")

    @staticmethod
    def _alembic_config() -> Any:
        # Imported here: Alembic costs a third of a second that only migrations need.
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        # Files named as the existing ones: 0014_what_it_does.py.
        config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
        return config

    def checkpoint(self) -> int:
        """On SQLite, copy the write-ahead log into the database without taking the write
        lock (a passive checkpoint: writers go on meanwhile); returns how many frames of the
        log are in the database file now (0 while a reader holds back an older snapshot).

        Under load, checkpoints inside commits held every writer up: the committing web
        leader held the lock several times longer.
        """
        if self._writer_lock is None:
            return 0
        with self.engine.connect() as connection:
            _busy, _logged, copied = connection.exec_driver_sql(
                "PRAGMA wal_checkpoint(PASSIVE)"
            ).one()
        return max(int(copied), 0)

    def dispose(self) -> None:
        self.engine.dispose()

    def fill_pool(self) -> None:
        """Open the connections the pool keeps, so that the first requests do not wait for
        them (on PostgreSQL, a fresh server's first requests' p99). A failure only leaves the
        pool to open them later."""
        size = getattr(self.engine.pool, "size", lambda: 0)()
        connections = []
        try:
            for _ in range(size):
                connections.append(self.engine.connect())
        except Exception:  # the database may come up later; /readyz tells
            log.warning("could not open the database connections ahead of requests")
        finally:
            for connection in connections:
                connection.close()  # back into the pool, open


def insert_unless_taken(dialect: str, table: Table) -> Any:
    """An INSERT that skips a row whose unique values are taken (ON CONFLICT DO NOTHING):
    the caller finds nothing RETURNING instead of an aborted transaction."""
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing()


def one_of(
    dialect: str, column: ColumnElement[Any] | QueryableAttribute[Any], values: Sequence[str]
) -> ColumnElement[bool]:
    """`column IN values`, the values bound as one parameter (an array; JSON on SQLite).

    A plain IN binds a parameter per value: a statement of 1,000 ids is rendered anew and
    converted by the driver every time it runs (psycopg caches only short statements),
    which took as long as PostgreSQL took to run it. Unnested, not `= ANY(array)`: for
    that PostgreSQL weighs each value against the column's statistics while planning
    (5 ms for 1,000), where a set of rows needs no estimate per value.
    """
    if dialect == "postgresql":
        array = bindparam(None, list(values), type_=postgresql.ARRAY(String))
        return column.in_(select(func.unnest(array)))
    rows = func.json_each(bindparam(None, json.dumps(list(values)))).table_valued("value")
    return column.in_(select(rows.c.value))


@contextmanager
def without_overwriting(session: Session) -> Iterator[None]:
    """Rows deleted in the block may leave their content in the SQLite file's free pages
    (PRAGMA secure_delete=FAST: the rows' own pages are still cleared, free pages are not
    written): for content sealed with a key that goes, overwritten, with another row
    (documents.store). PostgreSQL never overwrites."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    session.execute(text("PRAGMA secure_delete=FAST"))
    try:
        yield
    finally:
        session.execute(text("PRAGMA secure_delete=ON"))  # as _sqlite_connect left it


def _sqlite_connect(connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (_sqlite_begin).
    connection.isolation_level = None
    # WAL lets readers go on while one writer commits; FULL makes an acknowledged
    # registration survive a power cut, which is the promise made to the applicant.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted content is overwritten, not left in free pages for anyone with the file: the
    # default of some builds only (Debian's), and personal data is deleted when its
    # purpose ends. It costs writes: a sweep's erased documents are written once more.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_BACKSTOP_PAGES}")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql(connection.get_execution_options().get("sqlite_begin", "BEGIN"))


def _ensure_sqlite_folder(url: str) -> str | None:
    """Create the database file's folder; returns the path of its writer lock (None for a
    database in memory)."""
    path = url.split("///", 1)[-1]
    if not path or path == ":memory:":
        return None
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return f"{path}-writer"
