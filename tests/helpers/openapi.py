"""The API's OpenAPI document as schemathesis reads it, and its checks, for tests."""

from __future__ import annotations

from typing import Any

import schemathesis

from intake.runtime import Runtime
from tests.helpers.api import authority_token

PATH = "/api/v1/openapi.json"
# What every answer must satisfy: no server error, and status, Content-Type, headers and
# body as the document describes them. Not schemathesis' other checks (that any body the
# document allows is accepted, for one): the dataset's rules are more than JSON Schema says.
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance")
CONFIG = schemathesis.Config.from_dict({
    "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
    # The bearer token is the test's (`headers`): generated ones would only meet 401s.
    "generation": {"with-security-parameters": False},
})
# Flask-Compress compresses what a client accepts compressed; schemathesis' in-process client
# would read the compressed bytes as the body (a client over HTTP decompresses them).
PLAIN = {"Accept-Encoding": "identity"}


def loaded(app: Any) -> Any:
    """The document as the app serves it, loaded by schemathesis (which calls the app
    in-process)."""
    return schemathesis.openapi.from_wsgi(PATH, app, config=CONFIG)


def headers_for(operation: Any, runtime: Runtime, submit_token: str,
                authority: str = "073400") -> dict[str, str]:
    """The headers of a call: a valid token of the scope the operation's security names."""
    scopes = [scope for requirement in operation.definition.raw.get("security", [])
              for scope in requirement.get("bearerToken", [])]
    if not scopes:
        return dict(PLAIN)
    token = submit_token if scopes == ["submit"] else authority_token(runtime, authority)
    return {**PLAIN, "Authorization": f"Bearer {token}"}
