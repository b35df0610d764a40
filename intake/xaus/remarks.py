"""xa:sonstigeAnmerkung: what the standard has no element for, in lines a clerk reads.

First what must be seen at once (an unaccompanied minor), then the legal basis claimed and
what it rests on (intake.dataset.eligibility), the person's identity document (until the documents
travel as ausweisdokument) and the household's own remarks.
"""

from __future__ import annotations

from intake.dataset.domain import Household, Person
from intake.dataset.eligibility import Outcome
from intake.dataset.family import Representation
from intake.xaus.codes import AUSWEISART

UNACCOMPANIED = (
    "UNBEGLEITETE MINDERJÄHRIGE PERSON: ohne volljährige Begleitperson registriert. Das "
    "Jugendamt ist zu beteiligen (vorläufige Inobhutnahme, § 42a SGB VIII; Vormundschaft)."
)
TEMPORARY_PROTECTION = (
    "Antrag auf Erteilung einer Aufenthaltserlaubnis zum vorübergehenden Schutz nach § 24 AufenthG."
)
NOT_ASKED = (
    "Voraussetzungen des vorübergehenden Schutzes nicht erfragt: kein Antrag nach § 24 "
    "AufenthG; bitte bei der Vorsprache klären."
)
NOT_ELIGIBLE = (
    "Voraussetzungen des vorübergehenden Schutzes nach Angaben der Person nicht erfüllt: kein "
    "Antrag nach § 24 AufenthG."
)
# xa:aufenthaltsdokument/xa:visumsfreieEinreise: why no residence title is needed yet.
VISA_FREE = (
    "Kein Aufenthaltstitel erforderlich nach § 2 UkraineAufenthÜV: am 24.02.2022 in der "
    "Ukraine wohnhaft."
)
_IN_UKRAINE = "Voraussetzungen nach Angaben der Person: am 24.02.2022 in der Ukraine wohnhaft"
# What the claim rests on, by the person's status (Durchführungsbeschluss (EU) 2022/382).
_GROUNDS = {
    "citizen": "ukrainische Staatsangehörigkeit (Art. 2 Abs. 1 Buchst. a)",
    "international_protection": "internationaler oder gleichwertiger nationaler Schutz in der "
    "Ukraine (Art. 2 Abs. 1 Buchst. b)",
    "permanent_residence": "unbefristeter ukrainischer Aufenthaltstitel (Art. 2 Abs. 2)",
    "family": "Familienangehörige einer nach Art. 2 berechtigten Person dieses Haushalts "
    "(Art. 2 Abs. 1 Buchst. c)",
}
_OTHER_DOCUMENT = "sonstiges Dokument"


def remark(
    person: Person,
    household: Household,
    represented: Representation,
    outcome: Outcome,
    parents: list[tuple[Person, str]],
) -> str:
    """The lines; `parents`: a minor child's parents in the household, with their
    application ids (the clerk finds the parent's file by it)."""
    lines = [UNACCOMPANIED] if represented.unaccompanied else []
    if outcome.verdict == "eligible":
        lines += [TEMPORARY_PROTECTION, f"{_IN_UKRAINE}; {_GROUNDS[_ground(person, outcome)]}."]
    elif outcome.verdict == "not_asked":
        lines.append(NOT_ASKED)
    else:  # intake refuses these; said plainly should one ever be stored
        lines.append(NOT_ELIGIBLE)
    for parent, application_id in parents:
        names = " ".join(filter(None, (parent.given_names, parent.family_name)))
        lines.append(f"Antrag des Elternteils {names}: {application_id}.")
    document = person.document
    if document is not None:
        kind = AUSWEISART.get(document.type)
        details = [f"{kind[1]} (Ausweisart {kind[0]})" if kind else _OTHER_DOCUMENT]
        details.append(f"Nummer {document.number}")
        if document.issuing_country:
            details.append(f"Ausstellungsstaat {document.issuing_country}")
        if document.valid_until:
            details.append(f"gültig bis {document.valid_until.isoformat()}")
        lines.append(f"Ausweisdokument: {'; '.join(details)}.")
    if household.remarks:
        lines.append(f"Anmerkung: {household.remarks}")
    return "\n".join(lines)


def _ground(person: Person, outcome: Outcome) -> str:
    if outcome.reason == "family":
        return "family"
    if "UA" in person.nationalities:
        return "citizen"
    assert person.eligibility is not None and person.eligibility.status_in_ukraine  # noqa: S101
    return person.eligibility.status_in_ukraine
