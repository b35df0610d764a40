"""Deny by default: every route has a policy, every role gets what it should, headers always."""

from __future__ import annotations

import re

import pytest

from intake.security import access
from tests.helpers.api import post
from tests.helpers.data import ADULT
from tests.helpers.staff import find_person


def test_every_route_declares_a_policy(app):
    missing = [
        rule.rule for rule in app.url_map.iter_rules()
        if access.policy(app, rule.endpoint) is None
    ]
    assert not missing, f"routes without an access policy: {missing}"


def test_a_route_without_a_policy_is_refused(app):
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    assert app.test_client().get("/forgotten").status_code == 403


@pytest.fixture
def registered(client, submit_token, runtime):  # type: ignore[no-untyped-def]
    """A registration at authority A (Potsdam, 073400), with an appointment."""
    from tests.helpers.api import api

    body = post(client, submit_token, ADULT).json
    slots = api(client, submit_token, "GET", f"/api/v1/registrations/{body['reference']}/slots")
    api(client, submit_token, "POST", f"/api/v1/registrations/{body['reference']}/appointment",
        {"slot": slots.json["slots"][0]["id"]})
    return body


def expected(role: str, allowed: set[str]) -> set[int]:
    if role in allowed:
        return {200, 303}
    return {302} if role == "anonymous" else {403, 404}


ROLES = ["anonymous", "volunteer", "authority_a", "authority_b", "admin"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/desk/", {"volunteer", "authority_a", "authority_b", "admin"}),
        # Admins run the service and see no personal data (issue #25).
        ("GET", "/desk/search?reference={ref}", {"volunteer", "authority_a", "authority_b"}),
        ("GET", "/desk/registrations/{ref}", {"volunteer", "authority_a"}),
        ("GET", "/desk/day/073400", {"volunteer", "authority_a"}),
        ("GET", "/desk/day/073000", {"volunteer", "authority_b"}),
        ("GET", "/desk/day/075600", set()),  # nobody here works for Elbe-Elster
        ("GET", "/desk/audit", {"admin"}),
        ("GET", "/desk/undelivered", {"admin"}),
    ],
)
def test_role_matrix_for_pages(staff_clients, registered, method, path, allowed):
    url = path.format(ref=registered["reference"])
    for role in ROLES:
        response = staff_clients[role].open(url, method=method)
        assert response.status_code in expected(role, allowed), (role, url, response.status_code)
        if role == "authority_b" and "registrations" in url:  # nothing of it, not even
            assert "Shevchenko" not in response.text  # whether it exists (a 404 like any)
            assert response.status_code == 404


def test_a_volunteer_sees_what_check_in_needs_and_no_document_number(staff_clients,
                                                                      registered):
    """An audit found volunteers reading document numbers, which check-in and help never need."""
    path = f"/desk/registrations/{registered['reference']}"

    volunteer = staff_clients["volunteer"].get(path)
    authority = staff_clients["authority_a"].get(path)

    assert volunteer.status_code == authority.status_code == 200
    assert "Shevchenko" in volunteer.text  # the person, to check them in
    assert "FE123456" not in volunteer.text
    assert "FE123456" in authority.text  # the authority's own staff need it


def test_volunteers_see_only_the_authorities_their_centre_serves(staff_clients, client,
                                                                  submit_token):
    """An audit found volunteers reading every authority's registrations."""
    elsewhere = post(client, submit_token, {**ADULT, "postal_code": "04916"}).json["reference"]
    volunteer = staff_clients["volunteer"]

    assert volunteer.get(f"/desk/registrations/{elsewhere}").status_code == 404
    assert elsewhere not in volunteer.get(f"/desk/search?reference={elsewhere}").text
    assert elsewhere not in find_person(volunteer, "Shevchenko Olena", "1990-05-01").text
    assert elsewhere not in find_person(volunteer, "Shevchenko", "1990-05-01").text


