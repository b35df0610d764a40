"""Documents sent through the form without JavaScript: each person's passport pages and the
household's proofs on the documents page, kept on the draft and the registration's once
it is sent (issue #27, build point 1)."""

from __future__ import annotations

import io
import re
from typing import Any

from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from intake.documents import store as documents
from intake.store import models
from tests.helpers import documents as samples
from tests.helpers.forms import APPLICANT, CSRF, SPOUSE, add_person, post


def _send(client: Any, path: str, data: dict[str, Any]) -> Any:
    """POST the page's form as multipart, files as (bytes, name) pairs (encoded in memory:
    the test client would spool a large body to a file it never closes)."""
    token = CSRF.search(client.get(path).text)
    assert token, path
    body = MultiDict({"csrf_token": token.group(1)})
    for key, value in data.items():
        sent = value if isinstance(value, list) else [value]
        for item in sent:
            body.add(key, FileStorage(io.BytesIO(item[0]), item[1])
                     if isinstance(item, tuple) else item)
    boundary, encoded = encode_multipart(body)
    return client.post(path, data=encoded,
                       content_type=f"multipart/form-data; boundary={boundary}")


def _up_to_the_documents_page(client: Any, lang: str = "en", persons: int = 1) -> None:
    post(client, f"/{lang}/", {"who": "family"})
    for n in range(persons):
        add_person(client, lang, n, APPLICANT if n == 0 else SPOUSE)
    post(client, f"/{lang}/address", {"postal_code": "14467"})
    post(client, f"/{lang}/contact", {})


def _stored(runtime: Any) -> list[tuple[models.Document, bytes]]:
    with runtime.db.read() as session:
        rows = session.scalars(select(models.Document).order_by(models.Document.created_at)).all()
        return [(row, documents.content(session, runtime.cipher, runtime.blobs, row))
                for row in rows]


def test_a_passport_photo_with_gps_is_kept_without_exif_and_goes_with_the_registration(
        client, runtime):
    _up_to_the_documents_page(client)
    page = client.get("/en/documents")
    assert 'enctype="multipart/form-data"' in page.text
    assert 'type="file" id="photo_page_0" name="photo_page_0" accept="image/*,application/pdf" ' \
           'capture="environment"' in page.text

    sent = _send(client, "/en/documents", {"photo_page_0": (samples.photo((1200, 800)), "IMG_0001.JPG")})

    assert sent.status_code == 303
    [(row, content)] = _stored(runtime)
    assert (row.kind, row.person_position, row.draft_id is not None) == ("document_page", 0, True)
    assert Image.open(io.BytesIO(content)).getexif() == {}  # GPS and every other tag gone
    shown = client.get("/en/documents").text
    assert "Page with the photo" in shown and "IMG_0001" not in shown  # the name is not kept

    assert post(client, "/en/review", {"consent": "yes"}).status_code == 303
    [(row, _content)] = _stored(runtime)
    assert row.registration_id is not None and row.draft_id is None


def test_a_refused_file_is_named_and_what_was_chosen_stays(client, runtime):
    _up_to_the_documents_page(client, "uk")

    sent = _send(client, "/uk/documents", {
        "proof_kind": "other", "proof_description": "Довідка",
        "photo_page_0": (b"not a picture", "passport.txt"),
        "validity_page_0": (samples.scripted_pdf(), "validity.pdf"),
    })

    assert sent.status_code == 422
    assert "passport.txt" in sent.text and "validity.pdf" in sent.text
    assert 'value="Довідка"' in sent.text
    assert 'lang="uk"' in sent.text
    assert _stored(runtime) == []


def test_a_page_sent_again_replaces_the_first_and_remove_deletes_it(client, runtime):
    _up_to_the_documents_page(client)
    first = _send(client, "/en/documents", {"photo_page_0": (samples.photo(), "a.jpg"),
                                            "then": "add"})
    assert first.headers["Location"].endswith("/en/documents")  # the page again, not a 200
    again = _send(client, "/en/documents", {"photo_page_0": (samples.photo((400, 300)), "b.jpg"),
                                            "then": "add"})
    assert again.status_code == 303
    [(row, _content)] = _stored(runtime)

    removed = post(client, "/en/documents", {"remove_document": row.id})

    assert removed.status_code == 303
    assert _stored(runtime) == []


def test_removing_a_family_member_removes_their_pages_and_moves_the_next_ones_up(client, runtime):
    _up_to_the_documents_page(client, persons=3)
    _send(client, "/en/documents", {
        f"photo_page_{n}": (samples.photo((200 + n, 100)), f"{n}.jpg") for n in range(3)})

    assert post(client, "/en/person/1/remove", {}).status_code == 303

    kept = sorted((row.person_position, Image.open(io.BytesIO(content)).size)
                  for row, content in _stored(runtime))
    assert kept == [(0, (200, 100)), (1, (202, 100))]


