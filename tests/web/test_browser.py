"""The public flow in headless Chromium at 360×640: with and without JavaScript, accessible, light.

Needs Debian's `chromium` (`.ci/run` installs it); without it these tests say so and skip.
"""

from __future__ import annotations

from typing import Any

import pytest

from intake.dataset.languages import LANGUAGES
from tests.helpers import documents as samples
from tests.helpers.browser import PAGE_BUDGET, VIEWPORT, Visit

pytestmark = pytest.mark.slow
FAMILY = [
    {"family_name": "Щербак", "given_names": "Олена", "sex": "female", "birth_day": "1",
     "birth_month": "5", "birth_year": "1990", "place_of_birth": "Kyiv",
     "country_of_birth": "UA", "nationality": "UA", "lived_in_ukraine": "yes",
     "marital_status": "married", "document_number": "FE123456", "issued_day": "30",
     "issued_month": "4", "issued_year": "2021", "expiry_day": "30", "expiry_month": "4",
     "expiry_year": "2031"},
    {"role": "spouse", "family_name": "Shcherbak", "given_names": "Petro", "sex": "male",
     "birth_day": "unknown", "birth_month": "7", "birth_year": "1988",
     "place_of_birth": "Lviv", "country_of_birth": "UA", "nationality": "UA",
     "lived_in_ukraine": "yes", "marital_status": "married"},
    {"role": "child", "family_name": "Shcherbak", "given_names": "Andrii", "sex": "male",
     "birth_day": "unknown", "birth_month": "unknown", "birth_year": "2015",
     "place_of_birth_unknown": "yes", "country_of_birth": "UA", "nationality": "UA",
     "lived_in_ukraine": "yes", "marital_status": "single"},
]


def _file(name: str, mime_type: str, content: bytes) -> dict[str, Any]:
    return {"name": name, "mimeType": mime_type, "buffer": content}


# The applicant's passport photographed on the phone (with the place it was taken), a proof
# of arrival as PDF, and a PDF that would run JavaScript (refused, named).
PASSPORT_PHOTO = _file("IMG_2041.JPG", "image/jpeg", samples.photo((1600, 1200)))
ARRIVAL_PDF = _file("ankunftsnachweis.pdf", "application/pdf",
                    samples.pdf_bytes(samples.pdf()))
SCRIPTED_PDF = _file("scan.pdf", "application/pdf", samples.scripted_pdf())


def register_family(browser: Any, base: str, lang: str, javascript: bool, check: bool) -> Visit:
    context = browser.new_context(viewport=VIEWPORT, java_script_enabled=javascript)
    page = context.new_page()
    context.new_cdp_session(page).send("Network.setCacheDisabled", {"cacheDisabled": True})
    visit = Visit(page, check, label=f"{lang}-family" if check else "")
    page.goto(f"{base}/{lang}/")
    visit.settled("start")
    page.locator("#who_family").check()
    visit.submit("person")
    for n, person in enumerate(FAMILY):
        if n:
            page.locator("button[value=add]").click()
            visit.settled("person")
        visit.person(person, then="household")
        if n == 0:  # Cyrillic typed: written in Latin letters, at once
            assert page.locator(".person-name").first.inner_text() == "Shcherbak, Olena"
    page.locator("button[value=continue]").click()
    visit.settled("address")
    visit.submit("address-errors")  # nothing entered: the error summary
    assert page.locator("#error-summary a[href='#postal_code']").count() == 1
    visit.fill({"postal_code": "14467"})
    visit.submit("contact")
    visit.submit("documents")
    visit.fill({"photo_page_0": PASSPORT_PHOTO, "proof_kind": "arrival",
                "proof_file": [ARRIVAL_PDF, SCRIPTED_PDF]})
    visit.submit("documents-refused")
    assert "scan.pdf" in page.locator("#proof_file-error").inner_text()
    assert page.locator(".attached li").count() == 2  # the passport photo, the proof kept
    visit.submit("review")
    assert page.locator("text=Ankunftsnachweis").count() >= 1
    page.locator("#consent").check()
    visit.submit("confirmation")
    assert page.locator(".reference").inner_text().count("-") == 1
    assert page.locator("figure.qr svg").count() == 1
    page.locator("a.button").click()  # book an appointment
    visit.settled("slots")
    page.locator("#times input[type=radio]").first.check()
    visit.submit("confirm-booking")  # a page asks before booking
    visit.submit("booked")
    assert page.locator(".when").count() == 1
    visit.measured = visit.weights()
    context.close()
    return visit


