"""bp "public": the way in, the language menu, the status page and its QR code."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError

from intake.dataset.languages import LANGUAGES
from intake.documents import qr
from intake.registrations import register, summaries
from intake.security.access import public
from intake.web import runtime
from intake.web.language import COOKIE_AGE, select_locale
from intake.web.links import local_path, status_url

bp = Blueprint("public", __name__)


@bp.get("/")
@public
def home() -> Response:
    return redirect(url_for("steps.start", lang=select_locale()))  # type: ignore[return-value]


@bp.get("/language/<code>")
@public
def language(code: str) -> Response:
    """Switch language and return to the same page (in the new language, if it has one)."""
    if code not in LANGUAGES:
        abort(404)
    target = local_path(request.args.get("next")) or "/"  # never an open redirect
    first, _sep, rest = target.lstrip("/").partition("/")
    if first in LANGUAGES:
        target = f"/{code}/{rest}"
    response = redirect(target, code=303)
    response.set_cookie(
        "lang", code, max_age=COOKIE_AGE, samesite="Lax", httponly=True, secure=request.is_secure
    )
    return response  # type: ignore[return-value]


def status_of(token: str, *, erased: bool = False) -> register.Status:
    """The status behind a token, or 404: an unknown token reveals nothing, nor does one
    whose registration's data is erased (unless `erased`: the status page says so)."""
    with runtime().db.read() as session:
        found = register.status_by_token(session, token)
    if found is None or (found.erased and not erased):
        abort(404)
    return found


@bp.get("/s/<token>")
@public
def status(token: str) -> Any:
    found = status_of(token, erased=True)
    if found.erased:
        return render_template("status_erased.html")
    return render_template(
        "status.html",
        status=found,
        token=token,
        qr_svg=qr.svg(status_url(token)),
        link=status_url(token),
        notice=request.args.get("notice"),
    )


@bp.get("/s/<token>/qr.png")
@public
def qr_png(token: str) -> Response:
    with runtime().db.read() as session:
        known = register.token_known(session, token)
    if not known:
        abort(404)
    response = Response(qr.png(status_url(token)), mimetype="image/png")
    response.headers["Content-Disposition"] = 'attachment; filename="registration-qr.png"'
    return response


@bp.get("/s/<token>/summary.pdf")
@public
def summary(token: str) -> Response:
    """The application summary to print: in the applicant's language and German."""
    made = summaries.applicants_copy(runtime(), token, status_url(token))
    if made is None:
        abort(404)
    reference, pdf = made
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="summary-{reference}.pdf"'
    response.headers["Cache-Control"] = "no-store"  # personal data: no cache keeps a copy
    return response


@bp.app_errorhandler(CSRFError)
def resend(_error: CSRFError) -> Any:
    """A stale or missing form token: offer to send the same input again, nothing is lost."""
    fields = [
        (key, value)
        for key, value in request.form.items(multi=True)
        if key != "csrf_token" and "password" not in key  # a password is never echoed
    ]
    action = request.full_path.removesuffix("?")  # a change from the review keeps its way back
    return render_template("resend.html", fields=fields, action=action), 400