def test_proofs_of_any_kind_and_several_pages_are_kept_with_their_description(client, runtime):
    post(client, "/en/", {"who": "self"})
    add_person(client, "en", 0, APPLICANT)
    post(client, "/en/address", {"postal_code": "14467"})
    assert post(client, "/en/contact", {}).headers["Location"].endswith("/en/documents")

    unchosen = _send(client, "/en/documents", {"proof_file": (samples.photo(), "x.jpg")})
    assert unchosen.status_code == 422 and "Choose what the document shows" in unchosen.text
    other = _send(client, "/en/documents", {"proof_kind": "other",
                                            "proof_file": (samples.photo(), "x.jpg")})
    assert other.status_code == 422 and "Say in a few words" in other.text
    arrival = _send(client, "/en/documents", {
        "proof_kind": "arrival", "then": "add",
        "proof_file": [(samples.photo(), "1.jpg"), (samples.pdf_bytes(samples.pdf()), "2.pdf")],
    })
    assert arrival.status_code == 303
    assert client.get("/en/documents").text.count("Proof of arrival") >= 2
    done = _send(client, "/en/documents", {"proof_kind": "other",
                                           "proof_description": "Bescheinigung der Schule",
                                           "proof_file": (samples.photo((310, 200)), "s.jpg")})
    assert done.headers["Location"].endswith("/en/review")

    with runtime.db.read() as session:
        rows = documents.listed(session, draft_id=session.scalar(select(models.Draft.id)))
        described = [(row.kind, row.media_type, documents.description(runtime.cipher, row))
                     for row in rows]
    assert described == [("proof", "image/jpeg", "Ankunftsnachweis"),
                         ("proof", "application/pdf", "Ankunftsnachweis"),
                         ("proof", "image/jpeg", "Bescheinigung der Schule")]


def test_the_household_total_is_30_mb_as_stored(client, runtime, monkeypatch):
    monkeypatch.setattr("intake.documents.files.MAX_HOUSEHOLD_BYTES", 1)
    _up_to_the_documents_page(client)

    sent = _send(client, "/en/documents", {"photo_page_0": (samples.photo(), "big.jpg")})

    assert sent.status_code == 422 and "big.jpg" in sent.text and "does not fit" in sent.text
    with runtime.db.read() as session:
        assert session.scalar(select(func.count(models.Document.id))) == 0


def test_a_request_with_files_may_be_large_others_not(client):
    _up_to_the_documents_page(client)
    big = b"\xff\xd8\xff" + b"\0" * (2 * 1024 * 1024)  # 2 MB: over the 256 KB of a plain form

    with_files = _send(client, "/en/documents", {"photo_page_0": (big, "b.jpg")})
    plain = client.post("/en/address", data={"postal_code": "1" * (300 * 1024)})

    assert with_files.status_code == 422  # read, and refused as no photo: not 413
    assert plain.status_code == 413


def test_the_status_page_offers_the_summary_in_the_applicants_language_and_german(
        client, runtime):
    from pypdf import PdfReader

    post(client, "/uk/", {"who": "self"})
    add_person(client, "uk", 0, {**APPLICANT, "family_name": "Коваленко", "given_names": "Тарас"})
    post(client, "/uk/address", {"postal_code": "14467"})
    post(client, "/uk/contact", {})
    _send(client, "/uk/documents", {"proof_kind": "arrival", "proof_file": (samples.photo(), "a.jpg")})
    status_path = post(client, "/uk/review", {"consent": "yes"}).headers["Location"]
    status = client.get(status_path)
    link = re.search(r'href="([^"]+/summary\.pdf)"', status.text)
    assert link, "no summary link on the status page"

    pdf = client.get(link.group(1))

    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Cache-Control"] == "no-store"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    for shown in ("Коваленко", "Kovalenko", "Ankunftsnachweis", "Antragszusammenfassung"):
        assert shown in text, shown
    assert client.get(link.group(1).replace("/s/", "/s/x")).status_code == 404


def test_requests_with_files_wait_for_a_free_slot_and_give_it_back(app, client):
    """At most UPLOADS_AT_ONCE requests with files are read at once in a process (32 at once
    took 5.8 GB in the bench); the next waits, unread, and every slot comes back."""
    import threading

    from intake.web import uploads

    _up_to_the_documents_page(client)
    slots = app.extensions["upload_slots"]
    for _ in range(uploads.UPLOADS_AT_ONCE):
        slots.acquire()
    answers: list[int] = []
    sending = threading.Thread(target=lambda: answers.append(_send(
        client, "/en/documents", {"photo_page_0": (samples.photo(), "a.jpg")}).status_code))
    sending.start()
    sending.join(1.0)
    assert answers == []  # waiting for a slot

    slots.release()
    sending.join(10)
    assert answers == [303]
    for _ in range(uploads.UPLOADS_AT_ONCE - 1):
        slots.release()
    assert all(slots.acquire(blocking=False) for _ in range(uploads.UPLOADS_AT_ONCE))


