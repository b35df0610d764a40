"""Work cut into parts of a bounded size: what one transaction writes, one read holds, one
job's part of documents carries."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def by_size(items: Iterable[T], size: Callable[[T], int], most: int,
            most_items: int | None = None) -> Iterator[list[T]]:
    """The items in order, in parts whose sizes add up to at most `most` (and of at most
    `most_items` items); an item larger than `most` makes a part alone."""
    part: list[T] = []
    held = 0
    for item in items:
        weight = size(item)
        if part and (held + weight > most
                     or (most_items is not None and len(part) >= most_items)):
            yield part
            part, held = [], 0
        part.append(item)
        held += weight
    if part:
        yield part
