"""The directory's text files, line by line, with their numbers and the progress made."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

PROGRESS_EVERY = 1000  # lines between two calls of `advance`


def lines(path: str | Path, advance: Callable[[int], None] | None = None,
          ) -> Iterator[tuple[int, str]]:
    """The lines of a file with their numbers (from 1), without line ends.

    UTF-8 (a byte order mark is dropped); a file that is not is read as ISO 8859-1, as
    older Destatis editions and spreadsheet exports are. `advance(n)`, when given, is told
    every thousand lines, and at the end, that n more lines are read: it adds up to the
    file's line count (for a progress bar over it).
    """
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # never fails: a file of another kind fails its checks
    numbered = text.splitlines()
    told = 0
    for number, line in enumerate(numbered, start=1):
        if advance is not None and number - told > PROGRESS_EVERY:
            advance(number - 1 - told)
            told = number - 1
        yield number, line
    if advance is not None and len(numbered) > told:
        advance(len(numbered) - told)
