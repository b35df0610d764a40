"""The proofs a household may enclose, the same for the form, the desk and the API.

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
