"""Unbound extension singletons; `create_app` binds them to an app."""

from flask import current_app, request
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

from intake.access import policy

babel = Babel()
compress = Compress()
csrf = CSRFProtect()
# Limits are per route (see the views); storage is the service's Redis, set in create_app.
limiter = Limiter(key_func=get_remote_address)
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@limiter.request_filter
def _unlimited() -> bool:
    """Limits guard what people write (sign-ins, form submissions): every limit names POST.

    A page view skips the limiter at once instead of having it look for limits (a tenth of a
    small GET). So does a call with an API token (access.bearer): partners' devices share a
    reception centre's address, so a limit per address would refuse one for another's
    traffic, and a token that misbehaves is revoked. Looking for limits that such a view
    does not have cost 4 % of an API registration.
    """
    if request.method in READ_ONLY_METHODS:
        return True
    return request.endpoint is not None and policy(current_app, request.endpoint) == ("bearer",)
