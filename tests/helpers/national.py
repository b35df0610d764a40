"""A national directory made up in the shape of the real files, the same on every run.

Some 8,200 postal codes, 400 districts, 11,000 municipalities and 650 authorities, as the
files operators import: the ABH list (genericode `abhkennung`, as XRepository publishes
it), the Gemeindeverzeichnis (GV100AD, fixed-width records), the places of each postal
code (`postal_code,municipality_key,place_name`) and who serves which area
(`official_key,bhknz`). Each district has an authority; some towns run their own (an
entry for the municipality); other authorities serve no area (central ones, reception
centres). Some postal codes reach into two districts, or into a town with its own
authority and a neighbour: their places have different authorities. The demo pilots'
postal codes are left out, so that both can be imported into one database.
"""

from __future__ import annotations

import csv
import itertools
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from intake.authorities.demo import PILOTS

AS_OF = "20261231"
# Länder with their Regierungsbezirke (0: none) and districts each (some 400 in all).
LAENDER = {
    "01": ("Schleswig-Holstein", (0,), 15), "02": ("Hamburg", (0,), 1),
    "03": ("Niedersachsen", (0,), 45), "04": ("Bremen", (0,), 2),
    "05": ("Nordrhein-Westfalen", (1, 3, 5, 7, 9), 53), "06": ("Hessen", (4, 5, 6), 26),
    "07": ("Rheinland-Pfalz", (0,), 36), "08": ("Baden-Württemberg", (1, 2, 3, 4), 44),
    "09": ("Bayern", (1, 2, 3, 4, 5, 6, 7), 96), "10": ("Saarland", (0,), 6),
    "11": ("Berlin", (0,), 1), "12": ("Brandenburg", (0,), 18), "13": ("Mecklenburg-Vorpommern",
    (0,), 8), "14": ("Sachsen", (5,), 13), "15": ("Sachsen-Anhalt", (0,), 14),
    "16": ("Thüringen", (0,), 23),
}
_STEMS = ("Aach", "Bern", "Buch", "Dorn", "Eich", "Falken", "Grün", "Hasel", "Hohen", "Kirch",
          "Lichten", "Linden", "Mühl", "Neu", "Ober", "Oster", "Rosen", "Sonnen", "Stein",
          "Tann", "Unter", "Wald", "Weiß", "Wester", "Wolfs", "Zell", "Zwei", "Schön", "Alt",
          "Brück", "Hain", "Lauter")
_ENDS = ("au", "bach", "berg", "born", "brück", "burg", "dorf", "feld", "hagen", "hausen",
         "heim", "hof", "ingen", "kirchen", "leben", "rode", "stadt", "stedt", "tal", "walde",
         "weiler", "werder")
_PARTS = ("Nord", "Süd", "Ost", "West", "Mitte")


@dataclass(frozen=True)
class NationalSet:
    """The four files, and facts about them for the tests that import them."""

    abh_list: Path
    gv100ad: Path
    postal_codes: Path
    jurisdictions: Path
    authorities: int
    districts: int
    municipalities: int
    postal_code_count: int
    asked: tuple[str, ...]  # postal codes whose places have different authorities
    town: tuple[str, str, str]  # a town with its own authority: key, postal code, BHKNZ

    def import_arguments(self) -> list[str]:
        return ["authorities", "import", str(self.abh_list), "--municipalities",
                str(self.gv100ad), "--postal-codes", str(self.postal_codes),
                "--jurisdictions", str(self.jurisdictions)]

    def import_into(self, app: Any) -> str:
        """Import the four files as an operator does; the command's output."""
        from intake.cli import main

        result = app.test_cli_runner().invoke(main, self.import_arguments())
        assert result.exit_code == 0, result.output
        return str(result.output)


@dataclass
class _Municipality:
    key: str
    name: str
    authority: str
    postal_codes: list[str]


