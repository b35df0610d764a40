"""Absolute links handed to people (printed, or inside a QR code)."""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import quote, urlsplit

from flask import request, url_for

from intake.web import runtime


def absolute(path: str) -> str:
    """A path of this site as a full URL, on INTAKE_PUBLIC_URL when one is configured."""
    base = runtime().settings.public_url or request.host_url
    return f"{base.rstrip('/')}{path}"


def status_url(token: str) -> str:
    """The status page of a registration: the only thing its QR code holds."""
    placeholder = "-"
    status_path = fixed_path("public.status", token=placeholder).removesuffix(placeholder)
    return absolute(status_path + quote(token, safe=""))


def fixed_path(endpoint: str, **values: str) -> str:
    """url_for of values that never change, built once per site root: the status links and
    every page's language menu are on the hot paths (docs/design.md)."""
    return _fixed_path(request.script_root, endpoint, tuple(sorted(values.items())))


@functools.lru_cache(maxsize=256)
def _fixed_path(_script_root: str, endpoint: str, values: tuple[tuple[str, str], ...]) -> str:
    values_of: dict[str, Any] = dict(values)
    return url_for(endpoint, **values_of)


def local_path(target: str | None) -> str | None:
    """`target` if it is a path of this site to send a browser to (a `next=`), else None.

    Browsers drop tabs and line breaks from addresses and read a backslash as a slash, so
    "/\t/evil.example" and "/\\evil.example" lead off the site just as "//evil.example"
    does: none of those characters is allowed, nor a scheme or host.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(char.isspace() or not char.isprintable() for char in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None
