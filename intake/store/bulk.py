"""Bring a table to a given set of rows, writing only the rows that differ.

Imports of whole national tables (the authority directory: some 40,000 rows) use it: the
rows there are read in one query and compared in memory, and what changed is written with
one statement per kind of change (executemany). Importing the same file twice writes
nothing the second time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Changes:
    """What a `replace` wrote: rows new, gone and changed, and how many the table holds of
    those given."""

    rows: int
    added: int = 0
    removed: int = 0
    changed: int = 0

    def __add__(self, other: Changes) -> Changes:
        return Changes(self.rows + other.rows, self.added + other.added,
                       self.removed + other.removed, self.changed + other.changed)

    def __str__(self) -> str:
        if not (self.added or self.removed or self.changed):
            return "unchanged"
        return f"{self.added} new, {self.removed} gone, {self.changed} changed"


def replace(
    session: Session,
    table: Table,
    key: tuple[str, ...],
    rows: Iterable[Mapping[str, Any]],
    *,
    keep_others: bool = False,
) -> Changes:
    """Make `table` hold `rows` (identified by the `key` columns): new ones are inserted,
    differing ones updated in the columns given, and, unless `keep_others`, rows not given
    are deleted. Columns not given are left as they are (and take their defaults in new
    rows)."""
    wanted = {tuple(row[name] for name in key): dict(row) for row in rows}
    columns = sorted({name for row in wanted.values() for name in row} | set(key))
    stored = {
        tuple(found[name] for name in key): dict(found)
        for found in session.execute(select(*(table.c[name] for name in columns))).mappings()
    }
    new = [row for identity, row in wanted.items() if identity not in stored]
    changed = [
        row for identity, row in wanted.items()
        if identity in stored and any(stored[identity][name] != row[name] for name in row)
    ]
    gone = [] if keep_others else [identity for identity in stored if identity not in wanted]
    connection = session.connection()
    # bindparam names apart from the columns': SQLAlchemy reserves those for SET and VALUES.
    matches = and_(*(table.c[name] == bindparam(f"_{name}") for name in key))
    if gone:
        connection.execute(delete(table).where(matches),
                           [{f"_{name}": value for name, value in zip(key, identity,
                                                                     strict=True)}
                            for identity in gone])
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in changed:  # the SET clause names the parameters' columns
        values = {name: value for name, value in row.items() if name not in key}
        values.update({f"_{name}": row[name] for name in key})
        by_columns.setdefault(tuple(sorted(values)), []).append(values)
    for same in by_columns.values():
        connection.execute(update(table).where(matches), same)
    if new:
        connection.execute(insert(table), new)
    return Changes(rows=len(wanted), added=len(new), removed=len(gone), changed=len(changed))
