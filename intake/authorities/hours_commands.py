"""`intake authorities hours`: opening hours from a file, and the file of them."""

from __future__ import annotations

import datetime as dt

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from sqlalchemy import select

from intake import runtime
from intake.authorities import hours as hours_file
from intake.authorities.directory import DirectoryError
from intake.registrations.booking import LOCAL_TIME
from intake.store import models


@click.group("hours")
def hours() -> None:
    """Authorities' opening hours, slot length and seats (CSV; see docs/operating.md)."""


@hours.command("import")
@click.argument("csv_file", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def hours_import(csv_file: str) -> None:
    """Give each authority in FILE its weekly opening hours; the slots of the booking window
    follow, booked seats kept (audited). The file is taken whole or not at all."""
    try:
        with force_locale("en"), runtime.of(current_app).db.transaction() as session:
            done = hours_file.import_hours(session, csv_file, dt.datetime.now(dt.UTC))
    except DirectoryError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"opening hours of {done.authorities} authorities saved: {done.created} slots "
               f"made, {done.removed} removed")
    for key, conflicts in done.conflicts.items():
        click.echo(f"{key}: {len(conflicts)} booked appointment(s) no longer fit and are kept:")
        for conflict in conflicts:
            local = f"{conflict.starts_at.astimezone(LOCAL_TIME):%Y-%m-%d %H:%M}"
            why = ("outside the opening hours" if conflict.closed
                   else f"a slot now seats {conflict.seats_per_slot}")
            click.echo(f"  {local}: {conflict.taken} people booked, {why}")


@hours.command("export")
@click.argument("keys", metavar="[KEY]...", nargs=-1)
@with_appcontext
def hours_export(keys: tuple[str, ...]) -> None:
    """Print the opening hours of the authorities KEY (of every authority without) as the
    CSV file `hours import` takes."""
    with runtime.of(current_app).db.read() as session:
        known = set(session.scalars(select(models.Authority.key).where(
            models.Authority.key.in_(keys))))
        unknown = [key for key in keys if key not in known]
        if unknown:
            raise click.BadParameter(f"no authority {', '.join(unknown)}", param_hint="KEY")
        click.echo(hours_file.export_hours(session, list(keys)), nl=False)
