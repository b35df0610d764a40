"""Absolute links handed to people (printed, or inside a QR code)."""

from __future__ import annotations

from flask import request, url_for

from intake.runtime import current


def absolute(path: str) -> str:
    """A path of this site as a full URL, on INTAKE_PUBLIC_URL when one is configured."""
    base = current().settings.public_url or request.host_url
    return f"{base.rstrip('/')}{path}"


def status_url(token: str) -> str:
    """The status page of a registration: the only thing its QR code holds."""
    return absolute(url_for("public.status", token=token))
