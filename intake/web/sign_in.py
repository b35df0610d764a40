"""bp "sign_in": staff sign-in in stages, password change, authenticator enrolment, sign-out.

A right password opens a session at its first stage (intake.security.staff); each page
here completes one stage and sends the session to the next, until the desk opens. Wrong
passwords and wrong codes count against the throttle (intake.security.throttle), which
makes each further attempt wait longer instead of locking the account.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from intake.documents import qr
from intake.security import audit, passwords, second_factor, staff, throttle
from intake.security.access import STAGE_PAGES, public, signing_in, staff_cookie
from intake.security.crypto import random_token
from intake.store import models
from intake.web import runtime
from intake.web.extensions import limiter
from intake.web.links import local_path

bp = Blueprint("sign_in", __name__, url_prefix="/desk")
SIGNING_IN = ("code", "password", "enrol")


DEVICE_AGE = dt.timedelta(days=90)


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _counters(email: str) -> dict[throttle.Rule, str]:
    return throttle.keys(runtime().cipher, email, request.remote_addr or "", _device_of(email))


# A browser that completed a sign-in keeps a signed device cookie (a random id, and a keyed
# hash of the account's e-mail): its later attempts at that account count against it alone
# (intake.security.throttle), as OWASP's "device cookies" describe.
def _device_cookie() -> str:
    return "__Host-device" if current_app.config["SESSION_COOKIE_SECURE"] else "device"


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="intake staff device")


def _account_mark(email: str) -> str:
    return runtime().cipher.blind_index("device:" + email.strip().lower(), 32)


def _device_of(email: str) -> str | None:
    """The device id of this browser's cookie, if it signed in to this account before."""
    cookie = request.cookies.get(_device_cookie())
    if not cookie:
        return None
    try:
        mark, device = _devices().loads(cookie, max_age=int(DEVICE_AGE.total_seconds()))
    except (BadSignature, ValueError, TypeError):
        return None
    return str(device) if mark == _account_mark(email) else None


def _remember_device(response: Response, email: str) -> Response:
    if _device_of(email) is None:
        response.set_cookie(
            _device_cookie(), _devices().dumps([_account_mark(email), random_token(16)]),
            max_age=int(DEVICE_AGE.total_seconds()), httponly=True, samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"], path="/",
        )
    return response


def _too_soon(template: str, seconds: int, **context: Any) -> tuple[str, int, dict[str, str]]:
    error = _("Too many wrong attempts. Please wait %(seconds)d seconds, then try again.",
              seconds=seconds)
    return (render_template(template, error=error, **context), 429,
            {"Retry-After": str(seconds)})


def _go_on(stage: str) -> Response:
    """To the page of the session's next stage, keeping where the sign-in was headed."""
    target = local_path(request.args.get("next"))
    if stage == "ready":
        return redirect(target or url_for("desk.home"), code=303)
    page = url_for(STAGE_PAGES[stage], next=target) if target else url_for(STAGE_PAGES[stage])
    return redirect(page, code=303)


# The per-address limit stops one address trying many accounts; each account's own counters
# (intake.security.throttle) slow guessing at it without locking its owner out.
@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit("50 per 15 minutes", deduct_when=_failed, methods=["POST"])
def login() -> Any:
    if request.method == "GET":
        return render_template("desk/login.html", error=None)
    email = request.form.get("email", "")
    counters = _counters(email)
    with runtime().db.transaction() as db_session:
        wait = throttle.seconds_to_wait(db_session, counters, _now())
        if wait:
            return _too_soon("desk/login.html", wait)
        user = staff.authenticate(db_session, email, request.form.get("password", ""))
        if user is None:  # the account's id when there is one; never the address as typed
            throttle.failed(db_session, counters, _now())
            account = staff.by_email(db_session, email)
            audit.record(db_session, None, "sign-in failed", "staff_user",
                         str(account.id) if account else "no such account")
        else:
            staff.end_session(db_session, request.cookies.get(staff_cookie(current_app)))
            token = staff.start_session(db_session, user)
            stage = staff.first_stage(user)
    if user is None:
        error = _("The e-mail address or the password is not right.")
        return render_template("desk/login.html", error=error), 401
    response = _go_on(stage)
    response.set_cookie(
        staff_cookie(current_app), token, httponly=True, samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"], path="/",
    )
    return response


def _complete(db_session: Session, user: models.StaffUser, passed: str) -> Response:
    """Record a stage as done; the sign-in is complete when no stage is left."""
    stage = staff.stage_after(user, passed)
    staff.set_stage(db_session, request.cookies.get(staff_cookie(current_app)), stage)
    if stage == "ready":
        throttle.succeeded(db_session, _counters(user.email))
        audit.record(db_session, user.id, "sign-in", "staff_user", str(user.id))
        return _remember_device(_go_on(stage), user.email)
    return _go_on(stage)


