"""The partners' API as tests call it: one request, or many at once."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from werkzeug.serving import make_server


def post(client, token: str, body: dict, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/registrations", json=body, headers={"Authorization": f"Bearer {token}", **headers}
    )


def authority_token(runtime, key: str) -> str:  # type: ignore[no-untyped-def]
    """An API token of scope authority:KEY."""
    from intake.security import tokens

    with runtime.db.transaction() as session:
        return tokens.create(session, f"authority {key}", f"authority:{key}")


def api(client, token: str, method: str, path: str, body=None):  # type: ignore[no-untyped-def]
    return client.open(path, method=method, json=body, headers={"Authorization": f"Bearer {token}"})


def in_parallel(app, token: str, calls: list[tuple[str, str, dict | None]],  # type: ignore[no-untyped-def,type-arg]
                headers: dict[str, str] | None = None) -> list[int]:
    """Send (method, path, body) calls all at once over HTTP; their status codes."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    start = threading.Barrier(len(calls))

    def call(method: str, path: str, body: dict | None) -> int:  # type: ignore[type-arg]
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.server_port}{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                     **(headers or {})},
        )
        start.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as error:
            error.close()
            return int(error.code)

    try:
        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            return list(pool.map(lambda args: call(*args), calls))
    finally:
        server.shutdown()
        server.server_close()

