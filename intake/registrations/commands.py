"""Commands for registrations' personal data: erased on request, or when retention ends."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from intake import progress, runtime
from intake.delivery import scheduler
from intake.registrations import register, retention
from intake.security import audit


def _runtime() -> runtime.Runtime:
    return runtime.of(current_app)


@click.command()
@click.argument("reference")
@with_appcontext
def erase(reference: str) -> None:
    """Delete one registration's personal data now (audited)."""
    rt = _runtime()
    with rt.db.transaction() as session:
        found = register.by_reference(session, reference)
        if found is None:
            raise click.BadParameter(f"no registration {reference}", param_hint="'REFERENCE'")
        retention.erase(session, found, rt.cipher, rt.settings.xml_out, rt.blobs)
        audit.record(session, None, "erase", "registration", found.id)
    click.echo(f"personal data of {reference} erased")


@click.group("retention")
def retention_group() -> None:
    """Deleting personal data when its purpose ends."""


@retention_group.command("run")
@with_appcontext
def retention_run() -> None:
    """Erase now what the scheduler erases every hour: the batches acknowledged longer than
    INTAKE_RETENTION_DAYS ago, their files, and their registrations' personal data."""
    rt = _runtime()
    count = scheduler.expire(rt, progress.shown)
    with rt.db.transaction() as session:
        audit.record(session, None, "expire", "retention", str(count))
    click.echo(f"{count} batch(es) past retention erased, with their registrations' "
               "personal data")


COMMANDS = (erase, retention_group)
