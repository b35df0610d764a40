"""The `intake` command (also `flask --app intake`)."""

from __future__ import annotations

import gc
import logging
import sys
import time
from pathlib import Path
from typing import Any

import click
import redis
from flask import current_app
from flask.cli import AppGroup, ScriptInfo, with_appcontext
from sqlalchemy.exc import OperationalError, ProgrammingError

from intake import config, create_app, observability, runtime, server
from intake.authorities.commands import authorities
from intake.authorities.demo import seed
from intake.authorities.hours_commands import hours
from intake.delivery import background, jobs, scheduler
from intake.delivery import commands as delivery_commands
from intake.registrations import commands as registrations_commands
from intake.security import commands as security_commands
from intake.store import blind_index
from intake.xaus import fetch

log = logging.getLogger(__name__)


def _runtime() -> runtime.Runtime:
    """The runtime of the app this command runs in, built once from Settings."""
    return runtime.of(current_app)


class IntakeGroup(AppGroup):
    """intake's own commands and options: not Flask's (-A, -e, --debug, run, shell), nor
    those Flask's plugins add (flask-limiter's `limiter`), nor the app's `app.cli`.

    Each command finds the app through create_app when it needs one, as FlaskGroup's would;
    listing the commands (--help) builds none. A database or Redis that cannot be used ends
    a command with a line saying so, not a traceback.
    """

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        # Settings come from the environment, read in config.py: no .env files, no
        # FLASK_DEBUG (and no hint that python-dotenv is missing where compose's .env is).
        extra.setdefault("obj", ScriptInfo(create_app=create_app, set_debug_flag=False,
                                           load_dotenv_defaults=False))
        return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (OperationalError, ProgrammingError) as error:
            raise click.ClickException(_database_problem(ctx, error)) from None
        except (redis.ConnectionError, redis.TimeoutError) as error:
            raise click.ClickException(
                f"Redis cannot be reached ({type(error).__name__}): check INTAKE_REDIS_URL "
                "and that its server runs") from None


def _database_problem(ctx: click.Context, error: Exception) -> str:
    """What to do about a database that refused a command (its class only: a driver's own
    words may quote what was sent)."""
    kind = type(getattr(error, "orig", error)).__name__
    try:
        revision = runtime.of(ctx.ensure_object(ScriptInfo).load_app()).db.current()
    except Exception:  # unreachable, refusing the credentials, ...
        return (f"the database cannot be reached ({kind}): check INTAKE_DATABASE_URL and "
                "that its server runs")
    if revision is None:
        return f"the database has no schema yet ({kind}): run `intake db upgrade`"
    return (f"the database refused the command ({kind}); it is at revision {revision}: "
            "does `intake db upgrade` take it further?")


@click.group(cls=IntakeGroup)
@click.version_option(package_name="intake", message="intake %(version)s")
def main() -> None:
    """Emergency intake: registration, queue and XAusländer delivery."""
    observability.configure_logging()


main.add_command(authorities)
authorities.add_command(hours)  # `intake authorities hours`


@main.command()
@with_appcontext
def serve() -> None:
    """Run web, worker and scheduler (and an embedded Redis when none is configured)."""
    sys.exit(server.serve(_runtime().settings))


@main.command()
@with_appcontext
def web() -> None:
    """Run the production web server (granian) on INTAKE_BIND."""
    server.run_web(_runtime().settings)


@main.command()
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@with_appcontext
def worker(burst: bool) -> None:
    """Run one RQ worker on all queues."""
    rt = _runtime()
    runtime.bind(rt)
    # Background work yields the CPU to the web server where both share a machine: an
    # arriving registration waits for nobody, while its messages may wait a moment.
    background.yield_to_web(rt.db.takes_write_lock_in_process)
    # Compile the schema set and the jobs' statements once, before forking: each job's work
    # horse inherits them instead of spending 0.2 s compiling them again.
    _ = rt.schema
    log.info("messages are validated by: %s",
             "the official schema set and the own checks" if rt.settings.xsd_dir
             else "the own checks only (no official schema set)")
    jobs.warm(rt)
    # What exists now lives as long as the worker: keep it out of every garbage collection
    # (cheaper collections, and pages stay shared with the forked work horses).
    gc.freeze()
    pause = 1.0
    while True:
        try:
            rt.worker().work(burst=burst, with_scheduler=True)
            return
        except redis.RedisError as error:
            # Redis went away, even mid-job: what the job did is in the database, and the
            # scheduler offers again what it did not finish. Wait for Redis, then go on.
            log.warning("Redis unreachable (%s); the worker goes on in %.0f s",
                        type(error).__name__, pause)
            time.sleep(pause)
            pause = min(pause * 2, 30.0)


