"""`intake authorities`: the authority directory and the authorities' public keys."""

from __future__ import annotations

from typing import BinaryIO

import click
from flask import current_app
from flask.cli import with_appcontext

from intake import runtime
from intake.authorities import directory, keys
from intake.security import sealing


@click.group()
def authorities() -> None:
    """The authority directory."""


@authorities.command("import")
@click.argument("abh_list", type=click.Path(exists=True, dir_okay=False))
@click.option("--postal-codes", type=click.Path(exists=True, dir_okay=False),
              help="CSV of postal_code,authority_key rows to route.")
@with_appcontext
def authorities_import(abh_list: str, postal_codes: str | None) -> None:
    """Load the official ABH list (genericode `abhkennung`) and, optionally, postal codes."""
    try:
        with runtime.of(current_app).db.transaction() as session:
            count = directory.import_abh_list(session, abh_list)
            routed = directory.import_postal_codes(session, postal_codes) if postal_codes else 0
    except directory.DirectoryError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{count} authorities imported, {routed} postal codes routed")


@authorities.group("key")
def key_group() -> None:
    """An authority's RSA public key: its batches are sealed to it."""


@key_group.command("set")
@click.argument("authority_key", metavar="KEY")
@click.argument("key_file", metavar="FILE", type=click.File("rb"))
@with_appcontext
def key_set(authority_key: str, key_file: BinaryIO) -> None:
    """Seal KEY's batches to the RSA public key in FILE (PEM or JWK; - reads standard input);
    its unacknowledged batch files are sealed to it now (audited)."""
    rt = runtime.of(current_app)
    try:
        with rt.db.transaction() as session:
            thumbprint = keys.set_key(session, rt.cipher, rt.settings.xml_out, authority_key,
                                      key_file.read(), None)
    except sealing.KeyRefused as error:
        raise click.BadParameter(str(error), param_hint="FILE") from None
    except keys.UnknownAuthority as error:
        raise click.BadParameter(str(error), param_hint="KEY") from None
    click.echo(f"{authority_key}: batches are sealed to the key with thumbprint {thumbprint}")


@key_group.command("show")
@click.argument("authority_key", metavar="KEY")
@with_appcontext
def key_show(authority_key: str) -> None:
    """Print the RFC 7638 thumbprint (SHA-256) of KEY's public key."""
    try:
        with runtime.of(current_app).db.read() as session:
            thumbprint = keys.thumbprint(session, authority_key)
    except keys.UnknownAuthority as error:
        raise click.BadParameter(str(error), param_hint="KEY") from None
    click.echo(thumbprint or f"{authority_key} has no key: its batch files are encrypted "
                             "under the service's data key")


@key_group.command("remove")
@click.argument("authority_key", metavar="KEY")
@with_appcontext
def key_remove(authority_key: str) -> None:
    """Remove KEY's public key; its unacknowledged batch files go under the data key (audited)."""
    rt = runtime.of(current_app)
    try:
        with rt.db.transaction() as session:
            keys.remove_key(session, rt.cipher, rt.settings.xml_out, authority_key, None)
    except keys.UnknownAuthority as error:
        raise click.BadParameter(str(error), param_hint="KEY") from None
    click.echo(f"{authority_key}: the key is removed; batch files are under the data key")
