"""The application summary of a stored registration, as the applicant prints it.

The same document the authority receives as `antragszusammenfassung`, said in the
applicant's language beside German, with the status link and its QR code (which the
authority's copy never carries). Made when asked: nothing of it is kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from intake.documents import proofs
from intake.documents import store as documents
from intake.registrations import booking, register
from intake.store import household_rows

if TYPE_CHECKING:
    from intake.runtime import Runtime


def applicants_copy(runtime: Runtime, token: str, status_link: str) -> tuple[str, bytes] | None:
    """The reference and the summary PDF of the registration a status token opens; None
    for an unknown token or erased data."""
    # Here: summary brings fpdf2 and HarfBuzz, which a worker that never prints need not load.
    from intake.documents.summary import summary_pdf

    with runtime.db.read() as session:
        registration = register.by_token(session, token)
        if registration is None:
            return None
        household = household_rows.load_household(runtime.cipher, registration)
        status = register.status(session, registration)
        enclosed = [proofs.label(row.kind, documents.description(runtime.cipher, row))
                    for row in documents.listed(session, registration_id=registration.id)
                    if row.kind != documents.SUMMARY]
    pdf = summary_pdf(
        household, reference=status.reference, language=household.language,
        registered=booking.aware(status.created_at), authority=status.authority,
        appointment=status.appointment.starts_at if status.appointment else None,
        documents=enclosed, status_link=status_link, qr=True,
    )
    return status.reference, pdf
