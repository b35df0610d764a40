"""Fixtures: a real database and a real Redis for every test that needs them.

Every test that takes `settings` runs on SQLite with an embedded Redis server, and again on
PostgreSQL with the Redis server when INTAKE_TEST_DATABASE_URL / INTAKE_TEST_REDIS_URL are set.
Apps validate every message against the official schema set where one is found
(tests/helpers/official.py), and by the service's own checks alone where none is.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import redis
from sqlalchemy import Connection, Engine, create_engine, text

from intake import create_app
from intake.authorities.demo import seed
from intake.config import Settings, new_data_key, parse_data_keys
from intake.delivery.redis_connection import EmbeddedRedis
from intake.runtime import Runtime
from intake.security import tokens
from intake.store import models
from intake.store.database import MIGRATIONS
from tests.helpers import national, official
from tests.helpers.staff import create_staff, sign_in

PG_URL = os.environ.get("INTAKE_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("INTAKE_TEST_REDIS_URL")
BACKENDS = ["embedded"] + (["servers"] if PG_URL and REDIS_URL else [])


@pytest.fixture(scope="session")
def xsd_dir() -> Path:
    """The official schema set, for a test that means nothing without it (skips when absent)."""
    return official.require()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Report every skip for a missing official set at one place, so the summary has one line.

    pytest names the test as a skip's place when a fixture skips, which would give a line per
    test file for the same reason.
    """
    report = yield
    if report.skipped and isinstance(report.longrepr, tuple):
        _path, _line, reason = report.longrepr
        if reason.endswith(official.MISSING):
            report.longrepr = (official.__file__, official.SKIP_LINE, reason)
    return report


@pytest.fixture(scope="session")
def national_set(tmp_path_factory: pytest.TempPathFactory) -> national.NationalSet:
    """A national directory shaped like the real files, made once per run (seeded)."""
    return national.generate(tmp_path_factory.mktemp("national"))


@pytest.fixture(scope="session")
def regional_set(tmp_path_factory: pytest.TempPathFactory) -> national.NationalSet:
    """The same shapes for two Länder (some 900 postal codes, 19 asking for the place), for
    tests of what a place does: imported in a tenth of the national set's time."""
    return national.generate(tmp_path_factory.mktemp("regional"), lands=("03", "04"))


@pytest.fixture(scope="session")
def embedded_redis() -> Iterator[EmbeddedRedis]:
    # A short private path: unix socket paths are limited to 107 bytes.
    with tempfile.TemporaryDirectory(prefix="intake-redis-") as folder:
        server = EmbeddedRedis(Path(folder))
        server.start()
        yield server
        server.stop()


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "servers":
        assert PG_URL and REDIS_URL
        # A test without the app (it migrates by itself) gets an empty database.
        seeded = (request.getfixturevalue("seeded_postgresql")
                  if "app" in request.fixturenames else None)
        request.node.pg_seeded = _reset_postgresql(PG_URL, seeded)
        database_url, redis_url = PG_URL, REDIS_URL
    else:
        server = request.getfixturevalue("embedded_redis")
        database_url = f"sqlite:///{tmp_path / 'instance' / 'intake.db'}"
        redis_url = f"unix://{server.socket}"
    redis.Redis.from_url(redis_url).flushdb()
    return Settings(
        env="test",
        instance_dir=tmp_path / "instance",
        database_url=database_url,
        redis_url=redis_url,
        secret_key="test-secret",
        data_keys=parse_data_keys(new_data_key("t1")),
        index_key=b"i" * 32,
        xml_out=tmp_path / "xml_out",
        xsd_dir=official.folder(),  # None: the service's own checks only, as in a fresh clone
    )


_HEAD = sorted(path.name[:4] for path in (MIGRATIONS / "versions").glob("0*.py"))[-1]
# Tables in an order that fills referenced tables first.
_TABLES = [table.name for table in models.Base.metadata.sorted_tables]
_REFERENCED = {table.name: {key.column.table.name for key in table.foreign_keys}
               for table in models.Base.metadata.sorted_tables}


@dataclass(frozen=True)
class _Seeded:
    """A seeded PostgreSQL database at the newest revision: each table's digest (of its rows
    as text), the rows of the tables the seed fills (COPY's binary form), each sequence's
    state (last value, called)."""

    digests: dict[str, str]
    rows: dict[str, bytes]
    sequences: dict[str, tuple[int, bool]]


@cache
def _engine(url: str) -> Engine:
    return create_engine(url)


def _digests(connection: Connection) -> dict[str, str]:
    """Each table's rows, as text in a fixed order, by their MD5 (of "" when empty)."""
    digest = "md5(coalesce(string_agg(_row::text, '|' ORDER BY _row::text), ''))"
    return dict(connection.execute(text(" UNION ALL ".join(  # table names from the models
        f"""SELECT '{name}', {digest} FROM "{name}" _row""" for name in _TABLES))).all())  # noqa: S608


def _sequences(connection: Connection) -> dict[str, tuple[int, bool]]:
    return {name: (start if last is None else last, last is not None) for name, start, last in
            connection.execute(text("SELECT quote_ident(sequencename), start_value, last_value "
                                    "FROM pg_sequences WHERE schemaname = 'public'"))}


def _copy_out(connection: Connection, name: str) -> bytes:
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f'COPY "{name}" TO STDOUT (FORMAT binary)') as copy:
        return b"".join(bytes(block) for block in copy)


def _copy_in(connection: Connection, name: str, rows: bytes) -> None:
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f'COPY "{name}" FROM STDIN (FORMAT binary)') as copy:
        copy.write(rows)


