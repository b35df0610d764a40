"""Unbound extension singletons; `create_app` binds them to an app."""

from typing import Any

from flask import Flask, Response, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from itsdangerous import URLSafeTimedSerializer

from intake.security.access import policy

babel = Babel()


class PagesCompress(Compress):
    """Flask-Compress, for pages with errors too. It compresses 2xx answers only, but a form
    sent back with its errors (422) is a whole page, on the same weak connection: the origin
    page with its errors was 43 KB instead of 9 KB (tests/web/test_page_states.py)."""

    def after_request(self, response: Response | None) -> Response:
        if response is None or response.status_code < 400 or not response.response:
            return super().after_request(response)
        status = response.status_code
        response.status_code = 200  # what Flask-Compress asks before it compresses a body
        try:
            return super().after_request(response)
        finally:
            response.status_code = status


compress = PagesCompress()
csrf = CSRFProtect()
# Limits are per route (see the views); storage is the service's Redis, set in create_app.
limiter = Limiter(key_func=get_remote_address)
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@limiter.request_filter
def _unlimited() -> bool:
    """Limits guard what people write (sign-ins, form submissions): every limit names POST.

    A page view skips the limiter at once instead of having it look for limits that no GET
    has (docs/design.md). So does a call with an API token (access.bearer): partners'
    devices share a reception centre's address, so a limit per address would refuse one for
    another's traffic, and a token that misbehaves is revoked.
    """
    if request.method in READ_ONLY_METHODS:
        return True
    rule = policy(current_app, request.endpoint) if request.endpoint else None
    return rule is not None and rule[0] == "bearer"


class JSONBodies(DefaultJSONProvider):
    """Flask's JSON, where a document nested too deeply to parse is bad JSON (the ValueError
    Flask expects, so `get_json(silent=True)` gives None), not a RecursionError (a 500)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed session cookies, with the signing serializer built once per set of keys.

    Flask builds it anew twice a request, and tests it by serializing an empty dict, for an
    object that only changes with the secret key (docs/design.md).
    """

    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if keys not in self._serializers:
            self._serializers[keys] = super().get_signing_serializer(app)
        return self._serializers[keys]
