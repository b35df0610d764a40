"""Schemathesis against the app in-process: whatever it sends to any operation of the OpenAPI
document, the answer is no server error and is as the document says (status, Content-Type,
headers, body). Bounded and deterministic, like test_no_server_errors.py's fuzz.

Each operation is called with positive data (what the document allows) and negative data
(what it does not), with a valid token of the scope it needs; an operation on a registration
is called with the token's own registration (which has an appointment) half the time, else
with any reference.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from intake.web import openapi
from tests.helpers.api import post
from tests.helpers.data import ADULT
from tests.helpers.openapi import headers_for, loaded

EXAMPLES = int(os.environ.get("INTAKE_TEST_SCHEMATHESIS_EXAMPLES", "40"))
OPERATIONS = sorted(operation["operationId"] for operation in openapi.OPERATIONS.values())


def booked(client: Any, token: str) -> str:
    """The reference of a registration of this token, with an appointment."""
    reference = str(post(client, token, ADULT).json["reference"])
    auth = {"Authorization": f"Bearer {token}"}
    path = f"/api/v1/registrations/{reference}"
    [first, *_] = client.get(f"{path}/slots", headers=auth).json["slots"]
    assert client.post(f"{path}/appointment", json={"slot": first["id"]},
                       headers=auth).status_code == 201
    return reference


def cases(operation: Any, reference: str) -> Any:
    """Positive and negative cases, on the given registration or any."""
    modes = [GenerationMode.POSITIVE]
    if operation.path_parameters or operation.query or operation.headers or operation.body:
        modes.append(GenerationMode.NEGATIVE)  # else there is nothing to get wrong
    fixed = [{}, {"path_parameters": {"reference": reference}}] if "{reference}" in \
        operation.path else [{}]
    return st.one_of([operation.as_strategy(mode, **values) for mode in modes
                      for values in fixed])


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_every_answer_is_as_documented(app, client, runtime, submit_token, operation_id):
    reference = booked(client, submit_token)
    operation = loaded(app).find_operation_by_id(operation_id)
    headers = headers_for(operation, runtime, submit_token)

    @settings(
        max_examples=EXAMPLES,
        derandomize="INTAKE_TEST_SCHEMATHESIS_EXAMPLES" not in os.environ,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(case=cases(operation, reference))
    def call(case: Any) -> None:
        case.call_and_validate(headers=headers)

    call()
