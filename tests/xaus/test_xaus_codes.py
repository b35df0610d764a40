"""intake.xaus.codes against the official genericode lists (codelists/ of the official set)."""

from __future__ import annotations

from collections import defaultdict
from functools import cache

import pytest

from intake.dataset.domain import MARITAL_STATUSES, SEXES, STATELESS, UNKNOWN
from intake.xaus import codes, genericode
from intake.xaus.codes import CodeList
from tests.helpers import official as official_set
from tests.helpers.xaus import ENVELOPE


@cache
def official_lists() -> dict[tuple[str, str], genericode.CodeList]:
    """Every official list in the folder, by (URN, version)."""
    lists = (genericode.read(p) for p in sorted(official_set.code_lists().glob("*.xml")))
    return {(cl.uri, cl.version): cl for cl in lists}


def official(uri: str, version: str | None = None) -> genericode.CodeList:
    matches = [cl for (u, v), cl in official_lists().items() if u == uri and version in (None, v)]
    assert matches, f"no official list {uri} {version or ''}"
    return matches[0]


def meaning(codelist: genericode.CodeList, code: str) -> str:
    """The first column after the key: the code's name in every list used here."""
    row = codelist.codes()[code]
    return next(value for column, value in row.items() if column != codelist.key_column)


# What each domain value must mean in the official list, so that a swapped code fails.
MEANINGS: dict[str, dict[str, str]] = {
    codes.NACHRICHTENTYP.uri: {"antrag": "OZG.Antrag.130101"},
    codes.ANTRAGSGRUND.uri: {"erstbeantragung": "Erstbeantragung"},
    codes.AUFENTHALTSGRUND.uri: {"humanitaer": "humanitärer Grund"},
    codes.VERTRETUNGSART.uri: {
        "elterlich": "elterlich - ",
        "personensorge": "Erziehungsberechtigter/Personensorgevollmacht - ",
    },
    codes.FAMILIAERE_BEZIEHUNG.uri: {
        "partner": "Ehe-/Lebenspartnerin oder Ehe-/Lebenspartner",
        "minor_child": "minderjähriges Kind",
        "parent": "Elternteil",
        "other": "sonstige Familienangehörige",
    },
    codes.GESCHLECHT.uri: {
        "female": "weiblich",
        "male": "männlich",
        "diverse": "keine Angabe",  # "d" is for German civil-status entries only
        "unspecified": "keine Angabe",
    },
    codes.FAMILIENSTAND.uri: {
        "single": "ledig",
        "married": "verheiratet",
        "divorced": "geschieden",
        "widowed": "verwitwet",
        "civil_partnership": "Lebenspartnerschaft",
        "unknown": "unbekannt",
    },
    codes.KANAL.uri: {"email": "E-Mail", "landline": "Telefon Festnetz", "mobile": "Telefon mobil"},
    codes.VERZEICHNISDIENST.uri: {"DVDV": "Deutsches Verwaltungsdiensteverzeichnis (DVDV)"},
}
CHECKED_LISTS = [
    cl for cl in codes.CODE_LISTS.values()
    # each a test of its own; Dokumentformat has no published genericode file
    if cl not in (codes.STAATSANGEHOERIGKEIT, codes.STAATSGEBIET, codes.DOKUMENTFORMAT)
]


def test_the_document_formats_are_the_schemas_enumeration() -> None:
    """Code.Dokumentformat lists its codes and names in the schema itself (version 2)."""
    from lxml import etree

    found = official_set.require() / "xauslaender-26.11" / "xauslaender-codes.xsd"
    xs = {"xs": "http://www.w3.org/2001/XMLSchema"}
    kind = etree.parse(str(found)).find(".//xs:complexType[@name='Code.Dokumentformat']", xs)
    enumerated = {
        value.get("value"): value.findtext(".//Wert")
        for value in kind.iterfind(".//xs:enumeration", xs)
    }
    assert kind.find(".//xs:attribute[@name='listURI']", xs).get("fixed") == \
        codes.DOKUMENTFORMAT.uri
    assert kind.find(".//xs:attribute[@name='listVersionID']", xs).get("fixed") == \
        codes.DOKUMENTFORMAT.version
    assert enumerated == dict(codes.DOKUMENTFORMAT.names) == {"1": "PDF", "2": "JPG"}


@pytest.mark.parametrize("table", CHECKED_LISTS, ids=lambda cl: cl.uri.rsplit(":", 1)[-1])
def test_every_code_exists_with_its_meaning_in_the_version_sent(table: CodeList) -> None:
    listed = official(table.uri, table.version)
    for value, code in table.values.items():
        assert code in listed.codes(), (value, code)
        assert meaning(listed, code).startswith(MEANINGS[table.uri][value]), (value, code)
    assert set(table.values) == set(MEANINGS[table.uri])


