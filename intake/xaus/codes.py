"""The code values this builder may send, as compact tables of facts from the official lists.

Each table names the list (URN) and version it is taken from; tests/xaus/test_xaus_codes.py checks
every value against the genericode files in shared/xoev/codelists. The schema files and the
code lists themselves are never part of the project.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from intake.dataset.domain import STATELESS, UNKNOWN

NS = "http://www.osci.de/xauslaender2611"
STANDARD = "XAusländer"
VERSION = "26.11"


# eq=False: tables are module constants, hashed by identity (they key the builder's caches).
@dataclass(frozen=True, eq=False)
class CodeList:
    """One code list as sent: its URN, the version named in listVersionID, domain value -> code,
    and code -> its name in the list, sent beside the code where the type allows it."""

    uri: str
    version: str
    values: Mapping[str, str]
    names: Mapping[str, str] = field(default_factory=dict)

    def code(self, value: str) -> str:
        """The code for a domain value; ValueError names the list when there is none."""
        try:
            return self.values[value]
        except KeyError:
            raise ValueError(f"no code in {self.uri} for {value!r}") from None


NACHRICHTENTYP = CodeList(
    "urn:de:xauslaender:codelist:nachrichtentyp", "19", {"antrag": "130101"},
    {"130101": "OZG.Antrag.130101"},
)
ANTRAGSGRUND = CodeList(
    "urn:xoev-de:xauslaender:codeliste:ozg.antragsgrund", "4", {"erstbeantragung": "01"},
    {"01": "Erstbeantragung"},
)
AUFENTHALTSGRUND = CodeList(
    "urn:xoev-de:xauslaender:codeliste:ozg.aufenthaltsgrund", "2", {"humanitaer": "04"},
    {"04": "humanitärer Grund"},
)
# Names: the list's values up to their definitions (" - ...").
VERTRETUNGSART = CodeList(
    "urn:de:xauslaender:codelist:vertretungsart", "3", {"elterlich": "2", "personensorge": "2a"},
    {"2": "elterlich", "2a": "Erziehungsberechtigter/Personensorgevollmacht"},
)
# What a member is to the applicant, their reference person, from the member's side.
FAMILIAERE_BEZIEHUNG = CodeList(
    "urn:xoev-de:xauslaender:codeliste:ozg.familiaerebeziehungreferenzperson",
    "1",
    {"partner": "01", "minor_child": "02", "parent": "03", "other": "04"},
    {
        "01": "Ehe-/Lebenspartnerin oder Ehe-/Lebenspartner",
        "02": "minderjähriges Kind",
        "03": "Elternteil",
        "04": "sonstige Familienangehörige",
    },
)
# XInneres Geschlecht 1: "x" is "keine Angabe", which the list prescribes for an unknown sex
# and for an "X" in a foreign passport; "d" (divers) it reserves for German civil-status
# entries (§§ 22 Abs. 3, 45b PStG), which a person arriving from abroad does not have.
GESCHLECHT = CodeList(
    "urn:xoev-de:xinneres:codeliste:geschlecht",
    "1",
    {"female": "w", "male": "m", "diverse": "x", "unspecified": "x"},
    {"w": "weiblich", "m": "männlich", "x": "keine Angabe"},
)
FAMILIENSTAND = CodeList(
    "urn:de:xauslaender:codelist:familienstand",
    "2",
    {
        "single": "LD",
        "married": "VH",
        "divorced": "GS",
        "widowed": "VW",
        "civil_partnership": "LP",
        "unknown": "NB",
    },
    {
        "LD": "ledig",
        "VH": "verheiratet",
        "GS": "geschieden",
        "VW": "verwitwet",
        "LP": "Lebenspartnerschaft",
        "NB": "unbekannt",
    },
)
# Version 4.1 is the current publication; codes 01-03 mean the same in versions 3 and 4.1.
KANAL = CodeList(
    "urn:de:xoev:codeliste:erreichbarkeit",
    "4.1",
    {"email": "01", "landline": "02", "mobile": "03"},
)  # Code.Kommunikation.KanalType has no name element
# Its type has no name element.
VERZEICHNISDIENST = CodeList("urn:xoev-de:kosit:codeliste:verzeichnisdienst", "3", {"DVDV": "DVDV"})

# ISO 3166-1 alpha-2 -> Destatis nationality key, from the column
# DESTATIS-Schluessel-Staatsangehoerigkeit of the Destatis staatsgebiete list 2024-08-01 (a state's
# own row first, else its territory row). That column, not the staat list's key, is right here:
# Cook Islands and Niue have state keys 527/533 but nationality key 536 (New Zealand), and
# territories such as Hong Kong (411) or Taiwan (465) have nationality keys but no state row.
_NATIONALITY_KEYS = """
AD123 AE469 AF423 AG320 AI185 AL121 AM422 AO223 AR323 AS368 AT151 AU523 AW148 AX128
AZ425 BA122 BB322 BD460 BE124 BF258 BG125 BH424 BI291 BJ229 BL129 BM185 BN429 BO326
BQ148 BR327 BS324 BT426 BV149 BW227 BY169 BZ330 CA348 CC523 CD246 CF289 CG245 CH158
CI231 CK536 CL332 CM262 CN479 CO349 CP129 CR334 CU351 CV242 CW148 CX523 CY181 CZ164
DE000 DJ230 DK126 DM333 DO335 DZ221 EC336 EE127 EG287 EH252 ER224 ES161 ET225 FI128
FJ526 FK185 FM545 FO126 FR129 GA236 GB168 GD340 GE430 GF129 GG168 GH238 GI168 GL126
GM237 GN261 GP129 GQ274 GR134 GS185 GT345 GU368 GW259 GY328 HK411 HM523 HN347 HR130
HT346 HU165 ID437 IE135 IL441 IM168 IN436 IO185 IQ438 IR439 IS136 IT137 JE168 JM355
JO445 JP442 KE243 KG450 KH446 KI530 KM244 KN370 KP434 KR467 KW448 KY185 KZ444 LA449
LB451 LC366 LI141 LK431 LR247 LS226 LT142 LU143 LV139 LY248 MA252 MC147 MD146 ME140
MF129 MG249 MH544 MK144 ML251 MM427 MN457 MO412 MP368 MQ129 MR239 MS185 MT145 MU253
MV454 MW256 MX353 MY482 MZ254 NA267 NC129 NE255 NF523 NG232 NI354 NL148 NO149 NP458
NR531 NU536 NZ536 OM456 PA357 PE361 PF129 PG538 PH462 PK461 PL152 PM129 PN185 PR368
PT153 PW537 PY359 QA447 RE129 RO154 RS170 RU160 RW265 SA472 SB524 SC271 SD277 SE157
SG474 SH185 SI131 SJ149 SK155 SL272 SM156 SN269 SO273 SR364 SS278 ST268 SV337 SX148
SY475 SZ281 TC185 TD284 TG283 TH476 TJ470 TK536 TL483 TM471 TN285 TO541 TR163 TT371
TV540 TW465 TZ282 UA166 UG286 UM368 US368 UY365 UZ477 VA167 VC369 VE367 VG185 VI368
VN432 VU532 WF129 WS543 XK150 YE421 YT129 ZA263 ZM257 ZW233
"""
NATIONALITY_KEYS: Mapping[str, str] = {
    **{entry[:2]: entry[2:] for entry in _NATIONALITY_KEYS.split()},
    # The Palestinian territories' row has no ISO code in the Destatis list ("–"); its
    # nationality key is 459. ISO 3166-1 gives them PS.
    "PS": "459",
}

# ISO alpha-2 -> Destatis territory key (column DESTATIS-Schluessel-Gebiet of the staatsgebiete
# list 2024-08-01), for places of birth in a territory whose key is not its state's: the
# schema's AngabenZumStaat asks for it there (the Cook Islands, Greenland, Puerto Rico ...).
# Only territories that are the sole row of their ISO code: Australia's or Spain's outlying
# parts share their state's code, and a birth there is the state's.
_TERRITORY_KEYS = """
AI310 AS517 AW311 AX118 BL329 BM312 BQ344 BV522 CC512 CK527 CP352 CW321 CX521 EH212 FK314
FO182 GF315 GG113 GI112 GL342 GP317 GS518 GU529 HM510 IM115 IO413 JE114 KY318 MF331 MP514
MQ319 MS339 NC513 NF515 NU533 PF528 PM338 PN516 PR325 RE214 SH215 SJ116 SX341 TC350 TK519
VG313 VI316 WF520 YT211
"""
TERRITORY_KEYS: Mapping[str, str] = {entry[:2]: entry[2:] for entry in _TERRITORY_KEYS.split()}
STAATSGEBIET = CodeList(
    "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:staatsgebiete",
    "2024-08-01",
    TERRITORY_KEYS,
)
# Code.Staatsangehoerigkeit requires a listVersionID naming a version of the Destatis
# *staatsangehoerigkeit* list (the listURI the schema fixes), not of the staat list used above.
# 2021-02-19 is the version confirmed in shared/xoev/NOTES.md; a public copy of it holds every
# key of NATIONALITY_KEYS plus 997/998. A staatsangehoerigkeit version 2024-08-01 is not
# confirmed, and the XSD checks neither version nor code, so the receiver would be first to notice.
STAATSANGEHOERIGKEIT = CodeList(
    "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:staatsangehoerigkeit",
    "2021-02-19",
    {**NATIONALITY_KEYS, STATELESS: "997", UNKNOWN: "998"},
)

# The format of an enclosed document, by the media type documents.files gives it (it turns
# every photo into a JPEG). The schema enumerates the two codes itself (Code.Dokumentformat);
# the list is not among the published genericode files in shared/xoev/codelists.
DOKUMENTFORMAT = CodeList(
    "urn:de:xauslaender:codelist:dokumentformat",
    "2",
    {"application/pdf": "1", "image/jpeg": "2"},
    {"1": "PDF", "2": "JPG"},
)

# Every list a message may carry, by the listURI the builder always sends (validate() uses it).
CODE_LISTS: Mapping[str, CodeList] = {
    codes.uri: codes
    for codes in (
        NACHRICHTENTYP,
        ANTRAGSGRUND,
        AUFENTHALTSGRUND,
        VERTRETUNGSART,
        FAMILIAERE_BEZIEHUNG,
        GESCHLECHT,
        FAMILIENSTAND,
        KANAL,
        VERZEICHNISDIENST,
        STAATSANGEHOERIGKEIT,
        STAATSGEBIET,
        DOKUMENTFORMAT,
    )
}

# Ausweisart 2 (urn:de:xauslaender:codelist:ausweisart): OZG.Person/ausweisdokument has no
# element for the kind of document or its issuing state, so these travel as text in
# sonstigeAnmerkung, named by code and official label (and in the pages' description).
AUSWEISART: Mapping[str, tuple[str, str]] = {
    "passport": ("01", "Reisepass, Nationalpass"),
    "travel_document": ("03", "Sonstige Passersatzpapiere"),
}

# DVDV prefixes (urn:xoev-de:bund:bmi:bit:codeliste:dvdv.praefix, version 51) a kennung may carry.
DVDV_PREFIXES: Mapping[str, str] = {
    "azr": "Ausländerbehörde",
    "alp": "Ausländerportal",
    "ane": "Aufnahmeeinrichtung",
}
# An Ausländerbehörde's organisation ID in the DVDV is its BHKNZ from the ABH list
# (urn:de:xauslaender:codelist:abhkennung), behind the BVA-assigned prefix "azr".
AUTHORITY_PREFIX = "azr"
