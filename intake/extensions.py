"""Unbound extension singletons; `create_app` binds them to an app."""

from flask import request
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

babel = Babel()
compress = Compress()
csrf = CSRFProtect()
# Limits are per route (see the views); storage is the service's Redis, set in create_app.
limiter = Limiter(key_func=get_remote_address)
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@limiter.request_filter
def _reading() -> bool:
    """Limits guard what writes (sign-ins, submissions): every limit names POST. A page view
    skips the limiter at once instead of having it look for limits (a tenth of a small GET)."""
    return request.method in READ_ONLY_METHODS