def test_a_passport_with_its_dates_and_photos_reaches_the_authority_as_ausweisdokument(
        client, runtime):
    """The form asks the date of issue and the end of validity beside the number: with the
    photos, the message carries XAusländer's ausweisdokument (valid where the official set
    lies beside the clone)."""
    from tests.helpers.pipeline import process_queue, the_message

    post(client, "/en/", {"who": "self"})
    dates = {"issued_day": "30", "issued_month": "4", "issued_year": "2021",
             "expiry_day": "30", "expiry_month": "4", "expiry_year": "2031"}
    partial = add_person(client, "en", 0, {**APPLICANT, **dates, "issued_day": "unknown"})
    assert partial.status_code == 422 and 'id="issued_day-error"' in partial.text
    assert post(client, "/en/person/0/document", {**APPLICANT, **dates}).status_code == 303
    post(client, "/en/address", {"postal_code": "14467"})
    post(client, "/en/contact", {})
    _send(client, "/en/documents", {"photo_page_0": (samples.photo(), "1.jpg"),
                                    "validity_page_0": (samples.photo((310, 200)), "2.jpg")})
    review = client.get("/en/review").text
    assert "issued April 30, 2021" in review and "valid until April 30, 2031" in review
    assert post(client, "/en/review", {"consent": "yes"}).status_code == 303
    process_queue(runtime)

    message, ns = the_message(runtime.settings)
    [document] = message.findall(".//xa:ausweisdokument", ns)
    assert len(document.findall("xa:ausweisseite", ns)) == 2
    assert document.findtext("xa:seriennummer", namespaces=ns) == APPLICANT["document_number"]


def test_a_page_sent_again_counts_without_the_one_it_replaces(client, runtime, monkeypatch):
    _up_to_the_documents_page(client)
    assert _send(client, "/en/documents", {"photo_page_0": (samples.photo(), "a.jpg"),
                                           "then": "add"}).status_code == 303
    [(first, _content)] = _stored(runtime)
    monkeypatch.setattr("intake.documents.files.MAX_HOUSEHOLD_BYTES", int(first.size * 1.5))

    again = _send(client, "/en/documents", {"photo_page_0": (samples.photo((310, 200)), "b.jpg")})

    assert again.status_code == 303  # before: both counted, and the new page refused
    [(kept, _content)] = _stored(runtime)
    assert kept.id != first.id


def test_a_request_with_files_that_waits_too_long_is_told_to_try_again(app, client, monkeypatch):
    from intake.web import uploads

    monkeypatch.setattr(uploads, "SLOT_WAIT", 0.1)
    _up_to_the_documents_page(client)
    slots = app.extensions["upload_slots"]
    for _ in range(uploads.UPLOADS_AT_ONCE):
        slots.acquire()
    try:
        answer = _send(client, "/en/documents", {"photo_page_0": (samples.photo(), "a.jpg")})
    finally:
        for _ in range(uploads.UPLOADS_AT_ONCE):
            slots.release()

    assert answer.status_code == 503 and answer.headers["Retry-After"] == "10"


def test_a_file_sent_after_the_entries_were_sent_is_not_kept(client, runtime):
    _up_to_the_documents_page(client)
    token = CSRF.search(client.get("/en/documents").text).group(1)  # type: ignore[union-attr]
    assert post(client, "/en/review", {"consent": "yes"}).status_code == 303  # another tab
    with client.session_transaction() as cookie:
        cookie["draft"] = "sent-meanwhile"  # the upload's request still names a draft

    body = MultiDict({"csrf_token": token})
    body.add("photo_page_0", FileStorage(io.BytesIO(samples.photo()), "late.jpg"))
    boundary, encoded = encode_multipart(body)
    answer = client.post("/en/documents", data=encoded,
                         content_type=f"multipart/form-data; boundary={boundary}")

    assert answer.status_code == 303  # to the start page, which says why
    assert _stored(runtime) == []


def test_an_other_proofs_own_words_follow_the_apis_rules(client, runtime):
    post(client, "/en/", {"who": "self"})
    add_person(client, "en", 0, APPLICANT)
    post(client, "/en/address", {"postal_code": "14467"})
    post(client, "/en/contact", {})

    hidden = _send(client, "/en/documents", {"proof_kind": "other",
                                             "proof_description": "School \u202etxt.exe",
                                             "proof_file": (samples.photo(), "s.jpg")})
    long = _send(client, "/en/documents", {"proof_kind": "other",
                                           "proof_description": "x" * 201,
                                           "proof_file": (samples.photo(), "s.jpg")})

    assert hidden.status_code == 422 and 'id="proof_description-error"' in hidden.text
    assert long.status_code == 422 and 'id="proof_description-error"' in long.text
    assert _stored(runtime) == []
