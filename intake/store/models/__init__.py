"""SQLAlchemy tables. Personal data lives only in the encrypted `data` columns.

One module per concern; every name is kept here too, so `models.Registration` and
`from intake.store.models import Base` keep working, and importing the package declares
every table on `Base.metadata` (what Alembic compares the migrations with).
"""

from intake.store.models.authorities import (
    Appointment,
    Authority,
    ClosedDay,
    OpeningHours,
    PostalCode,
    Slot,
)
from intake.store.models.base import Base, new_id, new_uuid, table, utcnow
from intake.store.models.delivery import (
    MAIL_PENDING,
    PENDING,
    Batch,
    Mail,
    Message,
    MessagePayload,
    Outbox,
    message_waiting,
)
from intake.store.models.documents import Document, DocumentBlob
from intake.store.models.places import (
    District,
    Jurisdiction,
    Municipality,
    PostalCodePlace,
    PostalRoute,
)
from intake.store.models.registrations import (
    Draft,
    HandOver,
    IdempotencyKey,
    Person,
    Registration,
)
from intake.store.models.staff import (
    ApiToken,
    AuditEntry,
    RecoveryCode,
    SignInThrottle,
    StaffAuthority,
    StaffSession,
    StaffUser,
)

__all__ = [
    "MAIL_PENDING",
    "PENDING",
    "ApiToken",
    "Appointment",
    "AuditEntry",
    "Authority",
    "Base",
    "Batch",
    "ClosedDay",
    "District",
    "Document",
    "DocumentBlob",
    "Draft",
    "HandOver",
    "IdempotencyKey",
    "Jurisdiction",
    "Mail",
    "Message",
    "MessagePayload",
    "Municipality",
    "OpeningHours",
    "Outbox",
    "Person",
    "PostalCode",
    "PostalCodePlace",
    "PostalRoute",
    "RecoveryCode",
    "Registration",
    "SignInThrottle",
    "Slot",
    "StaffAuthority",
    "StaffSession",
    "StaffUser",
    "message_waiting",
    "new_id",
    "new_uuid",
    "table",
    "utcnow",
]