def generate(folder: Path, seed: int = 28, lands: tuple[str, ...] | None = None
             ) -> NationalSet:
    """Write the four files into `folder`; the same files for the same arguments. `lands`:
    only these Länder (by key), and no authorities without an area (a regional set, for
    tests that need the shapes of the data more than its size)."""
    rng = random.Random(seed)
    names = _names(rng)
    keys = iter(f"{key:06d}" for key in sorted(rng.sample(range(100, 999_999), 660)))
    authorities: list[tuple[str, str, str, str]] = []  # key, name, kind, Land
    gv100ad: list[str] = []
    jurisdictions: list[tuple[str, str]] = []
    municipalities: list[_Municipality] = []
    towns: set[str] = set()  # municipalities with an authority of their own
    districts = 0
    for land, (land_name, regions, count) in _chosen(lands):
        gv100ad.append(_record("10", land, land_name, f"{land_name}-Stadt"))
        for region_index, region in enumerate(regions):
            if region:
                gv100ad.append(_record("20", f"{land}{region}", f"Bezirk {next(names)}",
                                       next(names)))
            share = count // len(regions) + (region_index < count % len(regions))
            for number in range(1, share + 1):
                district = f"{land}{region}{number:02d}"
                districts += 1
                city = land in ("02", "04", "11") or rng.random() < 0.25
                name = next(names)
                authority = next(keys)
                authorities.append((authority, f"{'STV' if city else 'LKR'} {name}",
                                    "Ausländerbehörde", land_name))
                jurisdictions.append((district, authority))
                gv100ad.append(_record("40", district, ("" if city else "Landkreis ") + name,
                                       name, "41" if city else "44"))
                members = 1 if city else rng.randint(8, 66)
                for index in range(1, members + 1):
                    key = f"{district}{0 if city else index:03d}"
                    own = not city and rng.random() < 0.019
                    served = authority
                    town_name = name if city else next(names)
                    if own:  # a town that runs its own authority
                        served = next(keys)
                        authorities.append((served, f"STV {town_name}", "Ausländerbehörde",
                                            land_name))
                        jurisdictions.append((key, served))
                        towns.add(key)
                    association = f"{(index - 1) // 6 + 1:04d}" if not city else "0000"
                    if not city and index % 6 == 1:
                        gv100ad.append(_record("50", f"{district}   {association}",
                                               f"Amt {next(names)}", town_name, "51"))
                    gv100ad.append(_municipality(rng, key, association, town_name, city))
                    municipalities.append(_Municipality(key, town_name, served, []))
    while len(authorities) < (655 if lands is None else 0):  # central authorities and reception centres: no area
        land_name = rng.choice(list(LAENDER.values()))[0]
        authorities.append((next(keys), f"ZAB {next(names)}", rng.choice(
            ("Zentrale Ausländerbehörde", "Aufnahmeeinrichtung")), land_name))
    places = _postal_codes(rng, municipalities, towns)
    by_code = _by_code(places)
    asked = sorted(code for code, group in by_code.items()
                   if len({place.authority for place in group}) > 1)
    town, town_code = next((place, code) for place in municipalities if place.key in towns
                           for code in place.postal_codes if len(by_code[code]) == 1)
    folder.mkdir(parents=True, exist_ok=True)
    written = NationalSet(
        abh_list=folder / "Gueltige_Auslaenderbehoerden.xml",
        gv100ad=folder / "GV100AD_31122026.ASC",
        postal_codes=folder / "postal_code_places.csv",
        jurisdictions=folder / "jurisdictions.csv",
        authorities=len(authorities), districts=districts,
        municipalities=len(municipalities), postal_code_count=len(by_code),
        asked=tuple(asked), town=(town.key, town_code, town.authority),
    )
    written.abh_list.write_text(_genericode(authorities), encoding="utf-8")
    written.gv100ad.write_text("\r\n".join(gv100ad) + "\r\n", encoding="utf-8")
    with written.postal_codes.open("w", newline="", encoding="utf-8") as file:
        rows = csv.writer(file)
        rows.writerow(("postal_code", "municipality_key", "place_name"))
        for code, place, name in places:
            rows.writerow((code, place.key, name))
    with written.jurisdictions.open("w", newline="", encoding="utf-8") as file:
        rows = csv.writer(file)
        rows.writerow(("official_key", "bhknz"))
        rows.writerows(jurisdictions)
    return written


def _chosen(lands: tuple[str, ...] | None) -> list[tuple[str, tuple[str, tuple[int, ...], int]]]:
    return [(land, shape) for land, shape in LAENDER.items() if lands is None or land in lands]


def _names(rng: random.Random):  # type: ignore[no-untyped-def]
    """Place names, as many as asked, mostly different (some repeat, as Neustadt does)."""
    while True:
        name = rng.choice(_STEMS) + rng.choice(_ENDS)
        if rng.random() < 0.15:
            name = f"{rng.choice(('Bad', 'Groß', 'Klein', 'Alt'))} {name}"
        yield name


