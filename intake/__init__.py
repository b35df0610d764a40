"""intake: emergency registration for people seeking protection."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from werkzeug.middleware.proxy_fix import ProxyFix

from intake import observability, web
from intake.config import Settings
from intake.runtime import Runtime
from intake.security import access
from intake.web.extensions import JSONBodies, SessionCookies, babel, compress, csrf, limiter
from intake.web.language import select_locale

PACKAGE = Path(__file__).resolve().parent


def data_folder(name: str) -> Path:
    """static/ or translations/: inside the installed package (a wheel), else beside it at the
    top of the repository (a checkout, where they live in the fixed layout)."""
    installed = PACKAGE / name
    return installed if installed.is_dir() else PACKAGE.parent / name



def create_app(settings: Settings | None = None) -> Flask:
    """Build the web application; nothing connects until a request needs it."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, static_folder=str(data_folder("static")))
    production = settings.env == "production"
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="__Host-session" if production else "session",
        BABEL_TRANSLATION_DIRECTORIES=str(data_folder("translations")),
        BABEL_DEFAULT_TIMEZONE="Europe/Berlin",  # appointments are at German authorities
        MAX_CONTENT_LENGTH=256 * 1024,
        # A household form can take a long time on a phone; the token still expires.
        WTF_CSRF_TIME_LIMIT=8 * 3600,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=production,
        # Rate limits live in the service's Redis. Should it be unreachable, limits fall back
        # to this process's memory: a registration is never refused because Redis is down.
        RATELIMIT_STORAGE_URI=limit_storage(settings),
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        # Static files change only with a release; browsers may keep them for a day.
        SEND_FILE_MAX_AGE_DEFAULT=24 * 3600,
        # Pages only: Flask-Compress leaves static files' handles open (ResourceWarning),
        # and those few kilobytes are cached after the first page anyway.
        COMPRESS_MIMETYPES=["text/html", "application/json"],
    )
    if settings.proxies:
        # Only behind a known number of proxies is X-Forwarded-For the client's address.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxies, x_proto=settings.proxies
        )
    app.extensions["intake"] = Runtime(settings)
    app.json = JSONBodies(app)
    # "//" in a path is a 404, not a redirect: Werkzeug's redirect has an HTML body, under
    # /api/ too, and no handler of ours sees it.
    app.url_map.merge_slashes = False
    app.session_interface = SessionCookies()
    babel.init_app(app, locale_selector=select_locale)
    compress.init_app(app)  # pages on a weak mobile connection: a fifth of the bytes
    limiter.init_app(app)
    csrf.init_app(app)
    observability.init_app(app)  # first: every later step, a refusal too, has a request id
    access.init_app(app)

    web.init_app(app)
    app.cli = IntakeCommands(app.name)
    return app


class IntakeCommands(AppGroup):
    """The app's commands for `flask --app intake COMMAND`: those of `intake`, imported when
    the flask command asks for them. Not before: web processes never do, and would spend
    0.2 s importing every command's modules."""

    @staticmethod
    def _intake() -> click.Group:
        from intake.cli import main

        return main

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return self._intake().get_command(ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._intake().list_commands(ctx)


def limit_storage(settings: Settings) -> str:
    """The rate limits' storage URI: the configured Redis, else the embedded one."""
    url = settings.redis_url or f"unix://{settings.redis_socket}"
    return "redis+" + url if url.startswith("unix://") else url
