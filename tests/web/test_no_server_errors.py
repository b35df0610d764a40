"""No input makes the service answer 500; every error under /api/ is JSON (issue #22, item 4).

The five causes fuzzing found first, each as a test; then a bounded fuzz over every public and
API route: any path values, query, form fields and JSON bodies, any method the route has.
"""

from __future__ import annotations

import json
import os
import string
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import forms
from tests.helpers.api import post as api_post
from tests.helpers.data import ADULT

FUZZ_EXAMPLES = int(os.environ.get("INTAKE_TEST_FUZZ_EXAMPLES", "300"))


def test_unicode_digits_in_the_forms_date_fields(client):
    assert forms.post(client, "/en/", {"who": "self"}).status_code == 303
    person = {**forms.APPLICANT, "birth_day": "²", "birth_month": "²", "birth_year": "²⁰²⁰"}

    response = forms.post(client, "/en/person/0", person)

    assert response.status_code == 422 and "date" in response.text.lower()  # a form error


def test_persian_digits_in_the_forms_date_fields_are_digits(client):
    assert forms.post(client, "/en/", {"who": "self"}).status_code == 303
    person = {**forms.APPLICANT, "birth_day": "۹", "birth_month": "۳", "birth_year": "۱۹۸۵"}

    assert forms.add_person(client, "en", 0, person).status_code == 303


def test_a_birth_year_0000_in_the_api(client, submit_token):
    body = {**ADULT, "persons": [{**ADULT["persons"][0], "date_of_birth": "0000"}]}
    assert api_post(client, submit_token, body).status_code == 422


@pytest.mark.parametrize("slot", ["²", "9" * 4301, str(2**63), "-1", "1e3", 17])
def test_slot_ids_that_cannot_be_one(client, submit_token, slot):
    reference = api_post(client, submit_token, ADULT).json["reference"]

    response = client.post(
        f"/api/v1/registrations/{reference}/appointment",
        json={"slot": slot}, headers={"Authorization": f"Bearer {submit_token}"},
    )

    assert response.status_code == 422 and response.is_json


def test_deeply_nested_json(client, submit_token):
    body = "[" * 100_000 + "]" * 100_000

    response = client.post(
        "/api/v1/registrations", data=body,
        headers={"Authorization": f"Bearer {submit_token}", "Content-Type": "application/json"},
    )

    assert response.status_code == 400 and response.is_json


@pytest.mark.parametrize("target", ["/en/\r\nSet-Cookie: x=1", "/%0d%0a", "/\t/evil.example",
                                    "/\\evil.example", "//evil.example", "https://evil.example"])
def test_line_breaks_and_other_sites_in_next(client, target):
    response = client.get("/language/de", query_string={"next": target})

    location = response.headers["Location"]
    assert response.status_code == 303
    assert location.startswith("/") and not location.startswith("//")  # this site only
    assert "evil" not in location and "\n" not in location


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v2/registrations", 404),
        ("GET", "/api/v1/nope", 404),
        ("DELETE", "/api/v1/registrations", 405),
        ("GET", "/api/v1/batches/x/y", 404),
    ],
)
def test_api_errors_outside_a_route_are_json(client, submit_token, method, path, status):
    response = client.open(path, method=method, headers={"Authorization": f"Bearer {submit_token}"})

    assert response.status_code == status
    assert response.is_json and response.json["error"]
    if status == 405:
        assert "POST" in response.headers["Allow"]  # what is allowed, as HTTP says


@pytest.mark.parametrize("reference", ["0%2F", "%00", "ABCDE-12345%00", "x" * 300])
def test_references_that_cannot_be_one(client, submit_token, reference):
    """Found on PostgreSQL: a NUL in a query is a DataError there (500), and "0/" made "//",
    which Werkzeug answered with an HTML redirect."""
    response = client.get(f"/api/v1/registrations/{reference}/slots",
                          headers={"Authorization": f"Bearer {submit_token}"})

    assert response.status_code in (400, 404) and response.is_json


