"""Who may reach what (deny by default), staff sign-in state, and the headers every response gets.

Every view declares its policy with one of the decorators below. A request to a view without
one is refused, and tests/security/test_access.py fails for any route that has none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, abort, g, redirect, request, url_for

from intake.runtime import of
from intake.security import staff

View = TypeVar("View", bound=Callable[..., Any])

# No inline script or style anywhere: the policy needs no 'unsafe-inline'.
# Powerful browser features no page uses: denied to the pages and anything they might embed.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in ("camera", "microphone", "geolocation", "payment", "usb", "serial",
                    "bluetooth", "hid", "display-capture", "browsing-topics")
)
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self' data:",
        "script-src 'self'",
        "connect-src 'self'",  # enhance.js sends files with a progress bar (XMLHttpRequest)
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
HSTS = "max-age=31536000; includeSubDomains"


def public(view: View) -> View:
    """Anyone may call it (the registration flow, the status page behind its token)."""
    view.access = ("public",)  # type: ignore[attr-defined]
    return view


def bearer(view: View) -> View:
    """API: the view checks a bearer token and its scope itself."""
    view.access = ("bearer",)  # type: ignore[attr-defined]
    return view


def roles(*names: str) -> Callable[[View], View]:
    """Only signed-in staff with one of these roles."""
    return _staff_policy("roles", names, staff.ROLES)


def signing_in(*stages: str) -> Callable[[View], View]:
    """Staff of any role whose session is at one of these stages of its sign-in
    (intake.security.staff): the pages that lead to the desk, and signing out."""
    return _staff_policy("stage", stages, staff.STAGES)


def _staff_policy(
    kind: str, allowed: tuple[str, ...], known: tuple[str, ...]
) -> Callable[[View], View]:
    unknown = set(allowed) - set(known)
    if unknown:
        raise ValueError(f"unknown {kind} {unknown}")

    def decorate(view: View) -> View:
        view.access = (kind, frozenset(allowed))  # type: ignore[attr-defined]
        return view

    return decorate


# The page of each stage of a sign-in; a session at a stage is sent to its page from any other.
STAGE_PAGES = {staff.CODE: "sign_in.code", staff.PASSWORD: "sign_in.password",
               staff.ENROL: "sign_in.enrol", staff.READY: "desk.home"}


def policy(app: Flask, endpoint: str) -> tuple[Any, ...] | None:
    if endpoint == "static":
        return ("public",)
    view = app.view_functions.get(endpoint)
    return getattr(view, "access", None)


def staff_cookie(app: Flask) -> str:
    # __Host- cookies must be Secure, which plain-http development cannot send.
    return "__Host-staff" if app.config["SESSION_COOKIE_SECURE"] else "staff"


def _holds_nul() -> bool:
    """Whether the path, the query or a form field holds a NUL character."""
    fields = [request.args]
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in _FORMS:
        fields.append(request.form)
    values = [request.path]
    for each in fields:
        for key, repeated in each.lists():  # every value, where a key comes more than once
            values += [key, *repeated]
    return any("\x00" in value for value in values)


_FORMS = frozenset(("application/x-www-form-urlencoded", "multipart/form-data"))


def _enforce_staff(rule: tuple[Any, ...]) -> Any:
    """Staff views: the sign-in page for who is not signed in, the page of its stage for a
    session still signing in (401 for writes, either way), 403 for a role the view does not
    allow."""
    kind, allowed = rule
    stage = g.staff.stage if g.staff else None
    if stage is None or stage not in (allowed if kind == "stage" else ("ready",)):
        if request.method != "GET":
            abort(401)
        if stage is None:
            return redirect(url_for("sign_in.login", next=request.full_path.rstrip("?")))
        return redirect(url_for(STAGE_PAGES[stage]))
    if kind == "roles" and g.staff.role not in allowed:
        abort(403)
    return None


def init_app(app: Flask) -> None:
    cookie = staff_cookie(app)
    production = app.config["SESSION_COOKIE_SECURE"]

    @app.before_request
    def enforce() -> Any:
        g.staff = None
        if _holds_nul():
            abort(400)  # no text of ours holds one, and PostgreSQL refuses it in a query
        if request.endpoint is None:
            return None  # 404 or 405 follows
        rule = policy(app, request.endpoint)
        if request.cookies.get(cookie) and request.endpoint != "static":
            with of(app).db.transaction() as session:
                g.staff = staff.resume(session, request.cookies.get(cookie))
        if rule is None:
            abort(403)  # deny by default: a view without a policy is reachable by no one
        return _enforce_staff(rule) if rule[0] in ("roles", "stage") else None

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if production:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if request.endpoint != "static":
            # Pages may show personal data or carry a token: keep them out of every cache.
            response.headers.setdefault("Cache-Control", "no-store")
        return response
