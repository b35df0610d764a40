"""The authority directory: the official ABH list, the Gemeindeverzeichnis, the places of
postal codes and who serves which area, each imported from the file operators get.

Each import checks its whole file before it writes, refuses a wrong one with a message that
names the file and the line, and writes only what differs from what is stored (`bulk`):
importing the same file again changes nothing. The caller holds the transaction, so that
files imported together are taken together or not at all; `routes.rebuild` then makes the
routes from them. `advance(n)`, where given, is told that n more lines (rows of the ABH
list) are read, as `textfile.lines` says.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.authorities import gemeindeverzeichnis, textfile
from intake.dataset import names
from intake.store import bulk, models
from intake.xaus import genericode

ABH_LIST_URI = "urn:de:xauslaender:codelist:abhkennung"
AUTHORITY_KEY = re.compile(r"^\d{6}$")
POSTAL_CODE = re.compile(r"^\d{5}$")
MUNICIPALITY_KEY = re.compile(r"^\d{8}$")
OFFICIAL_KEY = re.compile(r"^\d{5}(\d{3})?$")
PLACE_NAME_MAX = 200
# The forms of the CSV files, by their header (which is optional).
ROUTED_WHOLE = ("postal_code", "authority_key")
PLACES = ("postal_code", "municipality_key", "place_name")
JURISDICTIONS = ("official_key", "bhknz")


class DirectoryError(ValueError):
    """An input file that cannot be imported; the message says where and why."""


@dataclass(frozen=True)
class Imported:
    """What one file brought, as a line for the operator."""

    what: str  # "11012 municipalities in 401 districts"
    changes: bulk.Changes

    def __str__(self) -> str:
        return f"{self.what} ({self.changes})"


def import_abh_list(
    session: Session, path: str | Path, advance: Callable[[int], None] | None = None
) -> Imported:
    """Create or update every authority of the official list (genericode `abhkennung`).

    Names, kinds and states come from the list; addresses and contacts entered here are
    kept, and so are authorities the list no longer names (registrations refer to them).
    """
    try:
        code_list = genericode.read(path)
    except (etree.LxmlError, ValueError) as error:
        raise DirectoryError(f"{path} is not the ABH list ({ABH_LIST_URI}): it is no "
                             f"genericode code list ({error})") from None
    if code_list.uri != ABH_LIST_URI:
        raise DirectoryError(f"{path} is {code_list.uri or 'no code list'}, not {ABH_LIST_URI}")
    rows = []
    for number, row in enumerate(code_list.rows, start=1):
        key = row.get("BHKNZ", "")
        if not AUTHORITY_KEY.match(key):
            raise DirectoryError(f"{path}: row {number}: authority key {key!r} is not six "
                                 "digits")
        rows.append({
            "key": key,
            # The list publishes some names with a trailing space (030401, 880791).
            "name": row.get("Kurzbezeichnung", "").strip(),
            "kind": row.get("Behoerdenart", "").strip() or None,
            "state": row.get("Bundesland", "").strip() or None,
        })
    changes = bulk.replace(session, models.table(models.Authority), ("key",), rows,
                           keep_others=True)
    if advance is not None:
        advance(len(rows))
    return Imported(f"{changes.rows} authorities", changes)


def import_municipalities(
    session: Session, path: str | Path, advance: Callable[[int], None] | None = None
) -> Imported:
    """Take the districts and municipalities of a GV100AD file as the whole of them."""
    districts: dict[str, str] = {}
    municipalities: dict[str, str] = {}
    try:
        for area in gemeindeverzeichnis.read(path, advance):
            found = districts if area.kind == gemeindeverzeichnis.DISTRICT else municipalities
            found[area.key] = area.name
    except gemeindeverzeichnis.NotGemeindeverzeichnis as error:
        raise DirectoryError(str(error)) from None
    if not municipalities:
        raise DirectoryError(f"{path}: no municipality (Satzart 60) in it: not a "
                             "Gemeindeverzeichnis (GV100AD)")
    district_changes, municipality_changes = (
        bulk.replace(session, models.table(model), ("key",),
                     ({"key": key, "name": name} for key, name in found.items()))
        for model, found in ((models.District, districts),
                             (models.Municipality, municipalities))
    )
    return Imported(f"{len(municipalities)} municipalities in {len(districts)} districts",
                    district_changes + municipality_changes)


def import_postal_codes(
    session: Session, path: str | Path, advance: Callable[[int], None] | None = None
) -> Imported:
    """Import a postal-code table of either form (CSV, header optional):

    `postal_code,municipality_key,place_name`: the places of every postal code, the whole
    of them (each is routed by who serves its municipality or district);
    `postal_code,authority_key`: postal codes routed whole to one authority (where their
    places' jurisdiction does not say otherwise), added to those routed so (a postal code
    already routed elsewhere is moved: the file is the newer word).
    """
    form, rows = _csv(path, (PLACES, ROUTED_WHOLE), advance)
    if form == ROUTED_WHOLE:
        return _routed_whole(session, path, rows)
    places: dict[tuple[str, str], list[str]] = {}
    for number, (code, key, place) in rows:
        _check(path, number, POSTAL_CODE, code, "a five-digit postal code")
        _check(path, number, MUNICIPALITY_KEY, key, "an eight-digit municipality key")
        _check_place(path, number, place)
        known = places.setdefault((code, key), [])
        if place not in known:  # a municipality's several places under one postal code
            known.append(place)
    changes = bulk.replace(
        session, models.table(models.PostalCodePlace), ("postal_code", "municipality_key"),
        ({"postal_code": code, "municipality_key": key, "place_name": ", ".join(shown)}
         for (code, key), shown in places.items()),
    )
    codes = len({code for code, _key in places})
    return Imported(f"{len(places)} places of {codes} postal codes", changes)


def _routed_whole(session: Session, path: str | Path, rows: _Rows) -> Imported:
    authorities = set(session.scalars(select(models.Authority.key)))
    routed: dict[str, str] = {}
    for number, (code, key) in rows:
        _check(path, number, POSTAL_CODE, code, "a five-digit postal code")
        if key not in authorities:
            raise DirectoryError(f"{path}:{number}: no authority with key {key!r}")
        routed[code] = key
    changes = bulk.replace(
        session, models.table(models.PostalCode), ("code",),
        ({"code": code, "authority_key": key} for code, key in routed.items()),
        keep_others=True,
    )
    return Imported(f"{len(routed)} postal codes routed whole", changes)


def import_jurisdictions(
    session: Session, path: str | Path, advance: Callable[[int], None] | None = None
) -> Imported:
    """Take `official_key,bhknz` rows (CSV, header optional) as the whole jurisdiction: the
    authority serving each district (five digits) or municipality (eight: it wins over its
    district's). Where a Gemeindeverzeichnis is imported, every key must be in it."""
    _form, rows = _csv(path, (JURISDICTIONS,), advance)
    authorities = set(session.scalars(select(models.Authority.key)))
    areas = set(session.scalars(select(models.District.key)))
    areas |= set(session.scalars(select(models.Municipality.key)))
    served: dict[str, tuple[str, int]] = {}
    for number, (key, authority) in rows:
        _check(path, number, OFFICIAL_KEY, key, "a district (five digits) or municipality "
               "(eight digits) key")
        if authority not in authorities:
            raise DirectoryError(f"{path}:{number}: no authority with key {authority!r}")
        if areas and key not in areas:
            raise DirectoryError(f"{path}:{number}: {key} is no district or municipality of "
                                 "the Gemeindeverzeichnis imported")
        if key in served and served[key][0] != authority:
            raise DirectoryError(f"{path}:{number}: {key} is served by "
                                 f"{served[key][0]} on line {served[key][1]} already")
        served[key] = (authority, number)
    changes = bulk.replace(
        session, models.table(models.Jurisdiction), ("official_key",),
        ({"official_key": key, "authority_key": authority}
         for key, (authority, _line) in served.items()),
    )
    cities = sum(len(key) == 8 for key in served)
    return Imported(f"{len(served) - cities} districts and {cities} municipalities served",
                    changes)


_Rows = Iterator[tuple[int, list[str]]]


def _csv(path: str | Path, forms: tuple[tuple[str, ...], ...],
         advance: Callable[[int], None] | None) -> tuple[tuple[str, ...], _Rows]:
    """The form of a CSV file among `forms` (by its header, else its first row's width),
    and its rows with their line numbers. Commas or, as spreadsheets in Germany write
    them, semicolons."""
    lines = ((number, line) for number, line in textfile.lines(path, advance) if line.strip())
    first = next(lines, None)
    expected = " or ".join(",".join(form) for form in forms)
    if first is None:
        raise DirectoryError(f"{path} is empty: expected {expected} rows")
    delimiter = ";" if ";" in first[1] and "," not in first[1] else ","
    cells = _cells(first[1], delimiter)
    header = tuple(cell.lower() for cell in cells)
    form = header if header in forms else next(
        (form for form in forms if len(form) == len(cells) and cells[0].isdigit()), None
    )  # every form begins with digits: a first row without is another file's header
    if form is None:
        raise DirectoryError(f"{path}:{first[0]}: expected {expected} rows (CSV); this is "
                             "none of them")

    def rows() -> _Rows:
        if header != form:
            yield first[0], cells
        for number, line in lines:
            found = _cells(line, delimiter)
            if len(found) != len(form):
                raise DirectoryError(f"{path}:{number}: expected {','.join(form)}")
            yield number, found

    return form, rows()


def _cells(line: str, delimiter: str) -> list[str]:
    return [cell.strip() for cell in next(csv.reader([line], delimiter=delimiter))]


def _check(path: str | Path, number: int, form: re.Pattern[str], value: str, what: str
           ) -> None:
    if not form.match(value):
        raise DirectoryError(f"{path}:{number}: {value!r} is not {what}")


def _check_place(path: str | Path, number: int, place: str) -> None:
    if not place or len(place) > PLACE_NAME_MAX:
        raise DirectoryError(f"{path}:{number}: a place name has 1 to {PLACE_NAME_MAX} "
                             "characters")
    unusable = names.first_unusable(place)
    if unusable is not None:
        raise DirectoryError(f"{path}:{number}: the place name holds "
                             f"{names.shown(unusable)}, which cannot be shown")
