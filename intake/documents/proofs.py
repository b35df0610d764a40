"""What a document is: the pages of an identity document a person encloses, and the proofs a
household may enclose, the same for the form, the desk, the API and the summary.

Germany4Ukraine accepted proofs of entry, of arrival registration (Ankunftsnachweis) and of
residence. Each proof travels to the authority as a `nachweis` with a German description
(what `description()` gives, kept encrypted with the document); "other" proofs carry the
sender's own words instead.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

ENTRY, ARRIVAL, RESIDENCE, OTHER = "entry", "arrival", "residence", "other"
KINDS = (ENTRY, ARRIVAL, RESIDENCE, OTHER)
MAX_DESCRIPTION = 200  # characters of an "other" proof's own description

# What the authority reads (German, whatever the applicant's language).
_GERMAN = {
    ENTRY: "Nachweis der Einreise (Einreisestempel oder Fahrkarte)",
    ARRIVAL: "Ankunftsnachweis",
    RESIDENCE: "Meldebescheinigung oder Mietvertrag",
}

# What the applicant reads.
LABELS: dict[str, LazyString] = {
    ENTRY: _l("Proof of entry: the stamp in your passport, or a ticket"),
    ARRIVAL: _l("Proof of arrival (Ankunftsnachweis)"),
    RESIDENCE: _l("Registration of your address, or your tenancy agreement"),
    OTHER: _l("Another document"),
}


def description(kind: str, own_words: str | None = None) -> str:
    """The German description sent with a proof of `kind` (ValueError for an unknown kind,
    or an "other" proof without words of its own)."""
    if kind == OTHER:
        words = (own_words or "").strip()
        if not words:
            raise ValueError("an other proof needs a description")
        return words[:MAX_DESCRIPTION]
    return _GERMAN[kind]


# The pages of an identity document the form asks for ("at least the photo page and the
# page with the validity", XAusländer's ausweisdokument), described in German as the
# message and the clerk name them.
PHOTO_PAGE, VALIDITY_PAGE = "Lichtbildseite", "Seite mit den Angaben zur Gültigkeit"
PAGE_LABELS: dict[str, LazyString] = {
    PHOTO_PAGE: _l("Page with the photo"),
    VALIDITY_PAGE: _l("Page with the validity dates"),
}
ANY_PAGE = _l("Page of the document")


def label(kind: str, description: str | None) -> LazyString | str:
    """What a stored document is, said in the language of the moment: a page of a person's
    document (kind "document_page"), or a proof by its German description."""
    if kind == "document_page":
        return PAGE_LABELS.get(description or "", ANY_PAGE)
    known = {german: LABELS[proof_kind] for proof_kind, german in _GERMAN.items()}
    return known.get(description or "", description or LABELS[OTHER])
