"""How far a long command has got: a bar on a terminal, plain lines where output is kept.

Code that works through many rows takes a `Meter` and opens it once it knows how much there
is: `silent` (the default: jobs, the scheduler) shows nothing, `shown` (commands) shows the
count, the rate and, on a terminal, the time left. Kept apart from click's commands so that
any package can take a meter without importing the command line.
"""

from __future__ import annotations

import operator
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TypeVar

import click

T = TypeVar("T")
# Counts `steps` more done.
Advance = Callable[[int], None]
# Opened with what is counted and how much of it there is; gives the Advance to call.
Meter = Callable[[str, int], AbstractContextManager[Advance]]

# Seconds between plain lines: a command's log shows it alive, without a line per row.
PLAIN_EVERY = 10.0


def ignore(steps: int) -> None:
    """Advance nothing (the Advance of whoever shows no progress)."""


@contextmanager
def silent(label: str, total: int) -> Iterator[Advance]:
    """Count nothing, show nothing."""
    yield ignore


@contextmanager
def shown(label: str, total: int) -> Iterator[Advance]:
    """Show `label` with how many of `total` steps are done and how many a second.

    On a terminal: click's bar, drawn again in place, with the time left. Anywhere else (a
    pipe, a log, CI): a plain line every PLAIN_EVERY seconds and one at the end, without
    control characters. Nothing at all when there is nothing to do.
    """
    if total <= 0:
        yield ignore
        return
    started = time.monotonic()
    if sys.stdout.isatty():
        bar = click.progressbar(length=total, label=label, show_pos=True, show_percent=True)
        # Set after the bar exists: the rate reads its position, and entering draws it.
        bar.item_show_func = lambda _item: _rate(bar.pos, time.monotonic() - started)
        with bar:
            yield bar.update
        return
    done = 0
    shown_at = started

    def advance(steps: int) -> None:
        nonlocal done, shown_at
        done += steps
        if time.monotonic() - shown_at >= PLAIN_EVERY:
            shown_at = time.monotonic()
            click.echo(_line(label, done, total, shown_at - started))

    try:
        yield advance
    finally:  # also when it stopped part-way: how far it got (if anywhere)
        if done:
            click.echo(_line(label, done, total, time.monotonic() - started, final=True))


def each(items: Iterable[T], label: str, total: int | None = None,
         meter: Meter = shown) -> Iterator[T]:
    """Iterate over `items`, a step each, on a meter (`total`: by default len(items))."""
    with meter(label, operator.length_hint(items) if total is None else total) as advance:
        for item in items:
            yield item
            advance(1)


def _line(label: str, done: int, total: int, elapsed: float, *, final: bool = False) -> str:
    took = f" in {elapsed:.1f} s" if final else ""
    return f"{label}: {done}/{total} ({done * 100 // total}%){took}, {_rate(done, elapsed)}"


def _rate(done: int, elapsed: float) -> str:
    per_second = done / elapsed if elapsed > 0 else 0.0
    return f"{per_second:.1f}/s" if per_second < 10 else f"{per_second:.0f}/s"
