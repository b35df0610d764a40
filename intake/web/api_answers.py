"""What the partners' API answers, as marshmallow schemas: the OpenAPI document's bodies.

The views build these bodies themselves (a dict each); the schemas say what a client may rely
on, and tests/web/test_openapi_answers.py and test_openapi_fuzz.py hold the answers against
them. Unknown keys are refused (marshmallow's default), so the document says
`additionalProperties: false`, and a key added to an answer without a word here fails those
tests.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class AuthorityAnswerSchema(Schema):
    key = fields.String(required=True, metadata={"description": "The authority's key (ABH)."})
    name = fields.String(required=True)


class ApplicationSchema(Schema):
    person = fields.Integer(required=True,
                            metadata={"description": "The person's index in `persons`."})
    application_id = fields.String(required=True, metadata={
        "description": "The id of the person's message to the authority."})


class ReceiptSchema(Schema):
    reference = fields.String(required=True, metadata={
        "description": "The registration's reference: what the other calls take."})
    status_url = fields.Url(required=True, metadata={
        "description": "The applicant's status page (its QR code). Hand it to the applicant "
                       "only: anyone holding it sees the status."})
    authority = fields.Nested(AuthorityAnswerSchema, required=True)
    applications = fields.List(fields.Nested(ApplicationSchema), required=True)


class PlaceSchema(Schema):
    """A place of a postal code whose places different authorities serve (web/api.py)."""

    municipality_key = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{8}$"),
                                     metadata={"description": "Send it as `municipality_key`."})
    place = fields.String(required=True, metadata={"description": "The place's name."})


class SlotSchema(Schema):
    id = fields.String(required=True, validate=validate.Regexp(r"^[0-9]+$"))
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    free = fields.Integer(required=True, metadata={"description": "Seats still free."})


class SlotsSchema(Schema):
    slots = fields.List(fields.Nested(SlotSchema), required=True)
    books_online = fields.Boolean(required=True, metadata={"description": (
        "Whether the authority books appointments here (it has opening hours). When "
        "false, `slots` is empty and the authority contacts the household itself.")})


class SlotChoiceSchema(Schema):
    """The body of a booking. Keys besides these two are ignored."""

    class Meta:
        unknown = "include"

    slot = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{1,18}$"),
                         metadata={"description": "A slot's `id` from the slots listed."})
    priority = fields.Boolean(load_default=False, metadata={
        "description": "Whether the seats an authority holds for priority may be booked."})


class AppointmentSchema(Schema):
    slot = fields.String(required=True, validate=validate.Regexp(r"^[0-9]+$"))
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    seats = fields.Integer(required=True, metadata={"description": "One per person."})
    priority = fields.Boolean(required=True)


class BatchSchema(Schema):
    id = fields.String(required=True)
    authority = fields.String(required=True)
    sequence = fields.Integer(required=True, metadata={
        "description": "The authority's batches count 1, 2, 3, ... in the order made."})
    created = fields.AwareDateTime(required=True)
    count = fields.Integer(required=True, metadata={"description": "Messages in the batch."})
    acknowledged = fields.AwareDateTime(required=True, allow_none=True)
    url = fields.String(required=True, metadata={
        "description": "Where the batch's file is fetched (a path of this service)."})


class BatchesSchema(Schema):
    batches = fields.List(fields.Nested(BatchSchema), required=True)

