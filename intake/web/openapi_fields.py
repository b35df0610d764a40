"""What the dataset's own fields and rules mean in the API's OpenAPI document (web/openapi.py).

apispec's marshmallow plugin knows marshmallow's fields and validators; these are ours: a
field type it cannot read (a partial date), validators that are functions (a country code,
DIN 91379 text), and the rules the schemas check in methods or before loading (nationalities,
the machine-readable zone), which no field states.
"""

from __future__ import annotations

from typing import Any

from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields

from intake.dataset import domain
from intake.dataset import fields as dataset_fields
from intake.xaus.codes import NATIONALITY_KEYS

COUNTRY = "Country"
COUNTRY_SCHEMA = {"type": "string", "enum": sorted(NATIONALITY_KEYS),
                  "description": "ISO 3166-1 alpha-2, as the authorities' code lists know it."}


def _country() -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{COUNTRY}"}


def teach(plugin: MarshmallowPlugin) -> None:
    """Tell the plugin (of a begun APISpec, which made its converter) what our fields mean."""
    # apispec leaves these untyped.
    plugin.map_to_openapi_type(  # type: ignore[no-untyped-call]
        dataset_fields.PartialDateField, "string", None)
    plugin.map_to_openapi_type(  # type: ignore[no-untyped-call]
        dataset_fields.Email, "string", "email")
    plugin.converter.add_attribute_function(_described)  # type: ignore[union-attr]


def _described(self: Any, field: fields.Field[Any], ret: dict[str, Any],
               **_: Any) -> dict[str, Any]:
    """What the dataset's own fields and validators mean, as JSON Schema (an apispec
    attribute function: called for every field, after apispec's own)."""
    found: dict[str, Any] = {}
    if isinstance(field, dataset_fields.PartialDateField):
        found.update(pattern=r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$",
                     description="YYYY-MM-DD, YYYY-MM or YYYY (from 1900, not in the "
                                 "future); null when unknown.")
    if isinstance(field, dataset_fields.Phone):
        found["description"] = ("A phone number; without a country code a German one. "
                                "Kept in E.164 (+4915112345678).")
    if dataset_fields.latin_name in field.validators:
        found["description"] = ("In Latin letters exactly as in the passport: the "
                                "characters of DIN 91379 (XÖV's string type).")
    if dataset_fields.plain_text in field.validators:
        found["description"] = "In the characters of DIN 91379 (XÖV's string type)."
    if dataset_fields.country in field.validators:
        ret.pop("type", None)  # the Country schema's; or null, beside it
        found.update({"anyOf": [_country(), {"type": "null"}]} if field.allow_none
                     else _country())
    return found


def checked_in_code(schemas: dict[str, Any]) -> None:
    """The dataset's rules that its schemas check in methods, said as JSON Schema."""
    person, document = schemas["Person"], schemas["Document"]
    person["properties"]["nationalities"].update(
        items={"anyOf": [_country(), {"enum": [domain.STATELESS, domain.UNKNOWN]}]},
        uniqueItems=True,
        description=f"Countries, or `[\"{domain.STATELESS}\"]`, or `[\"{domain.UNKNOWN}\"]`.")
    schemas["Household"]["properties"]["persons"]["description"] = (
        "The applicant first (and only first), at most one spouse.")
    # passport.fill_from_mrz (a pre_load): the machine-readable zone fills the document and
    # whatever of these the person leaves out, each check digit verified.
    document["properties"]["mrz"] = {
        "type": "string", "description": "The two or three lines of the document's "
        "machine-readable zone, instead of its other fields but `valid_from`."}
    # Conditions, not alternatives (anyOf): client generators make no model of them.
    document["if"], document["else"] = {"required": ["mrz"]}, {"required": document.pop("required")}
    filled = [name for name in ("sex", "date_of_birth", "nationalities")
              if name in person["required"]]
    person["required"] = [name for name in person["required"] if name not in filled]
    person["if"] = {"required": ["document"],
                    "properties": {"document": {"type": "object", "required": ["mrz"]}}}
    person["else"] = {"required": filled}
