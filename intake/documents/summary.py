"""The application summary (XAusländer `antragszusammenfassung`, issue #27): one PDF per
household that a clerk reads at a glance, and the same for the applicant to print.

Every person with the Latin spelling of the passport and the native one (Cyrillic, Arabic
script...), which the message's DIN 91379 fields cannot carry; the eligibility answers, the
documents enclosed, where the household stays, contact, appointment and reference. Codes,
dates and countries read as on the review and status pages (`dataset.wording`).

Texts are English msgids said through the catalogs, the German ones too: the clerk's copy
is the summary said under `force_locale("de")`, the applicant's is it said in their language
and in German, side by side.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from intake.dataset import domain, wording
from intake.dataset.languages import LANGUAGES
from intake.documents import qr as qr_code
from intake.documents import sheet

GERMAN = "de"
NONE = "–"  # a field the person left empty, as the review page shows it

# Translators: title of the printed summary, the Antragszusammenfassung.
TITLE = _l("Application summary")

# One field as said in one language: label, value, across all columns.
Said = tuple[str, str, bool]


class Version(NamedTuple):
    """The summary said in one language."""

    title: str
    head: list[Said]
    sections: list[tuple[str, list[Said]]]


def summary_pdf(
    household: domain.Household,
    *,
    reference: str,
    language: str,
    registered: dt.datetime,
    authority: domain.Authority | None = None,
    appointment: dt.datetime | None = None,
    documents: Sequence[str | LazyString] = (),
    status_link: str | None = None,
    qr: bool = False,
) -> bytes:
    """The summary as PDF/A-2b: in German alone for `language` "de" (the authority's copy),
    else in the applicant's language with German beside or beneath each text.

    Call it in an app context (the catalogs are the app's). `registered` (when the household
    registered: the document's date) and `appointment` are aware moments; `documents` are
    the enclosures' kinds or descriptions (a lazy text is said in each language).
    `status_link` (printed, and as a QR code with `qr`) opens the registration: it belongs
    on the applicant's copy only, never on the authority's. The same arguments give the
    same bytes.
    """
    if language not in LANGUAGES:
        raise ValueError("not a language of the service")
    languages = (GERMAN,) if language == GERMAN else (language, GERMAN)
    said = []
    for code in languages:
        with force_locale(code):
            said.append(_said(household, reference, authority, registered, appointment,
                              documents, status_link))
    titles = tuple(version.title for version in said)
    page = sheet.Page(
        language=language,
        titles=titles,
        head=_merged([version.head for version in said]),
        sections=tuple(
            sheet.Section(tuple(title for title, _fields in same),
                          _merged([fields for _title, fields in same]))
            for same in zip(*(version.sections for version in said), strict=True)
        ),
        footer=f"{titles[-1]} · {reference}",  # German
        created=registered,
        qr_runs=qr_code.runs(status_link) if qr and status_link else None,
    )
    # The reference names no one: without the service's database it says nothing of whom.
    return sheet.render(page, metadata_title=f"{titles[0]} {reference}")


def _merged(versions: list[list[Said]]) -> tuple[sheet.Field, ...]:
    """The fields of each language's version side by side, a value said alike given once."""
    return tuple(
        sheet.Field(
            labels=tuple(label for label, _value, _wide in same),
            values=tuple(dict.fromkeys(value for _label, value, _wide in same)),
            wide=same[0][2],
        )
        for same in zip(*versions, strict=True)
    )


def _said(
    household: domain.Household,
    reference: str,
    authority: domain.Authority | None,
    registered: dt.datetime,
    appointment: dt.datetime | None,
    documents: Sequence[str | LazyString],
    status_link: str | None,
) -> Version:
    """The summary in the current locale."""
    head: list[Said] = [(_("Reference"), reference, False)]
    if authority is not None:
        head.append((_("Immigration authority"), wording.place(authority), False))
    head.append((_("Registered"), wording.local_datetime(registered), False))
    head.append((_("Appointment"),
                 wording.local_datetime(appointment) if appointment else NONE, False))
    if status_link:
        head.append((_("Your status link:"), status_link, True))
    sections = [
        (f"{n}. {wording.ROLE_NAMES[person.role]}", _person(person))
        for n, person in enumerate(household.persons, start=1)
    ]
    sections.append((_("Contact and arrival"), _contact(household)))
    # The band names the list: its field has no label of its own.
    listed = "\n".join(f"• {item}" for item in documents) or _("none")
    sections.append((_("Documents enclosed"), [("", listed, True)]))
    return Version(str(TITLE), head, sections)


def _person(person: domain.Person) -> list[Said]:
    fields: list[Said] = [
        (_("Family name"), person.family_name or NONE, False),
        (_("Given names"), person.given_names or NONE, False),
    ]
    if person.family_name_native or person.given_names_native:
        native = f"{person.family_name_native or NONE}, {person.given_names_native or NONE}"
        fields.append((_("Name in the native script"), native, False))
    birthplace = person.place_of_birth or _("unknown")
    if person.country_of_birth:
        birthplace = f"{birthplace}, {wording.country(person.country_of_birth)}"
    fields += [
        (_("Sex"), str(wording.SEX_NAMES[person.sex]), False),
        (_("Date of birth"), wording.partial_date(person.date_of_birth), False),
        (_("Place of birth"), birthplace, False),
        (_("Nationality"), ", ".join(wording.country(c) for c in person.nationalities), False),
        (_("Marital status"), str(wording.MARITAL_NAMES[person.marital_status]), False),
    ]
    answers = person.eligibility
    if answers is not None:
        fields.append((_("Lived in Ukraine on 24 February 2022"),
                       _("Yes") if answers.lived_in_ukraine else _("No"), False))
        if answers.status_in_ukraine:
            # Translators: a non-Ukrainian's right to stay in Ukraine on 24 Feb 2022.
            fields.append((_("Status in Ukraine"),
                           str(wording.STATUS_NAMES[answers.status_in_ukraine]), False))
    document = person.document
    if document is None:
        return [*fields, (_("Document"), NONE, False)]
    fields += [
        (_("Type of document"), str(wording.DOCUMENT_NAMES[document.type]), False),
        (_("Document number"), document.number, False),
    ]
    if document.issuing_country:
        fields.append((_("Issuing country"), wording.country(document.issuing_country), False))
    if document.valid_from:
        fields.append((_("Date of issue"), wording.partial_date(_day(document.valid_from)),
                       False))
    if document.valid_until:
        fields.append((_("Valid until"), wording.partial_date(_day(document.valid_until)),
                       False))
    return fields


def _contact(household: domain.Household) -> list[Said]:
    """Where the household stays and how to reach it, when it came, what it adds."""
    fields: list[Said] = [(_("Postal code"), household.postal_code, False)]
    if household.address is not None:
        fields.append((_("Address"), wording.address(household.address), False))
    contact = household.contact or domain.Contact()
    entry = household.entry_date
    return [
        *fields,
        (_("Date of entry into Germany"),
         wording.partial_date(_day(entry)) if entry else NONE, False),
        (_("E-mail address"), contact.email or NONE, False),
        (_("Mobile phone number"), contact.phone or NONE, False),
        (_("Remarks"), household.remarks or NONE, True),
    ]


def _day(day: dt.date) -> domain.PartialDate:
    return domain.PartialDate(day.year, day.month, day.day)