@main.command("scheduler")
@click.option("--seconds", type=float, default=None, help="Stop after this long.")
@with_appcontext
def scheduler_command(seconds: float | None) -> None:
    """Move owed work from the database to the queue, and restore lost jobs."""
    rt = _runtime()
    scheduler.run(rt, rt.settings.relay_interval, stop_after=seconds)


@main.group()
def db() -> None:
    """Database schema."""


@db.command()
@click.argument("revision", default="head")
@with_appcontext
def upgrade(revision: str) -> None:
    """Create or migrate the schema (to REVISION; by default the newest), then index the
    persons stored before an index existed."""
    from alembic.util import CommandError  # as store.database: alembic only when migrating

    app_runtime = _runtime()
    try:
        app_runtime.db.upgrade(revision)
    except CommandError as error:  # no traceback for a typo
        raise click.ClickException(f"cannot upgrade to {revision!r}: {error}") from None
    click.echo(f"database schema is at revision {app_runtime.db.current()}")
    # Here, not in the migration: indexes are keyed hashes of decrypted names, and a
    # migration has no keys. Only at the newest revision, where the models' columns exist.
    if revision == "head":
        filled = blind_index.fill_missing(app_runtime.db, app_runtime.cipher)
        if filled:
            click.echo(f"search indexes written for persons stored before them: {filled}")


@db.command(context_settings={"ignore_unknown_options": True})  # so that -1 is a revision
@click.argument("revision")
@with_appcontext
def downgrade(revision: str) -> None:
    """Migrate the schema back to REVISION (an id such as 0012, or -1 for one step)."""
    try:
        _runtime().db.downgrade(revision)
    except Exception as error:  # Alembic's CommandError and friends: no traceback for a typo
        raise click.ClickException(f"cannot downgrade to {revision!r}: {error}") from None
    click.echo(f"database schema is at revision {_runtime().db.current() or 'none (empty)'}")


@db.command()
@with_appcontext
def current() -> None:
    """The revision the database is at."""
    click.echo(_runtime().db.current() or "none (run `intake db upgrade`)")


@db.command()
@click.option("-m", "--message", required=True, help="what the migration does, in a few words")
@with_appcontext
def revision(message: str) -> None:
    """Write a new migration from the models' changes (autogenerate; upgrade first)."""
    try:
        path = _runtime().db.revision(message)
    except Exception as error:  # e.g. "Target database is not up to date."
        raise click.ClickException(f"no migration written: {error}") from None
    click.echo(f"wrote {path}: read it, complete what autogenerate cannot see, test "
               "`intake db upgrade` and `intake db downgrade -1`, then commit it")


@main.command("demo-seed")
@with_appcontext
def demo_seed() -> None:
    """Demo authorities with their postal codes, opening hours and slots (not in production)."""
    if _runtime().settings.env == "production":
        # Made-up hours and slots would take real households' bookings.
        raise click.ClickException(
            "demo-seed is refused in production (INTAKE_ENV=production): load the official "
            "list with `intake authorities import` and opening hours with `intake authorities "
            "hours import`")
    with _runtime().db.transaction() as session:
        count = seed(session)
    click.echo(f"{count} demo authorities ready")


@main.group()
def schemas() -> None:
    """The official XAusländer 26.11 schema set and code lists."""


@schemas.command("fetch", with_appcontext=False)
@click.option(
    "--into", type=click.Path(path_type=Path), default=None,
    help="Folder to install them in [default: INTAKE_INSTANCE_DIR/xoev, found by itself].",
)
@click.option("--mirror", default=None, help="Fetch https://HOST/PATH from MIRROR/HOST/PATH.")
def schemas_fetch(into: Path | None, mirror: str | None) -> None:
    """Download them from XRepository, verify them, and install them whole or not at all."""
    target = into or config.instance_dir() / "xoev"
    try:
        fetched = fetch.fetch(target, mirror=mirror)
    except fetch.FetchError as error:
        raise click.ClickException(f"{error}\nNothing was written to {target}.") from None
    for path, (source, _digest, licence) in sorted(fetched.files.items()):
        click.echo(f"{path}  <- {source}  (licence stated: {licence})")
    click.echo(f"{len(fetched.files)} files verified and installed in {fetched.folder}")


for command in (*security_commands.GROUPS, *delivery_commands.COMMANDS,
                *registrations_commands.COMMANDS):
    main.add_command(command)


if __name__ == "__main__":
    main()
