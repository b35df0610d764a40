"""Bearer tokens on API routes: who calls, and for which scope."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, jsonify, request
from flask_babel import gettext as _

from intake import tokens
from intake.access import bearer
from intake.runtime import current


def require_scope(scope: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Deny unless the request carries a bearer token with this scope."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @bearer
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            kind, _space, token = header.partition(" ")
            with current().db.read() as session:
                found = tokens.find(session, token, scope) if kind.lower() == "bearer" else None
            g.api_token_id = found.id if found else None
            g.api_scope = found.scope if found else None
            if found is None:
                response = jsonify(error=_("A valid API token is required."))
                response.status_code = 401
                response.headers["WWW-Authenticate"] = 'Bearer realm="intake"'
                return response
            return view(*args, **kwargs)

        return guarded

    return decorator
