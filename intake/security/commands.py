"""Commands for security: staff accounts, API tokens, data keys and the audit log.

Each change is audited (intake.security.audit); no command prints a secret except the one it
makes, once.
"""

from __future__ import annotations

import datetime as dt
import json

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import IntegrityError

from intake import progress, runtime
from intake.security import audit, crypto, rotation, second_factor, staff, tokens


def _runtime() -> runtime.Runtime:
    return runtime.of(current_app)


@click.group()
def user() -> None:
    """Staff accounts."""


@user.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(staff.ROLES))
@click.option("--authority", "authorities", multiple=True, metavar="KEY",
              help="The authority it works for: one for an authority account, one or more "
                   "(repeat the option) for a volunteer, none for an admin.")
@with_appcontext
def user_create(email: str, role: str, authorities: tuple[str, ...]) -> None:
    """Create a staff account and print its one-time password (changed at first sign-in)."""
    try:
        with _runtime().db.transaction() as session:
            password = staff.create_user(session, email, role, authorities)
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    except IntegrityError as error:
        raise click.UsageError(f"an account for {email} exists already") from error
    click.echo(password)


@user.command("bind")
@click.argument("email")
@click.option("--authority", "authorities", multiple=True, required=True, metavar="KEY",
              help="An authority the volunteer works for (repeat for more).")
@with_appcontext
def user_bind(email: str, authorities: tuple[str, ...]) -> None:
    """Set the authorities a volunteer works for: it sees their registrations only (audited)."""
    try:
        with _runtime().db.transaction() as session:
            if not staff.bind(session, email, authorities):
                raise click.ClickException(f"no account for {email}")
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    click.echo(f"{email} works for {', '.join(sorted(set(authorities)))}")


@user.command("list")
@with_appcontext
def user_list() -> None:
    """Every staff account: id, e-mail, role, the authorities it works for, state, and
    whether a second factor is set up."""
    with _runtime().db.read() as session:
        for account in staff.listing(session):
            state = "disabled" if account.disabled_at else "active"
            works_for = ",".join(sorted(staff.authorities_of(session, account))) or "-"
            enrolled = "second factor" if second_factor.enrolled(account) else "no second factor"
            click.echo(f"{account.id}\t{account.email}\t{account.role}\t{works_for}\t"
                       f"{state}\t{enrolled}")


@user.command("disable")
@click.argument("email")
@with_appcontext
def user_disable(email: str) -> None:
    """Disable an account and end its sessions (audited)."""
    with _runtime().db.transaction() as session:
        if not staff.disable(session, email):
            raise click.ClickException(f"no account for {email}")
    click.echo(f"{email} is disabled")


@user.command("reset")
@click.argument("email")
@click.option("--second-factor", "lost_phone", is_flag=True,
              help="Also remove the authenticator app and recovery codes (a lost phone): "
                   "the next sign-in sets up a new one.")
@with_appcontext
def user_reset(email: str, lost_phone: bool) -> None:
    """Print a new one-time password for an account; the old one stops (audited)."""
    with _runtime().db.transaction() as session:
        password = staff.reset(session, email, second_factor_too=lost_phone)
    if password is None:
        raise click.ClickException(f"no account for {email}")
    click.echo(password)


@click.group()
def keys() -> None:
    """Field encryption keys."""


@keys.command("rotate")
@click.option("--batch", default=500, show_default=True, type=click.IntRange(min=1),
              help="Rows per page (read, re-encrypted, then written in one short "
                   "transaction).")
@with_appcontext
def keys_rotate(batch: int) -> None:
    """Re-encrypt every personal field with INTAKE_DATA_KEYS' newest key (service stays up)."""
    try:
        values, files = rotation.rotate(_runtime(), batch, meter=progress.shown)
    except crypto.DecryptionError as error:  # says which key, never a value
        raise click.ClickException(
            f"stopped: {error}. A key missing from INTAKE_DATA_KEYS goes back in (after the "
            "newest), then rotate again; what was re-encrypted stays so") from None
    with _runtime().db.transaction() as session:
        audit.record(session, None, "rotate", "data_key", _runtime().cipher.current_key_id)
    click.echo(f"{values} values and {files} batch files re-encrypted with key "
               f"{_runtime().cipher.current_key_id}")


@click.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.argument("name")
@click.option("--scope", required=True, help="submit | authority:KEY")
@with_appcontext
def token_create(name: str, scope: str) -> None:
    """Create an API token and print it once."""
    try:
        with _runtime().db.transaction() as session:
            value = tokens.create(session, name, scope)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--scope") from error
    click.echo(value)


@token.command("list")
@with_appcontext
def token_list() -> None:
    """Every API token: id, name, scope, created, state (never its value)."""
    with _runtime().db.read() as session:
        for found in tokens.listing(session):
            state = f"revoked {found.revoked_at:%Y-%m-%d}" if found.revoked_at else "live"
            click.echo(f"{found.id}\t{found.name}\t{found.scope}\t"
                       f"{found.created_at:%Y-%m-%d}\t{state}")


@token.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def token_revoke(token_id: int) -> None:
    """Revoke a token (audited); web processes stop taking it within 30 s."""
    with _runtime().db.transaction() as session:
        if not tokens.revoke(session, token_id):
            raise click.ClickException(f"no token {token_id} (or revoked already)")
    click.echo(f"token {token_id} is revoked")


@click.group("audit")
def audit_group() -> None:
    """The audit log."""


@audit_group.command("export")
@click.option("--since", "moment", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
              default="1970-01-01", help="From this day (UTC), or moment; default: all.")
@with_appcontext
def audit_export(moment: dt.datetime) -> None:
    """Print the audit log as JSON lines: who viewed or changed which record, when."""
    with _runtime().db.read() as session:
        for entry in audit.since(session, moment.replace(tzinfo=dt.UTC)):
            click.echo(json.dumps(entry, ensure_ascii=False))


GROUPS = (user, keys, token, audit_group)
