"""The volunteer desk: finding people, assisted registration, check-in (sign-in: tests/security)."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from intake.store import models
from tests.helpers.api import api, post
from tests.helpers.data import ADULT
from tests.helpers.forms import APPLICANT, CHILD, CSRF, SPOUSE, register
from tests.helpers.qr import decode_png_qr, decode_svg_qr
from tests.helpers.staff import find_person


def test_forms_without_a_valid_csrf_token_are_refused(staff_clients):
    client = staff_clients["volunteer"]
    assert client.post("/desk/assist", data={}).status_code == 400
    assert client.post("/desk/assist", data={"csrf_token": "forged"}).status_code == 400
    assert client.post("/en/", data={"who": "self", "csrf_token": "forged"}).status_code == 400


def test_people_are_found_by_reference_and_by_name_variants_and_views_are_audited(
    staff_clients, client, submit_token, runtime
):
    body = json.loads(json.dumps(ADULT))
    body["persons"][0].update(family_name="Shevchenko", given_names="Oleksandr")
    reference = post(client, submit_token, body).json["reference"]
    desk = staff_clients["volunteer"]

    by_name = find_person(desk, "SHEVCHENKO Aleksandr", "1990-05-01")
    by_reference = desk.get(f"/desk/search?reference={reference.lower()}")
    wrong_birthday = find_person(desk, "Shevchenko Oleksandr", "1991-05-01")
    detail = desk.get(f"/desk/registrations/{reference}")

    assert reference in by_name.text and reference in by_reference.text
    assert reference not in wrong_birthday.text
    assert "Oleksandr" in detail.text
    with runtime.db.read() as session:
        entries = session.scalars(select(models.AuditEntry)).all()
        actions = {(entry.action, entry.record_type) for entry in entries}
        assert ("view", "registration") in actions and ("search", "registration") in actions
        assert all(entry.user_id for entry in entries if entry.record_type == "registration")
        stored = " ".join(f"{e.action} {e.record_type} {e.record_id}" for e in entries)
        assert "Oleksandr" not in stored and "Shevchenko" not in stored
    admin_view = staff_clients["admin"].get("/desk/audit").text
    assert "view" in admin_view and "search" in admin_view


def test_assisted_registration_warns_of_duplicates_and_records_the_volunteer(
    staff_clients, client, runtime
):
    register(client, "en", [APPLICANT], "14467")  # the same person registered alone earlier
    desk = staff_clients["volunteer"]
    token = CSRF.search(desk.get("/desk/").text).group(1)  # type: ignore[union-attr]
    assert desk.post("/desk/assist", data={"csrf_token": token}).status_code == 303

    review = register_until_review(desk)
    public_review = register_until_review(client)

    assert "Possible duplicate" in review.text
    # Issue #26: the warning named a reference only; it names the person who matched.
    warning = review.text.split("Possible duplicate", 1)[1].split("</div>", 1)[0]
    assert "Kovalenko, Taras" in warning and "registered alone" in warning
    assert "Possible duplicate" not in public_review.text  # the public never learns who is here
    token = CSRF.search(review.text).group(1)  # type: ignore[union-attr]
    sent = desk.post("/en/review", data={"csrf_token": token, "consent": "yes"})
    assert sent.status_code == 303
    with runtime.db.read() as session:
        volunteer = session.scalar(select(models.StaffUser.id).where(
            models.StaffUser.role == "volunteer"))
        entered = session.scalars(select(models.Registration.entered_by)).all()
        assert sorted(entered, key=str) == sorted([None, volunteer], key=str)


def test_the_duplicate_warning_stays_within_the_volunteers_authorities(
    app, staff_clients, client, runtime
):
    """An audit found the duplicate warning listing references of other authorities."""
    from tests.helpers.staff import create_staff, sign_in

    register(client, "en", [APPLICANT], "04916")  # registered with Elbe-Elster (075600)
    elsewhere = app.test_client()
    sign_in(elsewhere, create_staff(runtime, "ee@example.org", "volunteer", "075600"))
    for desk in (staff_clients["volunteer"], elsewhere):
        desk.post("/desk/assist", data={"csrf_token": CSRF.search(  # type: ignore[union-attr]
            desk.get("/desk/").text).group(1)})

    assert "Possible duplicate" not in register_until_review(staff_clients["volunteer"]).text
    assert "Possible duplicate" in register_until_review(elsewhere).text
    with runtime.db.read() as session:
        lookups = session.scalars(select(models.AuditEntry.record_id).where(
            models.AuditEntry.action == "duplicate lookup")).all()
    assert "none found" in lookups and len(lookups) >= 2  # each lookup audited


def test_the_duplicate_warning_names_the_person_their_birth_date_and_their_household(
    staff_clients, client
):
    """Issue #26: a namesake and the same person look alike by name alone; the date of
    birth and the people registered with them tell them apart."""
    register(client, "en", [APPLICANT, SPOUSE, CHILD], "14467")
    desk = staff_clients["volunteer"]
    desk.post("/desk/assist", data={"csrf_token": CSRF.search(  # type: ignore[union-attr]
        desk.get("/desk/").text).group(1)})

    review = register_until_review(desk).text

    warning = review.split("Possible duplicate", 1)[1].split("</div>", 1)[0]
    assert ("Kovalenko, Taras, born March 9, 1985 (people in that registration (3): "
            "Kovalenko, Taras; Kovalenko, Iryna; Kovalenko, Marko)") in warning


def register_until_review(client):  # type: ignore[no-untyped-def]
    from tests.helpers.forms import add_person
    from tests.helpers.forms import post as form_post

    form_post(client, "/en/", {"who": "self"})
    add_person(client, "en", 0, {**APPLICANT, "given_names": "Tarass"})  # a typo
    form_post(client, "/en/address", {"postal_code": "14467"})
    form_post(client, "/en/contact", {})
    return client.get("/en/review")


def test_a_volunteer_hands_a_registration_over_to_the_applicants_phone(
    staff_clients, app, runtime
):
    desk = staff_clients["volunteer"]
    token = CSRF.search(desk.get("/desk/").text).group(1)  # type: ignore[union-attr]
    desk.post("/desk/assist", data={"csrf_token": token})
    review = register_until_review(desk)
    token = CSRF.search(review.text).group(1)  # type: ignore[union-attr]

    assert "I confirm that the persons listed" in review.text  # the volunteer consents for them
    handover = desk.post("/desk/handover", data={"csrf_token": token, "language": "uk"})

    assert handover.status_code == 200 and "<svg" in handover.text
    # Issue #26: in the applicant's language, with the link as text for typing or sending.
    caption = handover.text.split("<figcaption>", 1)[1].split("</figcaption>", 1)[0]
    assert decode_svg_qr(handover.text) in caption and "/uk/continue/" in caption
    assert desk.get("/en/review").status_code == 303  # the volunteer's copy is gone
    with runtime.db.read() as session:
        assert session.scalar(select(models.HandOver)) is not None
    url = decode_svg_qr(handover.text)
    phone = app.test_client()
    picked = phone.get(url.removeprefix("http://localhost"))
    assert picked.status_code == 303 and picked.headers["Location"].endswith("/uk/review")
    review_on_phone = phone.get("/uk/review")
    assert "Kovalenko, Tarass" in review_on_phone.text
    assert "Я даю згоду" in review_on_phone.text  # the applicant consents for themselves
    assert phone.get(url.removeprefix("http://localhost")).status_code == 303  # once only
    second_phone = app.test_client()
    again = second_phone.get(url.removeprefix("http://localhost"), follow_redirects=True)
    assert "Цей код уже відкривали" in again.text  # not "deleted after 24 hours"
    assert "24 годин" not in again.text
    token = CSRF.search(review_on_phone.text).group(1)  # type: ignore[union-attr]
    assert phone.post("/uk/review", data={"csrf_token": token, "consent": "yes"}).status_code == 303


def test_staff_check_in_from_the_scanned_qr_code_hands_out_waiting_numbers(
    staff_clients, client, submit_token, runtime
):
    numbers = []
    # Issue #26: volunteers were offered "Open at the desk (check-in)" and found no button.
    for role in ("authority_a", "volunteer"):
        body = post(client, submit_token, ADULT).json
        slots = api(client, submit_token, "GET", f"/api/v1/registrations/{body['reference']}/slots")
        api(client, submit_token, "POST", f"/api/v1/registrations/{body['reference']}/appointment",
            {"slot": slots.json["slots"][0]["id"]})
        png = client.get(body["status_url"].removeprefix("http://localhost") + "/qr.png").data
        desk = staff_clients[role]

        page = desk.get(decode_png_qr(png).removeprefix("http://localhost"))
        assert "Open at the desk (check-in)" in page.text
        detail = desk.get(f"/desk/registrations/{body['reference']}")
        token = CSRF.search(detail.text).group(1)  # type: ignore[union-attr]
        checked = desk.post(f"/desk/registrations/{body['reference']}/check-in",
                            data={"csrf_token": token})
        assert checked.status_code == 303
        shown = desk.get(checked.headers["Location"]).text
        numbers.append(int(re.search(r"Waiting number: (\d+)", shown).group(1)))  # type: ignore[union-attr]
        assert f"Checked in. Your waiting number: {numbers[-1]}" in client.get(
            body["status_url"].removeprefix("http://localhost")).text
    assert numbers == [1, 2]
    day = staff_clients["authority_a"].get("/desk/day/073400?date=" + first_slot_day(runtime))
    assert "Expected: 2, arrived: 2" in day.text


def first_slot_day(runtime) -> str:  # type: ignore[no-untyped-def]
    from intake.registrations import booking

    with runtime.db.read() as session:
        slot = session.scalars(select(models.Slot).join(models.Appointment)).first()
        return booking.aware(slot.starts_at).astimezone(booking.LOCAL_TIME).date().isoformat()


def test_the_day_list_moves_between_days_and_says_the_day_in_words(staff_clients):
    """Issue #26: the day list showed one day, as 2026-12-07, and could not move."""
    desk = staff_clients["authority_a"]

    page = desk.get("/desk/day/073400?date=2026-12-07").text

    assert "Monday, December 7, 2026" in page and "STV Potsdam" in page
    assert 'href="/desk/day/073400?date=2026-12-06" rel="prev"' in page
    assert 'href="/desk/day/073400?date=2026-12-08" rel="next"' in page
    for odd in ("0001-01-01", "9999-12-31", "2026-02-30", "x"):
        assert desk.get(f"/desk/day/073400?date={odd}").status_code == 200