@pytest.fixture(scope="session")
def seeded_postgresql(tmp_path_factory: pytest.TempPathFactory) -> _Seeded:
    """The test database migrated to the newest revision and seeded, once per run; what each
    test needs to put it back into that state (`_reset_postgresql`)."""
    assert PG_URL
    _reset_postgresql(PG_URL, None)
    folder = tmp_path_factory.mktemp("seeded-postgresql")
    runtime = Runtime(Settings(env="test", instance_dir=folder, database_url=PG_URL,
                               secret_key="seed", data_keys=parse_data_keys(new_data_key("s1")),
                               index_key=b"s" * 32, xml_out=folder / "xml_out"))
    _migrate_and_seed(runtime)
    runtime.close()
    with _engine(PG_URL).begin() as connection:
        digests = _digests(connection)
        rows = {name: _copy_out(connection, name)
                for name in _TABLES if digests[name] != _EMPTY}
        return _Seeded(digests, rows, _sequences(connection))


_EMPTY = hashlib.md5(b"", usedforsecurity=False).hexdigest()  # a table without rows


def _reset_postgresql(url: str, seeded: _Seeded | None) -> bool:
    """The database the next test needs: the seeded one, when given, else an empty one.

    A schema at the newest revision with the tables the models declare (what the last test
    left, nearly always) is put back into the seeded state: the tables whose rows differ from
    it are emptied and the seed's rows copied back, the sequences set as the seed left them.
    That takes some 20 ms, where emptying every table (TRUNCATE) and seeding again through
    the models took 0.2-0.5 s for each of some 350 tests. Anything else is dropped. Returns
    whether the database is seeded (else it is empty)."""
    with _engine(url).begin() as connection:
        tables = {row[0] for row in connection.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))}
        version = (connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
                   if "alembic_version" in tables else None)
        if (seeded is not None and version == _HEAD and tables == {*_TABLES, "alembic_version"}
                and _sequences(connection).keys() == seeded.sequences.keys()):
            digests = _digests(connection)
            changed = {name for name in _TABLES if digests[name] != seeded.digests[name]}
            # Rows referring to a table about to be emptied go too (and come back).
            while more := {name for name in _TABLES if name not in changed
                           and digests[name] != _EMPTY and _REFERENCED[name] & changed}:
                changed |= more
            for name in reversed(_TABLES):
                if name in changed:
                    connection.execute(text(f'DELETE FROM "{name}"'))  # noqa: S608 (models)
            for name in _TABLES:
                if name in changed and name in seeded.rows:
                    _copy_in(connection, name, seeded.rows[name])
            connection.execute(text("SELECT " + ", ".join(
                f"setval('{name}', {value}, {called})"
                for name, (value, called) in seeded.sequences.items())))
            return True
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    return False


@pytest.fixture(scope="session")
def seeded_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to the newest revision and seeded, made once per run: each
    test starts from a copy (migrating and seeding anew cost 0.2-0.3 s a test)."""
    path = tmp_path_factory.mktemp("seeded") / "intake.db"
    engine_runtime = Runtime(Settings(env="test", instance_dir=path.parent,
                                      database_url=f"sqlite:///{path}", secret_key="seed",
                                      data_keys=parse_data_keys(new_data_key("s1")),
                                      index_key=b"s" * 32, xml_out=path.parent / "xml_out"))
    _migrate_and_seed(engine_runtime)
    engine_runtime.close()  # the last connection folds the write-ahead log into the file
    return path


def _migrate_and_seed(runtime: Runtime) -> None:
    runtime.db.upgrade()
    with runtime.db.transaction() as session:
        seed(session)


@pytest.fixture
def app(settings: Settings, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    app = create_app(settings)
    app.config.update(TESTING=True)
    rt: Runtime = app.extensions["intake"]
    if settings.database_url.startswith("sqlite:///"):
        target = Path(settings.database_url.removeprefix("sqlite:///"))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(request.getfixturevalue("seeded_sqlite"), target)
    elif not getattr(request.node, "pg_seeded", False):
        _migrate_and_seed(rt)
    yield app
    rt.close()


@pytest.fixture
def runtime(app) -> Runtime:  # type: ignore[no-untyped-def]
    rt: Runtime = app.extensions["intake"]
    return rt


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def submit_token(runtime: Runtime) -> str:
    with runtime.db.transaction() as session:
        return tokens.create(session, "test partner", "submit")


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """argon2id as in production, at its lowest cost: a production hash takes 0.1 s, and the
    suite signs staff in hundreds of times (as Django's test settings swap the hasher)."""
    from argon2 import PasswordHasher

    from intake.security import staff

    production = staff._HASHER, staff._DUMMY_HASH
    staff._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    staff._DUMMY_HASH = staff._HASHER.hash("dummy")
    yield
    staff._HASHER, staff._DUMMY_HASH = production


@pytest.fixture
def staff_clients(app, runtime):  # type: ignore[no-untyped-def]
    """A signed-in client per role: a volunteer of a reception centre serving authorities A
    (073400) and B (073000), authority A, authority B, an admin. Nobody works for 075600."""
    accounts = {
        "volunteer": ("vol@example.org", "volunteer", ("073400", "073000")),
        "authority_a": ("a@example.org", "authority", ("073400",)),
        "authority_b": ("b@example.org", "authority", ("073000",)),
        "admin": ("admin@example.org", "admin", ()),
    }
    clients = {"anonymous": app.test_client()}
    for name, (email, role, authorities) in accounts.items():
        account = create_staff(runtime, email, role, authorities=authorities)
        client = app.test_client()
        assert sign_in(client, account).status_code == 303
        clients[name] = client
    return clients




@pytest.fixture
def smtp_server(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A real SMTP server on loopback (STARTTLS and a password), tests/helpers/smtp.py."""
    from tests.helpers.smtp import SmtpServer

    server = SmtpServer(tmp_path)
    server.controller.start()
    yield server
    server.controller.stop()
