"""Opening hours for many authorities from one CSV file, and the file of the hours as they are.

One line per authority, under a header naming the columns (in any order):

    authority,slot_minutes,seats_per_slot,priority_seats,mon,tue,wed,thu,fri,sat,sun
    073400,15,20,2,08:00-12:00,08:00-12:00 13:00-17:00,08:00-12:00,,08:00-12:00,,

A weekday's cell holds its periods (separated by spaces or, in quotes, commas); an empty cell
or a missing weekday column means no appointments that day. An empty number cell, or a
missing number column, keeps the authority's value. Commas or semicolons (as spreadsheets
save CSV in Germany) separate the cells. The file is taken whole or not at all.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.authorities.directory import AUTHORITY_KEY, DirectoryError
from intake.registrations import opening_hours, schedule
from intake.registrations.opening_hours import NUMBERS, WEEKDAYS, Week
from intake.store import models

COLUMNS = ("authority", *NUMBERS, *WEEKDAYS)


@dataclass
class Imported:
    authorities: int = 0
    created: int = 0
    removed: int = 0
    conflicts: dict[str, list[schedule.Conflict]] = field(default_factory=dict)


def import_hours(session: Session, path: str | Path, now: dt.datetime) -> Imported:
    """Give each authority in the file its week (audited), and its slots.

    Raises DirectoryError naming the file, the line and the problem; nothing is saved then.
    Problems are worded in the current locale (opening_hours.explain).
    """
    weeks = _read(session, Path(path))
    imported = Imported(authorities=len(weeks))
    for key, week in weeks.items():
        done = schedule.save_week(session, key, week, None, now)
        imported.created += done.created
        imported.removed += done.removed
        found = schedule.conflicts(session, key, now)
        if found:
            imported.conflicts[key] = found
    return imported


def _read(session: Session, path: Path) -> dict[str, Week]:
    try:
        text = path.read_text(encoding="utf-8-sig")  # a spreadsheet's byte order mark
    except UnicodeDecodeError:
        raise DirectoryError(f"{path}: not UTF-8 text (save it as CSV UTF-8)") from None
    header_line = text.split("\n", 1)[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [name.strip().lower() for name in next(rows, [])]
    unknown = [name for name in header if name not in COLUMNS]
    if "authority" not in header or unknown:
        raise DirectoryError(
            f"{path}:1: the header names the columns, {','.join(COLUMNS)}"
            + (f"; unknown: {','.join(unknown)}" if unknown else "; authority is missing"))
    weeks: dict[str, Week] = {}
    lines: dict[str, int] = {}
    try:
        for cells in rows:
            line = rows.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                raise DirectoryError(f"{path}:{line}: {len(cells)} cells, the header has "
                                     f"{len(header)}")
            values = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
            key = values.pop("authority")
            if key in lines:
                raise DirectoryError(f"{path}:{line}: authority {key} is on line "
                                     f"{lines[key]} already")
            weeks[key] = _week(session, path, line, key, values)
            lines[key] = line
    except csv.Error as error:
        raise DirectoryError(f"{path}:{rows.line_num}: {error}") from None
    return weeks


def _week(session: Session, path: Path, line: int, key: str, values: dict[str, str]) -> Week:
    authority = session.get(models.Authority, key) if AUTHORITY_KEY.match(key) else None
    if authority is None:
        raise DirectoryError(f"{path}:{line}: no authority with key {key!r}")
    kept = schedule.week_of(session, authority).fields()
    for name in NUMBERS:
        values[name] = values.get(name) or kept[name]
    try:
        return opening_hours.read_week(values)
    except opening_hours.Refused as refused:
        raise DirectoryError(f"{path}:{line}: " + "; ".join(
            opening_hours.explain(name, code) for name, code in refused.problems.items()
        )) from None


def export_hours(session: Session, keys: list[str]) -> str:
    """The CSV file of these authorities' weeks (every authority's without keys), which
    `import_hours` takes back."""
    query = select(models.Authority).order_by(models.Authority.key)
    if keys:
        query = query.where(models.Authority.key.in_(keys))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for authority in session.scalars(query):
        week = schedule.week_of(session, authority).fields()
        writer.writerow([authority.key, *(week[name] for name in COLUMNS[1:])])
    return out.getvalue()
