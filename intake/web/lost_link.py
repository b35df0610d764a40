"""bp "lost_link": a person who lost their status link asks for a new one by e-mail."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from intake.registrations import lost_link
from intake.security.access import public
from intake.web import runtime
from intake.web.extensions import limiter
from intake.web.language import bind_language_to

bp = Blueprint("lost_link", __name__, url_prefix="/<lang>")
bind_language_to(bp)

# Each request may send a mail: tighter than the form's limits, still generous for a
# reception centre's shared address.
limiter.limit("600 per hour", methods=["POST"])(bp)


@bp.route("/lost-link", methods=["GET", "POST"])
@public
def ask() -> Any:
    """The same answer whether or not a registration has the address: the page must not
    tell anyone who is registered."""
    errors: dict[str, str] = {}
    if request.method == "POST":
        address = request.form.get("email", "").strip()
        if address:
            lost_link.send_link(runtime(), address)
            return render_template("lost_link.html", sent=True, values={}, errors={})
        errors["email"] = _("Enter the e-mail address you gave when you registered.")
    return render_template("lost_link.html", sent=False, values={}, errors=errors), (
        422 if errors else 200
    )
