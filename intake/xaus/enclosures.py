"""The documents a message carries: the person's document pages (xa:ausweisdokument), the
household's application summary (xa:antragszusammenfassung) and proofs (xa:nachweis).

The builder stays pure: the job loads and decrypts the documents and hands their bytes in
as `Enclosures`; nothing here reads a file or the database.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from intake.dataset import names, transliteration
from intake.dataset.domain import Document, Person
from intake.xaus.codes import AUSWEISART, DOKUMENTFORMAT
from intake.xaus.elements import code
from intake.xaus.writer import Writer

# The extension `dateiname` must carry (the schema's annotation asks for it).
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg"}
SUMMARY_FILE_NAME = "Antragszusammenfassung.pdf"
# An "other" proof's own words that DIN 91379 cannot carry nor Latin letters spell (Arabic
# script, say): the summary lists them as written.
UNSENDABLE_DESCRIPTION = "Sonstiger Nachweis (Beschreibung in der Antragszusammenfassung)"


@dataclass(frozen=True)
class Enclosure:
    """One document as sent: its (EXIF-free) content, its media type (image/jpeg or
    application/pdf, as documents.files makes them) and, for a proof, its German
    description (`bezeichnung`)."""

    content: bytes
    media_type: str
    description: str | None = None

    @functools.cached_property
    def encoded(self) -> str:
        """The content in base64 (xs:base64Binary), made once: a household's proofs and
        summary go into every member's message."""
        return base64.b64encode(self.content).decode("ascii")


@dataclass(frozen=True)
class Enclosures:
    """What a household's messages enclose: `pages[i]`, the document pages of persons[i]
    in their order; the household's proofs and its summary, in every member's message."""

    pages: Mapping[int, Sequence[Enclosure]] = field(default_factory=dict)
    proofs: Sequence[Enclosure] = ()
    summary: Enclosure | None = None


NOTHING = Enclosures()


def carries_identity_document(document: Document | None) -> bool:
    """Whether xa:ausweisdokument can be written for this document (given pages).

    All three children are required: `gueltigkeitszeitraum` is a Zeitraum whose `von` and
    `bis` are both required full dates, so an expiry date alone is not enough, and a date
    of issue is never guessed; `seriennummer` is the document number.
    """
    return (
        document is not None
        and bool(document.number.strip())
        and document.valid_from is not None
        and document.valid_until is not None
        and document.valid_from <= document.valid_until
    )


def write_identity_document(out: Writer, document: Document, pages: Sequence[Enclosure]) -> None:
    """Write xa:ausweisdokument: the pages, the validity, the number (in the schema's order).
    Callers ask `carries_identity_document` first."""
    assert document.valid_from is not None and document.valid_until is not None  # noqa: S101
    with out.element("xa:ausweisdokument"):
        for page in pages:
            with out.element("xa:ausweisseite"):
                out.leaf("xa:dokument", page.encoded)
                code(out, "xa:dokumententyp", DOKUMENTFORMAT, page.media_type)
        with out.element("xa:gueltigkeitszeitraum"):
            out.leaf("xa:von", document.valid_from.isoformat())
            out.leaf("xa:bis", document.valid_until.isoformat())
        out.leaf("xa:seriennummer", document.number)


def write_summary(out: Writer, summary: Enclosure) -> None:
    """Write xa:antragszusammenfassung (OZG.DokumentOderReferenz, the content itself)."""
    _document_or_reference(out, "xa:antragszusammenfassung", summary, SUMMARY_FILE_NAME)


def write_proofs(out: Writer, proofs: Sequence[Enclosure], file_stem: str) -> None:
    """Write one xa:nachweis (OZG.DokumentOderReferenzErweitert) per proof, with its
    description as `bezeichnung`."""
    for number, proof in enumerate(proofs, start=1):
        if not proof.description:
            raise ValueError("a proof is sent with its description")
        name = f"{file_stem}-{number}.{EXTENSIONS.get(proof.media_type, 'bin')}"
        _document_or_reference(out, "xa:nachweis", proof, name, sendable(proof.description))


def sendable(description: str) -> str:
    """A proof's description as `bezeichnung` (DIN 91379 datatypeC) can carry it: the
    German ones as they are; an "other" proof's own words (documents.proofs) in Cyrillic
    spelled in Latin letters, as names are; anything else replaced by a pointer to the
    summary, which prints every script."""
    text = names.normalize(description)
    if names.first_disallowed(text) is None:
        return text
    return transliteration.propose_latin(text) or UNSENDABLE_DESCRIPTION


def pages_as_proofs(person: Person, pages: Sequence[Enclosure]) -> list[Enclosure]:
    """The pages of a document that xa:ausweisdokument cannot carry (no date of issue, no
    number), described for xa:nachweis, so that they still reach the authority."""
    kind = AUSWEISART.get(person.document.type) if person.document is not None else None
    label = f"Ausweisdokument ({kind[1]})" if kind else "Ausweisdokument"
    count = len(pages)
    return [
        Enclosure(page.content, page.media_type, f"{label}: Seite {number} von {count}")
        for number, page in enumerate(pages, start=1)
    ]


def _document_or_reference(
    out: Writer, tag: str, enclosure: Enclosure, file_name: str, description: str | None = None
) -> None:
    with out.element(tag):
        with out.element("xa:dokumentOderReferenz"):
            out.leaf("xa:dokument", enclosure.encoded)
        code(out, "xa:dokumententyp", DOKUMENTFORMAT, enclosure.media_type)
        out.leaf("xa:dateiname", file_name)
        if description is not None:  # the Erweitert type's one addition
            out.leaf("xa:bezeichnung", description)