@pytest.mark.parametrize("table", CHECKED_LISTS, ids=lambda cl: cl.uri.rsplit(":", 1)[-1])
def test_every_name_sent_is_the_lists_own(table: CodeList) -> None:
    listed = official(table.uri, table.version)
    for code, name in table.names.items():
        assert meaning(listed, code).split(" - ")[0] == name, (code, name)
    assert set(table.names) <= set(table.values.values())


def test_every_domain_value_has_a_code() -> None:
    assert set(codes.GESCHLECHT.values) == set(SEXES)
    assert set(codes.FAMILIENSTAND.values) == set(MARITAL_STATUSES)


def nationality_keys_from_official_list() -> dict[str, str]:
    """ISO alpha-2 -> nationality key as the Destatis staatsgebiete list gives it."""
    areas = official(
        "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:staatsgebiete", "2024-08-01"
    )
    own: dict[str, set[str]] = defaultdict(set)  # a state's own territory or mainland
    dependent: dict[str, set[str]] = defaultdict(set)
    for row in areas.rows:
        iso = row["ISO-2"]
        if len(iso) == 2 and iso.isalpha():
            kind = own if row["Gebietstyp"] in ("S", "M") else dependent
            kind[iso].add(row["DESTATIS-Schluessel-Staatsangehoerigkeit"])
    keys = {}
    for iso in own.keys() | dependent.keys():
        [key] = own.get(iso) or dependent[iso]
        keys[iso] = key
    return keys


def test_nationality_table_equals_the_official_list() -> None:
    areas = official(
        "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:staatsgebiete", "2024-08-01"
    )
    [palestine] = [row for row in areas.rows if row["Suchbegriff"] == "Palästinensische Gebiete"]
    assert palestine["ISO-2"] == "–"  # no ISO code in the list; ISO 3166-1 says PS
    expected = {**nationality_keys_from_official_list(),
                "PS": palestine["DESTATIS-Schluessel-Staatsangehoerigkeit"]}
    assert dict(codes.NATIONALITY_KEYS) == expected


def test_territory_table_equals_the_official_list() -> None:
    """Territories that are the only row of their ISO code and have a key of their own."""
    areas = official(
        "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:staatsgebiete", "2024-08-01"
    )
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in areas.rows:
        if len(row["ISO-2"]) == 2 and row["ISO-2"].isalpha():
            rows[row["ISO-2"]].append(row)
    expected = {
        iso: row["DESTATIS-Schluessel-Gebiet"]
        for iso, [*found] in rows.items() if len(found) == 1
        for row in found
        if row["Gebietstyp"] == "G"
        and row["DESTATIS-Schluessel-Gebiet"] != row["DESTATIS-Schluessel-Staatsangehoerigkeit"]
    }
    assert dict(codes.TERRITORY_KEYS) == expected
    assert codes.TERRITORY_KEYS["CK"] == "527" and codes.NATIONALITY_KEYS["CK"] == "536"


def test_every_state_has_its_own_key_except_where_destatis_says_otherwise() -> None:
    states = official("urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:staat", "2024-08-01")
    state_keys = {row["iso-2"]: row["schluessel-staat"] for row in states.rows}
    assert len(state_keys) == 197
    differing = {iso for iso, key in state_keys.items() if codes.NATIONALITY_KEYS[iso] != key}
    # Cook Islands and Niue: state keys 527/533, nationality key 536 (New Zealand).
    assert differing == {"CK", "NU"}
    assert codes.NATIONALITY_KEYS["UA"] == "166"


def test_special_nationalities_are_not_state_keys() -> None:
    assert codes.STAATSANGEHOERIGKEIT.code(STATELESS) == "997"
    assert codes.STAATSANGEHOERIGKEIT.code(UNKNOWN) == "998"
    assert {"997", "998"}.isdisjoint(codes.NATIONALITY_KEYS.values())


def test_document_labels_are_the_official_ausweisart_names() -> None:
    listed = official("urn:de:xauslaender:codelist:ausweisart", "2")
    for code, label in codes.AUSWEISART.values():
        assert meaning(listed, code) == label


def test_dvdv_prefixes_and_authority_keys() -> None:
    prefixes = official("urn:xoev-de:bund:bmi:bit:codeliste:dvdv.praefix", "51").codes()
    for prefix, category in codes.DVDV_PREFIXES.items():
        assert prefixes[prefix]["behoerdenkategorie"] == category
    assert codes.DVDV_PREFIXES[codes.AUTHORITY_PREFIX] == "Ausländerbehörde"
    authorities = official("urn:de:xauslaender:codelist:abhkennung").codes()
    assert authorities[ENVELOPE.reader.key]["Kurzbezeichnung"] == ENVELOPE.reader.name
