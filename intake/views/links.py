"""Absolute links handed to people (printed, or inside a QR code)."""

from __future__ import annotations

from flask import request, url_for

from intake.runtime import current


def status_url(token: str) -> str:
    """The status page of a registration: the only thing its QR code holds."""
    base = current().settings.public_url
    path = url_for("public.status", token=token)
    return f"{base.rstrip('/')}{path}" if base else f"{request.host_url.rstrip('/')}{path}"