def _postal_codes(
    rng: random.Random, municipalities: list[_Municipality], towns: set[str]
) -> list[tuple[str, _Municipality, str]]:
    """The places of each postal code: a city has many postal codes, villages share one,
    some postal codes reach over a district's border or into a town with its own
    authority (which often has postal codes of its own, too)."""
    taken = {code for pilot in PILOTS for code in pilot["postal_codes"]}
    free = iter(code for code in (f"{number:05d}" for number in
                                  sorted(rng.sample(range(1067, 99_999), 30_000)))
                if code not in taken)
    places: list[tuple[str, _Municipality, str]] = []
    index = 0
    while index < len(municipalities):
        place = municipalities[index]
        if place.key.endswith("000"):  # a city: postal codes of its own
            for _ in range(rng.randint(2, 20)):
                _add(places, next(free), place, place.name)
            index += 1
            continue
        size = rng.choices((1, 2, 3), (58, 30, 12))[0]
        group = list(itertools.takewhile(lambda found: not found.key.endswith("000"),
                                         municipalities[index:index + size]))
        code = next(free)
        for member in group:
            _add(places, code, member, member.name)
            if rng.random() < 0.04:  # a part of the municipality known by its own name
                _add(places, code, member, f"{member.name}-{rng.choice(_PARTS)}")
            if member.key in towns and rng.random() < 0.6:
                for _ in range(rng.randint(1, 3)):
                    _add(places, next(free), member, member.name)
        index += len(group)
    return places


def _add(places: list[tuple[str, _Municipality, str]], code: str, place: _Municipality,
         name: str) -> None:
    places.append((code, place, name))
    if code not in place.postal_codes:
        place.postal_codes.append(code)


def _by_code(places: list[tuple[str, _Municipality, str]]) -> dict[str, list[_Municipality]]:
    found: dict[str, list[_Municipality]] = {}
    for code, place, _name in places:
        if place not in found.setdefault(code, []):
            found[code].append(place)
    return found


def _record(kind: str, key: str, name: str, seat: str = "", text_kind: str = "") -> str:
    """A GV100AD record up to the fields after the name, 220 characters wide."""
    return f"{kind}{AS_OF}{key:<12}{name:<50.50}{seat:<50.50}{text_kind:>2}".ljust(220)


def _municipality(rng: random.Random, key: str, association: str, name: str, city: bool
                  ) -> str:
    """A Satzart 60 record: key, association, name, kind, area, population, postal code."""
    head = _record("60", f"{key}{association}", name, "", "61" if city else "64")
    people = rng.randint(200_000, 900_000) if city else rng.randint(150, 25_000)
    fields = (f"{'':4}{rng.randint(300, 90_000):>11}{people:>11}{people // 2:>11}{'':4}"
              f"{rng.randint(1067, 99_999):05d}{'*****' if city else '':5}{'':2}"
              f"{rng.randint(1000, 9999):04d}{rng.randint(1, 9)}{rng.randint(1, 9)}"
              f"{rng.randint(10, 99)}{rng.randint(10_000, 99_999)}")
    return (head[:124] + fields).ljust(220)


def _genericode(authorities: list[tuple[str, str, str, str]]) -> str:
    """The ABH list as XRepository publishes it (genericode 1.0, `abhkennung`)."""
    columns = ("BHKNZ", "Kurzbezeichnung", "Behoerdenart", "Bundesland")
    rows = "".join(
        "      <Row>\n" + "".join(
            f'         <Value ColumnRef="{column}">\n'
            f"            <SimpleValue>{escape(value)}</SimpleValue>\n         </Value>\n"
            for column, value in zip(columns, authority, strict=True)
        ) + "      </Row>\n"
        for authority in sorted(authorities)
    )
    column_set = "".join(
        f'      <Column Id="{column}" Use="{"required" if column == "BHKNZ" else "optional"}">'
        f"\n         <ShortName>{column}</ShortName>\n"
        f'         <Data Type="string"/>\n      </Column>\n'
        for column in columns
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<gc:CodeList xmlns:gc="http://docs.oasis-open.org/codelist/ns/genericode/1.0/"
             xmlns:xoev-cl-4="http://xoev.de/schemata/genericode/4">
   <Identification>
      <ShortName>abhkennung</ShortName>
      <LongName>Liste der gültigen Ausländerbehörden</LongName>
      <Version>99.0</Version>
      <CanonicalUri>urn:de:xauslaender:codelist:abhkennung</CanonicalUri>
      <CanonicalVersionUri>urn:de:xauslaender:codelist:abhkennung_99.0</CanonicalVersionUri>
   </Identification>
   <ColumnSet>
{column_set}      <Key Id="BHKNZKey">
         <ShortName>BHKNZKey</ShortName>
         <ColumnRef Ref="BHKNZ"/>
      </Key>
   </ColumnSet>
   <SimpleCodeList>
{rows}   </SimpleCodeList>
</gc:CodeList>
"""
