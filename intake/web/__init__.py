"""The web: blueprints for the public flow, status pages, desk, portal, API and health."""

from __future__ import annotations

from flask import Flask, current_app

from intake.runtime import Runtime, of


def runtime() -> Runtime:
    """This app's runtime: database, cipher and queue, built once by `create_app`."""
    return of(current_app)


def init_app(app: Flask) -> None:
    """Register every blueprint, and exempt from CSRF what bearer tokens guard instead."""
    from intake.web import (
        api,
        appointments,
        deliveries,
        desk,
        desk_hours,
        display,
        errors,
        health,
        lost_link,
        openapi,
        public,
        sign_in,
        steps,
        uploads,
    )
    from intake.web.extensions import csrf

    display.init_app(app)
    uploads.init_app(app)
    errors.init_app(app)
    for blueprint in (public.bp, steps.bp, lost_link.bp, appointments.bp, sign_in.bp, desk.bp,
                      desk_hours.bp, deliveries.bp, health.bp, api.bp, openapi.bp):
        app.register_blueprint(blueprint)
    csrf.exempt(api.bp)  # bearer tokens, not cookies: no cross-site request can carry one
    csrf.exempt(health.bp)
    for view in (deliveries.api_list, deliveries.api_download, deliveries.api_acknowledge):
        csrf.exempt(view)
