"""Documents sent with the form's documents page: each person's passport pages and the
household's proofs, for the applicant and the desk alike.

A file is kept on the draft as soon as it arrives, made safe, whatever else the page's
answers lack: a photo taken on a weak connection is not sent twice. What a page shows of
a kept file is what it is and its size, never its content or its original name.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request, session
from flask_babel import format_decimal
from flask_babel import gettext as _
from marshmallow import ValidationError

from intake.dataset.schemas import messages
from intake.documents import files, proofs
from intake.documents import store as documents
from intake.registrations import drafts
from intake.web import runtime, uploads
from intake.web.api_uploads import ProofSchema

# A person's file inputs on the documents page (page_input), and the pages they take.
PAGE_INPUTS = {"photo_page": proofs.PHOTO_PAGE, "validity_page": proofs.VALIDITY_PAGE}
PROOF_INPUT, PROOF_KIND, PROOF_DESCRIPTION = "proof_file", "proof_kind", "proof_description"
PROOF_FIELDS = (PROOF_KIND, PROOF_DESCRIPTION)  # kept when the page is shown again
REMOVE = "remove_document"  # a button's name; its value is the document's id


@dataclass(frozen=True)
class Attached:
    """A kept document as a page lists it."""

    id: str
    label: str
    size: str
    person: int | None


def page_input(name: str, n: int) -> str:
    """The documents page's file input of person n's page `name` ("photo_page_0")."""
    return f"{name}_{n}"


def take_pages(persons: int) -> dict[str, str]:
    """Keep the passport pages sent for each of the household's persons; errors by input."""
    errors: dict[str, str] = {}
    for n in range(persons):
        for name, description in PAGE_INPUTS.items():
            for upload in uploads.sent_files(page_input(name, n)):
                refused = _keep(upload.filename or "", uploads.read(upload),
                                kind=documents.DOCUMENT_PAGE, person=n, description=description)
                if refused:
                    errors[page_input(name, n)] = refused
    return errors


def take_proofs(answers: dict[str, str]) -> dict[str, str]:
    """Keep the proofs sent, all of the kind chosen (PROOF_FIELDS); errors by input."""
    kind, own_words = answers.get(PROOF_KIND, ""), answers.get(PROOF_DESCRIPTION, "")
    sent = uploads.sent_files(PROOF_INPUT)
    if not sent:
        return {}
    if kind not in proofs.KINDS:
        return {PROOF_KIND: _("Choose what the document shows.")}
    if kind == proofs.OTHER and not own_words.strip():
        return {PROOF_DESCRIPTION: _("Say in a few words what the document is.")}
    if kind == proofs.OTHER:  # the API's rules for its own words: length, plain text
        try:
            ProofSchema().load({"kind": kind, "description": own_words.strip()})
        except ValidationError as error:
            return {PROOF_DESCRIPTION: str(messages(error)["description"][0])}
    errors: dict[str, str] = {}
    for upload in sent:
        refused = _keep(upload.filename or "", uploads.read(upload), kind=documents.PROOF,
                        description=proofs.description(kind, own_words))
        if refused:  # each refused file named, in one sentence after another
            errors[PROOF_INPUT] = f"{errors[PROOF_INPUT]} {refused}" if errors else refused
    return errors


def _keep(
    file_name: str, data: bytes, *, kind: str, description: str, person: int | None = None
) -> str | None:
    """Keep one file on the draft; the refusal's message when it cannot be."""
    try:
        safe = files.accept(data, file_name)
        rt = runtime()
        with rt.db.transaction() as db_session:
            kept = drafts.attach(db_session, rt.cipher, rt.blobs, session.get("draft"), safe,
                                 kind=kind, person=person, description=description,
                                 file_name=file_name)
    except files.Refused as refused:
        return str(refused.message)
    if kept is None:  # sent from another tab meanwhile, or expired: no draft to keep it on
        return str(_("“%(name)s” was not kept: these entries were sent or have expired.",
                     name=files.shown_name(file_name)))
    return None


def proof_choices() -> list[tuple[str, str]]:
    """The kinds of proof as radio buttons: value and label."""
    return [(kind, str(proofs.LABELS[kind])) for kind in proofs.KINDS]


def remove_requested() -> bool:
    """Remove the document whose Remove button was pressed, if it is the draft's."""
    document_id = request.form.get(REMOVE)
    if not document_id:
        return False
    rt = runtime()
    with rt.db.transaction() as db_session:
        drafts.detach(db_session, rt.blobs, session.get("draft"), document_id)
    return True


def listed() -> list[Attached]:
    """The draft's documents, for the document, proofs and review pages."""
    rt = runtime()
    with rt.db.read() as db_session:
        rows = drafts.attached(db_session, session.get("draft"))
        return [
            Attached(row.id, str(proofs.label(row.kind, documents.description(rt.cipher, row))),
                     _size(row.size), row.person_position)
            for row in rows
        ]


def _size(size: int) -> str:
    if size >= files.MEGABYTE:
        # In the page's language's digits and separator: "1,5 MB" in German.
        shown = format_decimal(size / files.MEGABYTE, format="0.0")
        return str(_("%(megabytes)s MB", megabytes=shown))
    return str(_("%(kilobytes)s KB", kilobytes=format_decimal(max(1, round(size / 1024)))))