def registered_family(runtime, lang: str) -> None:  # type: ignore[no-untyped-def]
    from intake.store import models

    with runtime.db.read() as session:
        [registration] = session.query(models.Registration).all()
        assert len(registration.persons) == 3
        assert registration.language == lang


# With JavaScript, the walk in every language below registers the family too; without it,
# in Ukrainian, the walks that count taps (at the end).
@pytest.mark.parametrize("lang", ["ar"])
def test_a_family_of_three_registers_on_a_phone_without_javascript(browser, live_url, runtime,
                                                                    lang):
    register_family(browser, live_url, lang, javascript=False, check=False)
    registered_family(runtime, lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_public_page_is_accessible_and_light(browser, live_url, runtime, lang):
    visit = register_family(browser, live_url, lang, javascript=True, check=True)

    registered_family(runtime, lang)
    assert visit.violations == {}
    heavy = {name: size for name, size in visit.measured.items() if size > PAGE_BUDGET}
    assert not heavy, heavy
    print(lang, visit.measured)  # the figures for the record (pytest -s)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_volunteers_first_sign_in_on_a_phone(browser, live_url, runtime, lang):
    """One-time password, own password (a wrong one first), authenticator, recovery codes,
    the desk: in the volunteer's language, at 360×640, each page without axe findings."""
    import pyotp

    from intake.security import staff

    with runtime.db.transaction() as session:
        one_time = staff.create_user(session, "olena@example.org", "volunteer", ["073400"])
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    visit = Visit(page, check_accessibility=True, label=f"{lang}-staff")

    def go_on(name: str) -> None:  # the step's own form, not "Cancel and sign out"
        page.locator("main form:not(.inline) button[type=submit]").first.click()
        visit.settled(name)

    page.goto(f"{live_url}/language/{lang}?next=/desk/")
    visit.settled("sign-in")
    assert page.locator("html").get_attribute("lang") == lang
    visit.fill({"email": "olena@example.org", "password": one_time})
    go_on("password")
    visit.fill({"new_password": "password1234", "repeat_password": "password1234"})
    go_on("password-refused")
    assert page.locator("#new_password-error").count() == 1
    visit.fill({"new_password": "соняшник велосипед чорнило",
                "repeat_password": "соняшник велосипед чорнило"})
    go_on("enrol")
    assert page.locator(".qr svg").count() == 1
    key = page.locator("code.key").inner_text().replace(" ", "")
    visit.fill({"code": pyotp.TOTP(key).now()})
    go_on("recovery-codes")
    assert page.locator(".recovery-codes li").count() == 10
    page.locator("main a.button").click()
    visit.settled("desk")

    assert page.url.endswith("/desk/") and page.locator("#reference").count() == 1
    assert visit.violations == {}
    context.close()


def test_switching_language_keeps_what_was_typed(browser, live_url):
    """Issue #26: switching language mid-form lost what was typed."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(f"{live_url}/uk/")
    page.locator("#who_self").check()
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state("load")
    page.fill("#family_name", "Kovalenko")
    page.select_option("#sex", "male")

    page.locator('.languages [lang="de"]').click()
    page.wait_for_load_state("load")

    assert page.url.endswith("/de/person/0") and page.locator("html").get_attribute("lang") == "de"
    assert page.locator("#family_name").input_value() == "Kovalenko"
    assert page.locator("#sex").input_value() == "male"
    assert page.evaluate("sessionStorage.length") == 0  # used once, then gone
    context.close()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_error_and_confirmation_pages_are_accessible(browser, live_url, lang):
    """The pages issue #26 added: an error page, asking before removing a family member,
    before cancelling an appointment: axe finds nothing at 360x640."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    visit = Visit(page, check_accessibility=True, label=f"{lang}-more")
    page.goto(f"{live_url}/language/{lang}?next=/s/no-such-link")
    visit.settled("not-found")
    assert page.locator("h1").count() == 1 and page.locator(f'a[href="/{lang}/"]').count() >= 1
    page.goto(f"{live_url}/{lang}/")
    page.locator("#who_family").check()
    visit.submit("person")
    visit.person({key: value for key, value in FAMILY[1].items() if key != "role"},
                 then="household")
    page.locator("button[value=add]").click()
    visit.settled("person")
    visit.person(FAMILY[2], then="household")
    page.locator("ul.persons a[href$='/remove']").first.click()
    visit.settled("remove")
    assert page.locator("main form button[type=submit]").count() == 1

    assert visit.violations == {}
    context.close()


ADULT = {"family_name": "Коваленко", "given_names": "Тарас", "sex": "male", "birth_day": "9",
         "birth_month": "3", "birth_year": "1985", "marital_status": "married",
         "place_of_birth": "Lviv", "country_of_birth": "UA", "nationality": "UA",
         "lived_in_ukraine": "yes", "document_number": "FA987654"}
FAMILY_OF_FOUR = [
    ADULT,
    {**ADULT, "role": "spouse", "given_names": "Ірина", "sex": "female", "birth_day": "14",
     "birth_month": "7", "birth_year": "1987", "document_number": "FA987655"},
    {**ADULT, "role": "child", "given_names": "Марко", "birth_day": "2", "birth_month": "6",
     "birth_year": "2015", "marital_status": "single", "document_number": "FA987656"},
    {**ADULT, "role": "child", "given_names": "Софія", "sex": "female", "birth_day": "20",
     "birth_month": "1", "birth_year": "2019", "marital_status": "single",
     "document_number": "FA987657"},
]


def count_taps(browser: Any, base: str, persons: list[dict[str, str]]) -> Visit:
    """Register `persons` without JavaScript in Ukrainian, names typed in Cyrillic as people
    do, an e-mail address given; count taps and page loads."""
    context = browser.new_context(viewport=VIEWPORT, java_script_enabled=False)
    visit = Visit(context.new_page(), check_accessibility=False)
    visit.page.goto(f"{base}/uk/")
    visit.settled("start")
    visit.click("#who_family" if len(persons) > 1 else "#who_self")
    visit.submit("person")
    for n, person in enumerate(persons):
        following = n < len(persons) - 1  # the next member, from this one's last page
        visit.person(person, then="person" if following else
                     "household" if len(persons) > 1 else "address", add_next=following)
    if len(persons) > 1:
        visit.click("button[value=continue]", "address")
    visit.fill({"postal_code": "14467"})
    visit.submit("contact")
    visit.fill({"email": "taras@example.org"})
    visit.submit("documents")  # optional: none sent
    visit.submit("review")
    visit.click("#consent")
    visit.submit("confirmation")
    assert visit.page.locator(".reference").count() == 1
    context.close()
    return visit


def test_taps_and_page_loads_for_one_adult_and_a_family_of_four(browser, live_url, runtime):
    """The figures issue #26 asks for (before: 35 taps and 7 page loads for one adult, 100
    taps and 17 page loads for a family of four)."""
    adult = count_taps(browser, live_url, [ADULT])
    family = count_taps(browser, live_url, FAMILY_OF_FOUR)

    print(f"one adult: {adult.taps} taps, {len(adult.loads)} page loads; family of four: "
          f"{family.taps} taps, {len(family.loads)} page loads")
    assert adult.taps <= 35 and family.taps <= 100
    from intake.store import models

    with runtime.db.read() as session:
        households = sorted(len(r.persons) for r in session.query(models.Registration))
    assert households == [1, 4]


def test_the_accessibility_check_finds_what_it_is_for(browser, live_url):
    """The harness itself: a field without a label is found."""
    context = browser.new_context(viewport=VIEWPORT)
    visit = Visit(context.new_page(), check_accessibility=True)
    visit.page.goto(f"{live_url}/en/")
    visit.page.evaluate("""() => {
        document.querySelector('main').insertAdjacentHTML('beforeend',
            '<input id="nameless">');
    }""")
    visit.settled("broken")
    context.close()

    assert "label" in visit.violations["broken"]