def test_a_nul_anywhere_in_a_form_or_query_is_a_bad_request(client):
    login = client.post("/desk/login", data={"email": "a\x00@example.org", "password": "x"})
    page = client.get("/en/", query_string={"q": "\x00"})
    repeated = client.get("/en/?a=x&a=%00")

    assert login.status_code == page.status_code == repeated.status_code == 400


def test_api_answers_413_and_415_as_json(client, submit_token):
    auth = {"Authorization": f"Bearer {submit_token}"}
    large = client.post("/api/v1/registrations", data=b"x" * 300_000,
                        headers={**auth, "Content-Type": "application/json"})
    form = client.post("/api/v1/registrations", data={"language": "uk"}, headers=auth)

    assert large.status_code == 413 and large.is_json
    assert form.status_code == 415 and form.is_json
    assert "Content-Type: application/json" in form.json["error"]


# The fuzz: routes of the app, filled with anything, and often with what broke them before.
TRICKY = ["²", "0000", "0000-01-01", "9" * 30, str(2**63), "/\r\n/x", "/\t/evil.example", "", " ",
          "\x00", "١٢", "true", "-1", "1e309", "NaN", "../../etc/passwd", "%00", "<script>"]
text = st.one_of(st.text(st.characters(exclude_categories=[]), max_size=20),
                 st.sampled_from(TRICKY))
segment = st.one_of(text, st.text(string.digits, min_size=1, max_size=25), st.just("073400"))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text | st.sampled_from(
        ["slot", "priority", "persons", "date_of_birth", "language", "next"]), inner, max_size=3),
    max_leaves=10,
)
# A household with one field replaced, and documents nested past any parser's depth.
households = st.builds(
    lambda key, value: {**ADULT, "persons": [{**ADULT["persons"][0], key: value}]},
    st.sampled_from(sorted(ADULT["persons"][0])), json_values,
)
deep = st.integers(100, 200_000).map(lambda depth: "[" * depth + "]" * depth)


def encoded(fields: dict[str, str]) -> str:
    """Form or query fields as a browser would send them, lone surrogates as the bytes an
    attacker could send (not UTF-8)."""
    def part(value: str) -> str:
        return quote(value.encode("utf-8", "surrogatepass"), safe="")

    return "&".join(f"{part(key)}={part(value)}" for key, value in fields.items())


def _rules(app: Any) -> list[tuple[str, list[str], list[str]]]:
    """(rule, its variables, its methods) of every public and API route."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/desk"):
            continue
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        found.append((rule.rule, sorted(rule.arguments), methods))
    return found


@settings(
    max_examples=FUZZ_EXAMPLES,
    derandomize="INTAKE_TEST_FUZZ_EXAMPLES" not in os.environ,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_route_answers_500_to_anything(app, submit_token, data):
    app.config["WTF_CSRF_ENABLED"] = False  # past the form token, into the views
    client = app.test_client()
    rule, variables, methods = data.draw(st.sampled_from(_rules(app)), label="route")
    path = rule
    for name in variables:
        value = quote(data.draw(segment, label=name).encode("utf-8", "surrogatepass"), safe="") or "x"
        path = path.replace(f"<{name}>", value).replace(f"<path:{name}>", value)
        for converter in ("int", "string"):
            path = path.replace(f"<{converter}:{name}>", value)
    method = data.draw(st.sampled_from(methods), label="method")
    query = data.draw(st.dictionaries(text, text, max_size=3), label="query")
    headers = {"Authorization": f"Bearer {submit_token}"} if path.startswith("/api/") else {}
    body = data.draw(st.one_of(
        st.none(),
        st.dictionaries(text, text, max_size=6).map(lambda form: {
            "data": encoded(form), "content_type": "application/x-www-form-urlencoded"}),
        (json_values | households).map(lambda document: {
            "data": json.dumps(document), "content_type": "application/json"}),
        deep.map(lambda document: {"data": document, "content_type": "application/json"}),
        st.binary(max_size=64).map(lambda raw: {"data": raw, "content_type": "text/plain"}),
    ), label="body")

    response = client.open(f"{path}?{encoded(query)}", method=method, headers=headers,
                           **(body or {}))

    assert response.status_code < 500, (method, path, response.status_code)
    if path.startswith("/api/"):
        assert response.is_json, (method, path, response.status_code)
