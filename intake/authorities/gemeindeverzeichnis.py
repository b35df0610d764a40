"""Read the districts and municipalities of Destatis' Gemeindeverzeichnis (GV100AD).

GV100AD is a text file of fixed-width records, one per line, as Destatis' record
description ("Datensatzbeschreibung GV100AD") lays them out, in character positions:

    1-2     Satzart: 10 Land, 20 Regierungsbezirk, 30 Region, 40 Kreis,
            50 Gemeindeverband, 60 Gemeinde
    3-10    Gebietsstand (YYYYMMDD)
    11-18   Amtlicher Gemeindeschlüssel: Land 11-12, Regierungsbezirk 13, Kreis 14-15,
            Gemeinde 16-18 (as far as the Satzart reaches)
    19-22   Gemeindeverband
    23-72   name

Only districts (40) and municipalities (60) matter here; the other records are checked for
their form and passed over, as are the fields after the name (area, population, ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from intake.authorities import textfile

DISTRICT = "40"
MUNICIPALITY = "60"
_KEY_WIDTH = {"10": 2, "20": 3, "30": 4, "40": 5, "50": 5, "60": 8}
_RECORD = re.compile(r"(10|20|30|40|50|60)[0-9]{8}([0-9]{2}[0-9 ]{10})")
_NAME = slice(22, 72)  # positions 23-72


class NotGemeindeverzeichnis(ValueError):
    """A line that is no GV100AD record; the message names the file and the line."""


@dataclass(frozen=True)
class Area:
    """A district (five-digit key) or a municipality (eight digits)."""

    kind: str  # DISTRICT or MUNICIPALITY
    key: str
    name: str


def read(path: str | Path, advance: Callable[[int], None] | None = None) -> Iterator[Area]:
    """The districts and municipalities of a GV100AD file, in the file's order.

    Raises NotGemeindeverzeichnis at the first line that is not a record; `advance` as
    `textfile.lines` tells it.
    """
    for number, line in textfile.lines(path, advance):
        if not line.strip():
            continue
        found = _RECORD.match(line)
        if found is None or not line[_NAME].strip():
            raise NotGemeindeverzeichnis(
                f"{path}:{number}: not a record of the Gemeindeverzeichnis (GV100AD: "
                "Satzart 10-60, Gebietsstand, key and name at their fixed places)"
            )
        kind = found[1]
        key = found[2][: _KEY_WIDTH[kind]]
        if not key.isdigit():
            raise NotGemeindeverzeichnis(f"{path}:{number}: key {key!r} is not all digits")
        if kind in (DISTRICT, MUNICIPALITY):
            yield Area(kind, key, line[_NAME].strip())
