"""Absolute links handed to people (printed, or inside a QR code)."""

from __future__ import annotations

import functools
from urllib.parse import quote

from flask import request, url_for

from intake.runtime import current


def absolute(path: str) -> str:
    """A path of this site as a full URL, on INTAKE_PUBLIC_URL when one is configured."""
    base = current().settings.public_url or request.host_url
    return f"{base.rstrip('/')}{path}"


def status_url(token: str) -> str:
    """The status page of a registration: the only thing its QR code holds."""
    return absolute(_status_path(request.script_root) + quote(token, safe=""))


@functools.lru_cache(maxsize=64)
def _status_path(_script_root: str) -> str:
    """The status page's path without its token, by url_for once per site root: a url_for
    per call was 3 % of an API registration."""
    placeholder = "-"
    return url_for("public.status", token=placeholder).removesuffix(placeholder)