def test_search_never_shows_another_authoritys_registration(staff_clients, registered):
    found = staff_clients["authority_b"].get(f"/desk/search?reference={registered['reference']}")
    assert registered["reference"] not in found.text
    assert registered["reference"] in staff_clients["authority_a"].get(
        f"/desk/search?reference={registered['reference']}").text


def test_only_the_right_authority_checks_in(staff_clients, registered):
    from tests.helpers.forms import CSRF

    def check_in(role: str) -> int:
        client = staff_clients[role]
        page = client.get("/desk/")
        token = CSRF.search(page.text).group(1) if role != "anonymous" else "x"  # type: ignore[union-attr]
        return int(client.post(f"/desk/registrations/{registered['reference']}/check-in",
                               data={"csrf_token": token}).status_code)

    assert check_in("anonymous") in (400, 401)
    assert check_in("admin") == 403
    assert check_in("authority_b") == 404
    assert check_in("authority_a") == 303


def test_security_headers_on_every_route(app, staff_clients, registered):
    status_path = registered["status_url"].removeprefix("http://localhost")
    paths = {"/", "/en/", "/en/person/0", "/desk/login", "/desk/", "/static/style.css",
             status_path, f"{status_path}/slots", "/nowhere", "/api/v1/registrations"}
    for rule in app.url_map.iter_rules():
        if "<" not in rule.rule:
            paths.add(rule.rule)
    for path in sorted(paths):
        response = staff_clients["admin"].get(path)
        response.close()  # static files are streamed from an open file
        headers = response.headers
        assert "default-src 'none'" in headers["Content-Security-Policy"], path
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "no-referrer", path
        # No page needs the camera, microphone, location or payments: a script that got in
        # could not ask for them either.
        for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
            assert feature in headers["Permissions-Policy"], (path, feature)
        # The API's OpenAPI document holds code only, the same for everyone: cacheable.
        if not path.startswith("/static") and path != "/api/v1/openapi.json":
            assert headers["Cache-Control"] == "no-store", path


def test_production_cookies_are_host_prefixed_secure_and_hsts_is_sent(settings, runtime):
    from dataclasses import replace

    from intake import create_app

    app = create_app(replace(settings, env="production", database_url=runtime.settings.database_url))
    client = app.test_client()
    page = client.get("/en/", base_url="https://intake.example")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    cookies = " ".join(page.headers.getlist("Set-Cookie"))
    assert re.search(r"__Host-session=[^;]+;.*Secure", cookies)
    assert "HttpOnly" in cookies and "SameSite=Lax" in cookies
    app.extensions["intake"].close()


def test_rate_limits_apply_to_form_posts_and_not_to_api_tokens_or_page_views(app):
    # Partners' devices share a reception centre's address: a limit per address would
    # refuse one partner for another's traffic. The form's submissions stay limited.
    from intake.web.extensions import _unlimited

    cases = [("POST", "/de/", False), ("POST", "/api/v1/registrations", True),
             ("GET", "/de/", True), ("POST", "/no/such/page", False)]
    for method, path, unlimited in cases:
        with app.test_request_context(path, method=method):
            assert _unlimited() is unlimited, (method, path)


def test_session_cookies_follow_a_new_secret_key_and_its_fallbacks(app):
    """The session's signing serializer is built once per set of keys: a rotated key is
    used at once, and cookies signed with the old one open only while it is a fallback."""
    from flask import request

    interface = app.session_interface
    with app.test_request_context():
        signed = interface.get_signing_serializer(app).dumps({"draft": "d1"})
    cookie = {"Cookie": f"{app.config['SESSION_COOKIE_NAME']}={signed}"}
    with app.test_request_context(headers=cookie):
        assert interface.open_session(app, request)["draft"] == "d1"

    old_key, app.secret_key = app.secret_key, "a rotated key"
    with app.test_request_context(headers=cookie):
        assert "draft" not in interface.open_session(app, request)
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    with app.test_request_context(headers=cookie):
        assert interface.open_session(app, request)["draft"] == "d1"
