"""The API's OpenAPI 3.1 document: valid, complete, generated from the schemas, and served
for anyone to cache."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, jsonify
from openapi_spec_validator import OpenAPIV31SpecValidator

from intake.dataset.schemas import MAX_PERSONS, HouseholdSchema, PersonSchema
from intake.security.access import bearer
from intake.web import api_uploads, openapi
from tests.helpers.api import post
from tests.helpers.data import ADULT
from tests.helpers.openapi import PATH

METHODS = ("get", "put", "post", "delete", "patch")


def operations_of(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each operation of the document, by "METHOD /path"."""
    return {f"{method.upper()} {path}": operation
            for path, item in document["paths"].items()
            for method, operation in item.items() if method in METHODS}


def undescribed(app: Flask, document: dict[str, Any]) -> list[str]:
    """Each method of an /api/ route of the url_map that the document does not describe."""
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if method.lower() not in document["paths"].get(path, {}):
                missing.append(f"{method} {rule.rule}")
    return missing


def test_the_document_is_valid_openapi_3_1(client):
    document = client.get(PATH).json

    assert document["openapi"] == "3.1.0"
    OpenAPIV31SpecValidator(document).validate()


def test_every_api_route_and_method_is_described_and_nothing_else(app, client):
    document = client.get(PATH).json
    api_rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")]

    assert undescribed(app, document) == []
    assert len(operations_of(document)) == sum(
        len(rule.methods - {"HEAD", "OPTIONS"}) for rule in api_rules) == 9


def test_a_new_api_route_without_a_description_is_found(app):
    @bearer
    def new_route() -> Any:
        return jsonify()

    app.add_url_rule("/api/v1/registrations/<reference>/new", "api.new_route", new_route,
                     methods=["PUT"])

    assert undescribed(app, openapi.build(app)) == ["PUT /api/v1/registrations/<reference>/new"]


def test_each_operation_asks_for_the_scope_its_view_checks(client):
    security = {name: operation["security"]
                for name, operation in operations_of(client.get(PATH).json).items()}

    assert security.pop("GET /openapi.json") == []
    assert security.pop("GET /batches") == [{"bearerToken": ["authority:<key>"]}]
    assert security.pop("POST /registrations") == [{"bearerToken": ["submit"]}]
    assert all(found in ([{"bearerToken": ["submit"]}], [{"bearerToken": ["authority:<key>"]}])
               for found in security.values())


def test_the_dataset_is_described_from_its_schemas(client):
    schemas = client.get(PATH).json["components"]["schemas"]

    assert set(schemas["Household"]["properties"]) == set(HouseholdSchema().fields)
    assert set(schemas["Person"]["properties"]) == set(PersonSchema().fields)
    assert schemas["Household"]["additionalProperties"] is False
    assert schemas["Household"]["properties"]["persons"]["maxItems"] == MAX_PERSONS
    assert schemas["Consent"]["properties"]["data_processing"]["enum"] == [True]
    assert "UA" in schemas["Country"]["enum"] and "XX" not in schemas["Country"]["enum"]
    assert schemas["Document"]["properties"]["mrz"]["type"] == "string"
    assert set(schemas["RegistrationPart"]["properties"]) == {*HouseholdSchema().fields,
                                                               "proofs"}


def test_the_multipart_registration_names_its_parts(client):
    multipart = client.get(PATH).json["paths"]["/registrations"]["post"]["requestBody"][
        "content"]["multipart/form-data"]
    [pages] = multipart["schema"]["patternProperties"]

    assert set(multipart["schema"]["properties"]) == {"registration", "proofs"}
    assert multipart["encoding"]["registration"]["contentType"] == "application/json"
    assert re.search(pages, "persons.11.document_pages")
    for name in ("persons.01.document_pages", "persons.0.document_pages.x", "persons.x"):
        assert not re.search(pages, name) and not api_uploads.PAGES_OF_PERSON.fullmatch(name)


def test_the_document_is_public_cacheable_and_the_same_for_every_host(client, submit_token):
    first = client.get(PATH, base_url="https://intake.example")
    person = {**ADULT["persons"][0], "family_name": "Kowalczyk"}
    assert post(client, submit_token, {**ADULT, "persons": [person]}).status_code == 201
    other = client.get(PATH, base_url="http://10.0.0.1:8000", headers={"X-Forwarded-Host": "x"})
    unchanged = client.get(PATH, headers={"If-None-Match": first.headers["ETag"]})

    assert first.status_code == other.status_code == 200 and first.data == other.data
    assert first.headers["Cache-Control"] == "public, max-age=3600"
    assert first.headers["ETag"] == other.headers["ETag"]
    assert unchanged.status_code == 304 and not unchanged.data
    assert first.json["servers"] == [{"url": "/api/v1"}]
    assert b"intake.example" not in first.data and b"Kowalczyk" not in first.data
