"""Bearer tokens on API routes: who calls, and for which scope."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import wraps
from typing import Any

from cachetools import TTLCache
from flask import g, jsonify, request
from flask_babel import gettext as _

from intake.security import tokens
from intake.security.access import bearer
from intake.security.crypto import token_hash
from intake.web import runtime


def require_scope(scope: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Deny unless the request carries a bearer token with this scope."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @bearer
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            kind, _space, token = header.partition(" ")
            found = cached_find(token, scope) if kind.lower() == "bearer" else None
            g.api_token_id, g.api_scope = found if found else (None, None)
            if found is None:
                response = jsonify(error=_("A valid API token is required."))
                response.status_code = 401
                response.headers["WWW-Authenticate"] = 'Bearer realm="intake"'
                return response
            return view(*args, **kwargs)

        guarded.access = ("bearer", scope)  # type: ignore[attr-defined]
        return guarded

    return decorator


# Tokens found recently, by value and scope: a partner's burst of submissions costs one
# database lookup per process and half minute. A revoked token stops working within that time.
_found: TTLCache[tuple[str, str], tuple[int, str]] = TTLCache(maxsize=1024, ttl=30)
_found_lock = threading.Lock()  # cachetools' caches are not thread-safe


def cached_find(token: str, scope: str) -> tuple[int, str] | None:
    """The (id, scope) of a valid token of this scope, remembered 30 s; None if there is none."""
    key = (token_hash(token), scope)
    with _found_lock:
        hit = _found.get(key)
    if hit is not None:
        return hit
    with runtime().db.read() as session:
        found = tokens.find(session, token, scope)
    if found is None:
        return None  # refusals are not cached: a new token works at once
    with _found_lock:
        _found[key] = (found.id, found.scope)
    return found.id, found.scope


def forget_tokens() -> None:
    """Forget the tokens this process remembers (tests; a revocation takes effect at once)."""
    with _found_lock:
        _found.clear()
