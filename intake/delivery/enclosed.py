"""What a household's messages enclose, for the payload job: its documents, read and
decrypted, and its German application summary, made once per household.

The job builds a chunk of registrations in parts whose documents fit `PART_BYTES`
together (`parts`): a part's documents are read in one short read, and its messages built
and stored before the next part's documents are read, so a chunk of hundreds of households
with photos never sits in memory at once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake import xaus
from intake.config import Settings
from intake.dataset import domain
from intake.delivery.catalogs import app_for
from intake.documents import store
from intake.documents.blobs import Blobs
from intake.parts import by_size
from intake.security.crypto import FieldCipher
from intake.store import models

# Document bytes a part of a payload job holds, counted as the messages carry them (a
# proof once per member). A household above it is built alone: its documents are at most
# documents.files.MAX_HOUSEHOLD_BYTES, but a proof goes into each of up to 12 messages.
PART_BYTES = 64 * 2**20
PDF = "application/pdf"


@dataclass
class Loaded:
    """A household's documents, decrypted: pages by person position, proofs in order."""

    pages: dict[int, list[xaus.Enclosure]] = field(default_factory=dict)
    proofs: list[xaus.Enclosure] = field(default_factory=list)
    # Why a document could not be read (missing from its store, not decrypted): the
    # household's messages are not built without it, and the others go on.
    unreadable: str | None = None


def carried_bytes(session: Session, registration_ids: set[str],
                  persons: dict[str, int]) -> dict[str, int]:
    """Per registration, the document bytes its messages will carry (see PART_BYTES)."""
    table = models.Document
    rows = session.execute(
        select(table.registration_id, table.kind, func.sum(table.size))
        .where(table.registration_id.in_(registration_ids),
               table.kind.in_((store.DOCUMENT_PAGE, store.PROOF)))
        .group_by(table.registration_id, table.kind)
    ).all()
    carried: dict[str, int] = defaultdict(int)
    for registration_id, kind, size in rows:
        assert registration_id is not None  # noqa: S101 - selected by it
        times = persons.get(registration_id, 1) if kind == store.PROOF else 1
        carried[registration_id] += int(size or 0) * times
    return dict(carried)


def parts(
    rows: Sequence[tuple[int, str]], carried: dict[str, int], most_rows: int,
    most_bytes: int = PART_BYTES,
) -> Iterator[list[tuple[int, str]]]:
    """The (outbox id, registration id) rows in order, cut into parts of at most `most_rows`
    rows whose carried bytes stay within `most_bytes` (one row alone may exceed it)."""
    return by_size(rows, lambda row: carried.get(row[1], 0), most_bytes, most_rows)


def load(session: Session, cipher: FieldCipher, blobs: Blobs,
         registration_ids: set[str]) -> dict[str, Loaded]:
    """The registrations' document pages and proofs, decrypted, oldest first.

    Summaries stored for the applicant are not taken: the authority's copy is made by
    `summary`, in German, from what the job knows.
    """
    loaded: dict[str, Loaded] = defaultdict(Loaded)
    rows = session.scalars(
        select(models.Document)
        .where(models.Document.registration_id.in_(registration_ids),
               models.Document.kind.in_((store.DOCUMENT_PAGE, store.PROOF)))
        .order_by(models.Document.created_at, models.Document.id)
    )
    for row in rows:
        assert row.registration_id is not None  # noqa: S101 - selected by it
        household = loaded[row.registration_id]
        if household.unreadable:
            continue
        try:
            content = store.content(session, cipher, blobs, row)
        except Exception as error:  # the household's rows fail with the reason, not the job
            # The type and the document's id only: a decoder's message may quote content.
            household.unreadable = f"document {row.id} unreadable: {type(error).__name__}"
            continue
        if row.kind == store.PROOF:
            household.proofs.append(
                xaus.Enclosure(content, row.media_type, store.description(cipher, row)))
        elif row.person_position is not None:
            household.pages.setdefault(row.person_position, []).append(
                xaus.Enclosure(content, row.media_type))
    return dict(loaded)


def enclosures(
    settings: Settings, household: domain.Household, loaded: Loaded | None, *,
    reference: str, registered: dt.datetime, authority: domain.Authority,
) -> xaus.Enclosures:
    """What every message of the household encloses: its documents and its summary."""
    documents = loaded or Loaded()
    summary = summary_pdf(settings, household, documents, reference=reference,
                          registered=registered, authority=authority)
    return xaus.Enclosures(pages=documents.pages, proofs=documents.proofs,
                           summary=xaus.Enclosure(summary, PDF))


def contents(enclosures: xaus.Enclosures) -> list[bytes]:
    """Every content the household's messages enclose (kept once: delivery.references)."""
    found = [page.content for pages in enclosures.pages.values() for page in pages]
    found += [proof.content for proof in enclosures.proofs]
    return found + ([enclosures.summary.content] if enclosures.summary else [])


def keep_summary(session: Session, cipher: FieldCipher, blobs: Blobs, registration_id: str,
                 summary: bytes) -> None:
    """Keep the authority's summary as the household's document, which its messages name;
    the same summary made again (a retried job) is kept once."""
    store.save(session, cipher, blobs, store.Made(PDF, summary), kind=store.SUMMARY,
               registration_id=registration_id)


def summary_pdf(
    settings: Settings, household: domain.Household, documents: Loaded, *,
    reference: str, registered: dt.datetime, authority: domain.Authority,
) -> bytes:
    """The authority's copy of the summary (German only), the same bytes every time for the
    same registration: no appointment (booked later, and sent to the authority apart), no
    status link (the applicant's only)."""
    from intake.documents.summary import summary_pdf as render  # fonts and PDF: on first use

    listed = [
        _pages_line(household, position, len(pages))
        for position, pages in sorted(documents.pages.items())
        if 0 <= position < len(household.persons)
    ] + [proof.description or "Nachweis" for proof in documents.proofs]
    with app_for(settings).app_context():
        return render(household, reference=reference, language="de", registered=registered,
                      authority=authority, documents=listed)


def _pages_line(household: domain.Household, position: int, count: int) -> str:
    person = household.persons[position]
    name = " ".join(filter(None, (person.given_names, person.family_name))) or "–"
    return f"Ausweisdokument von {name}: {count} {'Seite' if count == 1 else 'Seiten'}"
