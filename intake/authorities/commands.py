"""`intake authorities`: the authority directory and the authorities' public keys."""

from __future__ import annotations

import math
import sys
from typing import BinaryIO

import click
from flask import current_app
from flask.cli import with_appcontext

from intake import progress, runtime
from intake.authorities import directory, keys, routes, textfile
from intake.security import sealing


@click.group()
def authorities() -> None:
    """The authority directory."""


@authorities.command("import")
@click.argument("abh_list", type=click.Path(exists=True, dir_okay=False))
@click.option("--municipalities", type=click.Path(exists=True, dir_okay=False),
              help="Destatis' Gemeindeverzeichnis (GV100AD): districts and municipalities.")
@click.option("--postal-codes", type=click.Path(exists=True, dir_okay=False),
              help="CSV of postal_code,municipality_key,place_name rows (the places of every "
                   "postal code), or of postal_code,authority_key rows (routed whole).")
@click.option("--jurisdictions", type=click.Path(exists=True, dir_okay=False),
              help="CSV of official_key,bhknz rows: the authority serving each district "
                   "(5 digits) or municipality (8 digits, wins over its district).")
@with_appcontext
def authorities_import(abh_list: str, municipalities: str | None, postal_codes: str | None,
                       jurisdictions: str | None) -> None:
    """Load the official ABH list (genericode `abhkennung`) and, optionally, jurisdiction.

    All files are taken together, in one transaction, or none; each file is the whole of
    its kind (a postal_code,authority_key file adds to those routed whole). Importing the
    same files again changes nothing.
    """
    files = [
        ("municipalities", directory.import_municipalities, municipalities),
        ("postal codes", directory.import_postal_codes, postal_codes),
        ("jurisdictions", directory.import_jurisdictions, jurisdictions),
    ]
    try:
        with runtime.of(current_app).db.transaction() as session:
            reports = [f"ABH list: {directory.import_abh_list(session, abh_list)}"]
            for what, step, path in files:
                if path is not None:
                    with progress.shown(f"reading the {what}", _lines(path)) as advance:
                        reports.append(f"{what}: {step(session, path, advance)}")
            changed = routes.rebuild(session)
            reach = routes.coverage(session)
    except directory.DirectoryError as error:
        raise click.ClickException(str(error)) from error
    except OSError as error:
        raise click.ClickException(f"{error.filename}: {error.strerror}") from error
    for report in reports:
        click.echo(report)
    click.echo(f"routes: {changed}")
    click.echo(_reach(reach))


def _lines(path: str) -> int:
    """A text file's lines: what its import advances by, to the end of the bar. (The ABH
    list, some 650 rows of XML, shows none: it takes a moment.)"""
    return sum(1 for _ in textfile.lines(path))


@authorities.command("coverage")
@click.option("--listed", default=10, show_default=True,
              help="How many unrouted postal codes to name.")
@with_appcontext
def authorities_coverage(listed: int) -> None:
    """How the postal codes known are routed; exits 1 when some are routed nowhere."""
    with runtime.of(current_app).db.read() as session:
        reach = routes.coverage(session)
    click.echo(_reach(reach))
    for unrouted in reach.unrouted[:listed]:
        click.echo(f"  unrouted: {unrouted}")
    if len(reach.unrouted) > listed:
        click.echo(f"  ... and {len(reach.unrouted) - listed} more")
    if reach.unrouted or not reach.postal_codes:
        sys.exit(1)


def _reach(reach: routes.Coverage) -> str:
    total = reach.postal_codes
    if not total:
        return "no postal code is routed: import the jurisdiction (intake authorities import)"
    # Rounded down: "100.0 %" only when none is unrouted.
    share = math.floor(1000 * (reach.routed + reach.asked) / total) / 10
    return (f"{total} postal codes: {reach.routed} routed, {reach.asked} asked for the place "
            f"(its places have different authorities), {len(reach.unrouted)} unrouted; "
            f"{share:.1f} % routed or asked")


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
            thumbprint = keys.set_key(session, rt.cipher, rt.blobs, rt.settings.xml_out,
                                      authority_key, key_file.read(), None)
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
            keys.remove_key(session, rt.cipher, rt.blobs, rt.settings.xml_out, authority_key, None)
    except keys.UnknownAuthority as error:
        raise click.BadParameter(str(error), param_hint="KEY") from None
    click.echo(f"{authority_key}: the key is removed; batch files are under the data key")
