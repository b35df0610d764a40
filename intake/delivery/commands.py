"""Commands for delivery: batches now, the state of deliveries, and work sent again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from intake import progress, runtime
from intake.delivery import jobs, outbox, overview
from intake.registrations import register
from intake.security import audit


def _runtime() -> runtime.Runtime:
    return runtime.of(current_app)


@click.command()
@click.option("--authority", "authority_key", default=None, metavar="KEY",
              help="Only this authority.")
@with_appcontext
def batch(authority_key: str | None) -> None:
    """Assemble waiting messages into batches now."""
    rt = _runtime()
    runtime.bind(rt)
    with rt.db.read() as session:
        authorities = overview.owed(session)
    if authority_key is not None:
        authorities = [item for item in authorities if item.key == authority_key]
        if not authorities:
            raise click.BadParameter(f"no authority {authority_key}", param_hint="'--authority'")
    waiting = [item for item in authorities if item.waiting]
    with progress.shown("batching messages", sum(item.waiting for item in waiting)) as advance:
        made = sum(jobs.build_batches(item.key, advance) for item in waiting)
    click.echo(f"{made} batch(es) written")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="All of it as JSON, for scripts.")
@with_appcontext
def status(as_json: bool) -> None:
    """Queues, failures and what each authority owes, at a glance.

    Which validation is active, queue lengths, failed work, and per authority the messages
    not acknowledged, the age of its oldest unacknowledged batch and its last batch; the
    documents kept."""
    report = overview.report(_runtime())
    if as_json:
        click.echo(json.dumps(report, indent=2, sort_keys=True))
        return
    for line in _readable(report):
        click.echo(line)


def _readable(report: dict[str, Any]) -> Iterator[str]:
    """The report for a person: a line per topic, a table of the authorities."""
    queues = "; ".join(f"{name} {counts['queued']} queued, {counts['failed']} failed"
                       for name, counts in report["queues"].items())
    kept = report["documents"]
    where = ", ".join(f"{place} {counts['count']}"
                      for group in ("by_kind", "by_location")
                      for place, counts in sorted(kept[group].items()))
    failed = report["failed_outbox_rows"]
    yield f"validation:  {report['validation']}"
    yield f"queues:      {queues}"
    yield f"owed work:   {report['registrations_owed_work']} registration(s) to build messages for"
    shown = ", ".join(str(row) for row in failed[:20]) + (", ..." if len(failed) > 20 else "")
    yield f"gave up:     {len(failed)} outbox row(s)" + (f": {shown}" if failed else "")
    yield f"documents:   {kept['count']} kept, {kept['bytes']:,} bytes" + (
        f" ({where})" if where else "")
    undelivered = report["undelivered"]
    yield ""
    yield (f"Undelivered ({len(undelivered)}; fix, then `intake outbox retry`):" if undelivered
           else "Undelivered: none")
    for item in undelivered:
        yield (f"  {item['reference']}  {item['authority']}  {_minute(item['registered_at'])}  "
               f"{item['state']}: {item['reason']}")
    yield ""
    authorities = report["authorities"]
    if not authorities:
        yield "Authorities: no messages owed, no batch made yet"
        return
    yield "Authorities, the longest without acknowledging first (times in UTC):"
    yield from _table(
        ("AUTHORITY", "NAME", "OWED", "WAITING", "BATCHES", "NOT ACKNOWLEDGED FOR",
         "LAST BATCH", "OLDEST WAITING"),
        [_authority_row(item, report["oldest_waiting_message"].get(item["key"]))
         for item in sorted(authorities,
                            key=lambda item: -item["oldest_unacknowledged_age_seconds"])],
        numbers={2, 3, 4},
    )
    yield ("OWED: messages built for it and not acknowledged: WAITING for a batch, or in "
           "BATCHES it has not acknowledged.")


def _authority_row(item: dict[str, Any], oldest_waiting: str | None) -> tuple[str, ...]:
    overdue = item["oldest_unacknowledged_age_seconds"] if item["unacknowledged_batches"] else None
    return (item["key"], item["name"][:24], str(item["messages_owed"]),
            str(item["messages_waiting"]), str(item["unacknowledged_batches"]),
            "-" if overdue is None else _age(overdue), _minute(item["last_batch"]),
            _minute(oldest_waiting))


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]],
           numbers: set[int]) -> Iterator[str]:
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    for row in [header, *rows]:
        yield "  ".join(cell.rjust(width) if column in numbers else cell.ljust(width)
                        for column, (cell, width) in enumerate(zip(row, widths, strict=True))
                        ).rstrip()


def _minute(moment: str | None) -> str:
    """A stored time as text, to the minute ("2026-12-07 09:12"); "-" for none."""
    return moment[:16] if moment else "-"


def _age(seconds: float) -> str:
    """A duration as a person reads it: "2 d 4 h", "3 h 20 min", "12 min"."""
    minutes = int(seconds) // 60
    days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


@click.group("outbox")
def outbox_group() -> None:
    """Work owed to the authorities."""


@outbox_group.command("retry")
@click.argument("references", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Every undelivered registration.")
@with_appcontext
def outbox_retry(references: tuple[str, ...], every: bool) -> None:
    """Build undelivered registrations' messages again, after a fix (see intake status)."""
    if bool(references) == every:
        raise click.UsageError("name REFERENCES or give --all")
    rt = _runtime()
    with rt.db.read() as session:
        unknown = [reference for reference in references
                   if register.by_reference(session, reference) is None]
    if unknown:
        raise click.BadParameter(f"no registration {', '.join(unknown)}",
                                 param_hint="'REFERENCES'")
    count = outbox.retry(rt, None if every else list(references), meter=progress.shown)
    with rt.db.transaction() as session:
        audit.record(session, None, "retry", "outbox", str(count))
    click.echo(f"{count} registration(s) sent to be built again")


COMMANDS = (batch, status, outbox_group)
