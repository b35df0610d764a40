"""Group commit: writes that arrive together in one process share one transaction.

Under load, a registration spent far longer waiting for the database's write lock (and, on
SQLite, its fsync) than writing. Here the threads of a process hand their rows to one of
them, the leader, which writes all that have arrived in one transaction with one statement
per table, then hands the lead to the next waiting thread. Every caller returns only once
its own rows are committed, so an acknowledged registration is as durable as before; only
the cost of committing is shared.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from intake.store.database import Database

Item = TypeVar("Item")


class _Waiting(Generic[Item]):
    __slots__ = ("error", "item", "lead", "settled")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.settled = threading.Event()  # set once committed or failed, or to pass the lead
        self.lead = False
        self.error: BaseException | None = None


class CommitGroup(Generic[Item]):
    """Commits items through `write(session, items)`, as many at once as are waiting."""

    def __init__(
        self, db: Database, write: Callable[[Session, list[Item]], None], limit: int = 64
    ) -> None:
        self._db = db
        self._write = write
        self._limit = limit
        self._mutex = threading.Lock()
        self._queue: list[_Waiting[Item]] = []
        self._led = False  # whether some thread is leading now

    def commit(self, item: Item) -> None:
        """Return once `item` is committed; raise what writing it alone raised."""
        waiting = _Waiting(item)
        with self._mutex:
            self._queue.append(waiting)
            waiting.lead = not self._led
            self._led = True
        if not waiting.lead:
            waiting.settled.wait()  # until a leader wrote it, or handed us the lead
        if waiting.lead:
            self._lead()
        if waiting.error is not None:
            raise waiting.error

    def _lead(self) -> None:
        group: list[_Waiting[Item]] = []
        try:
            self._commit(group, take=True)
        except BaseException as error:  # never leave the others waiting
            for waiting in group:
                waiting.error = waiting.error or error
            raise
        finally:
            with self._mutex:
                if self._queue:
                    successor = self._queue[0]
                    successor.lead = True
                    successor.settled.set()
                else:
                    self._led = False
            for waiting in group:
                if not waiting.lead:
                    waiting.settled.set()

    def _commit(self, group: list[_Waiting[Item]], take: bool = False) -> None:
        """Write a group in one transaction; with `take`, the group is all that wait once
        the write lock is ours, so what arrived while waiting for it joins. If that fails,
        each item is written alone, so that one bad item fails only its own caller."""
        try:
            with self._db.transaction() as session:
                if take:
                    self._take(group)
                self._write(session, [waiting.item for waiting in group])
        except Exception as error:
            if take and not group:  # failed before taking (no database): fail them all
                self._take(group)
            if len(group) == 1:
                group[0].error = error
            else:
                for waiting in group:
                    self._commit([waiting])

    def _take(self, group: list[_Waiting[Item]]) -> None:
        with self._mutex:
            group += self._queue[: self._limit]
            del self._queue[: self._limit]
