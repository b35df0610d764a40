"""Error answers: a page in the visitor's language with a way on; JSON under /api/.

Issue #26 saw Werkzeug's English pages for 404, 403, 405 and 500, with no way back.
"""

from __future__ import annotations

import pytest

from tests.helpers.staff import create_staff, sign_in


@pytest.mark.parametrize(("lang", "heading"), [
    ("uk", "Сторінку не знайдено"), ("ar", "الصفحة غير موجودة"), ("de", "Seite nicht gefunden"),
])
def test_a_missing_page_says_so_in_the_visitors_language(client, lang, heading):
    client.get(f"/language/{lang}")

    answer = client.get("/s/no-such-token")

    assert answer.status_code == 404 and answer.mimetype == "text/html"
    assert f"<h1>{heading}</h1>" in answer.text
    assert f'lang="{lang}"' in answer.text and 'class="languages"' in answer.text
    assert f'href="/{lang}/"' in answer.text  # a way on: the start page


def test_a_wrong_method_is_a_page_with_the_allowed_ones(client):
    answer = client.get("/s/some-token/appointment")  # a form's target, opened as a link

    assert answer.status_code == 405 and "POST" in answer.headers["Allow"]
    assert "cannot be opened this way" in answer.text and 'href="/en/"' in answer.text


def test_a_refused_page_offers_staff_the_way_back_to_the_desk(app, runtime):
    desk = app.test_client()
    sign_in(desk, create_staff(runtime, "vol@example.org", "volunteer", "073400"))

    answer = desk.get("/desk/audit")

    assert answer.status_code == 403 and "You cannot open this page" in answer.text
    assert 'href="/desk/"' in answer.text


def test_a_failure_on_our_side_is_a_calm_page_that_quotes_nothing(app):
    app.testing = False  # as in production: the error is answered, not raised

    def broken() -> str:
        raise RuntimeError("Shevchenko 1990-05-01")  # what an exception might carry

    broken.access = ("public",)  # type: ignore[attr-defined]
    app.add_url_rule("/broken", "broken", broken)

    answer = app.test_client().get("/broken", headers={"Accept-Language": "ru"})

    assert answer.status_code == 500 and "<h1>Извините, у нас произошла ошибка</h1>" in answer.text
    assert "Shevchenko" not in answer.text and "Traceback" not in answer.text


def test_the_api_still_answers_errors_as_json(client):
    answer = client.get("/api/v1/nowhere")
    assert answer.status_code == 404 and answer.json == {"error": "Not found."}


def test_a_batch_the_portal_does_not_know_is_a_page_and_the_apis_is_json(staff_clients, client,
                                                                         runtime):
    from tests.helpers.api import authority_token

    page = staff_clients["authority_a"].get("/desk/batches/nonexistent.zip")
    api = client.get("/api/v1/batches/nonexistent",
                     headers={"Authorization": f"Bearer {authority_token(runtime, '073400')}"})

    assert page.status_code == 404 and page.mimetype == "text/html"
    assert api.status_code == 404 and api.json == {"error": "Not found."}