@bp.route("/code", methods=["GET", "POST"])
@signing_in("code")
@limiter.limit("50 per 15 minutes", deduct_when=_failed, methods=["POST"])
def code() -> Any:
    """The second factor: the app's current code, or one of the recovery codes."""
    if request.method == "GET":
        return render_template("desk/code.html", error=None)
    typed, now, cipher = request.form.get("code", ""), _now(), runtime().cipher
    with runtime().db.transaction() as db_session:
        user = db_session.get_one(models.StaffUser, g.staff.id)
        counters = _counters(user.email)
        wait = throttle.seconds_to_wait(db_session, counters, now)
        if wait:
            return _too_soon("desk/code.html", wait)
        if second_factor.check_code(cipher, user, typed, now):
            return _complete(db_session, user, "code")
        if second_factor.use_recovery_code(db_session, cipher, user, typed, now):
            audit.record(db_session, user.id, "recovery code used", "staff_user", str(user.id))
            return _complete(db_session, user, "code")
        throttle.failed(db_session, counters, now)
        audit.record(db_session, None, "sign-in failed", "staff_user", str(user.id))
    error = _("This code is not right. Type the 6 digits your app shows now, or a recovery code.")
    return render_template("desk/code.html", error=error), 401


@bp.route("/password", methods=["GET", "POST"])
@signing_in("password", "ready")
def password() -> Any:
    """Replace a one-time password (the first sign-in, or after a reset), or change one's own."""
    errors: dict[str, str] = {}
    changed = False
    if request.method == "POST":
        chosen = request.form.get("new_password", "")
        with runtime().db.transaction() as db_session:
            user = db_session.get_one(models.StaffUser, g.staff.id)
            errors = _password_errors(db_session, user, chosen)
            if not errors:
                staff.change_password(db_session, user, chosen,
                                      request.cookies.get(staff_cookie(current_app)))
                if g.staff.stage == "password":
                    return _complete(db_session, user, "password")
                changed = True
    return render_template("desk/password.html", errors=errors, changed=changed,
                           shortest=passwords.SHORTEST), (422 if errors else 200)


def _current_password_error(db_session: Session, user: models.StaffUser) -> str | None:
    """A signed-in member changing a credential proves it is them (a desk left open): the
    current password, counted by the throttle like a sign-in."""
    counters, now = _counters(user.email), _now()
    wait = throttle.seconds_to_wait(db_session, counters, now)
    if wait:
        return str(_("Too many wrong attempts. Please wait %(seconds)d seconds, then try "
                     "again.", seconds=wait))
    if staff.verify_password(user, request.form.get("current_password", "")):
        return None
    throttle.failed(db_session, counters, now)
    audit.record(db_session, None, "sign-in failed", "staff_user", str(user.id))
    return str(_("This is not your current password."))


def _password_errors(db_session: Session, user: models.StaffUser, chosen: str) -> dict[str, str]:
    errors = {}
    wrong = _current_password_error(db_session, user) if g.staff.stage == "ready" else None
    if wrong:
        errors["current_password"] = wrong
    problem = passwords.problem(chosen, user.email)
    if problem:
        errors["new_password"] = problem
    elif staff.verify_password(user, chosen):
        errors["new_password"] = _("Choose a password other than the one you have now.")
    elif request.form.get("repeat_password", "") != chosen:
        errors["repeat_password"] = _("The two passwords are not the same.")
    return errors


@bp.route("/enrol", methods=["GET", "POST"])
@signing_in("enrol", "ready")
def enrol() -> Any:
    """Set up an authenticator app by QR code (or its key typed in), then show recovery codes."""
    cipher, error = runtime().cipher, None
    with runtime().db.transaction() as db_session:
        user = db_session.get_one(models.StaffUser, g.staff.id)
        if request.method == "POST":
            # A new phone for a signed-in member replaces the old one: only with the password.
            error = _current_password_error(db_session, user) if g.staff.stage == "ready" else None
            if error is None and second_factor.confirm(
                cipher, user, request.form.get("code", ""), _now()
            ):
                codes = second_factor.new_recovery_codes(db_session, cipher, user)
                audit.record(db_session, user.id, "second factor enrolled", "staff_user",
                             str(user.id))
                going_on = (_go_on("ready") if g.staff.stage == "ready"
                            else _complete(db_session, user, "enrol"))
                page = make_response(render_template(
                    "desk/recovery_codes.html", codes=codes, next_url=going_on.location))
                return _remember_device(page, user.email)
            error = error or _("This code is not right. Type the 6 digits your app shows now.")
        secret = second_factor.pending_secret(cipher, user)
    issuer = urlsplit(runtime().settings.public_url or request.host_url).hostname or "intake"
    uri = second_factor.provisioning_uri(secret, f"staff {user.id}", f"intake {issuer}")
    return render_template(
        "desk/enrol.html", error=error, qr_svg=qr.secret_svg(uri),
        key=" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
    ), (422 if error else 200)


@bp.post("/logout")
@signing_in(*SIGNING_IN, "ready")
def logout() -> Response:
    with runtime().db.transaction() as db_session:
        staff.end_session(db_session, request.cookies.get(staff_cookie(current_app)))
    response = redirect(url_for("sign_in.login"), code=303)
    response.delete_cookie(staff_cookie(current_app), path="/")
    return response
