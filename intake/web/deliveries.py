"""bp "deliveries": authorities list, fetch and acknowledge their batches (API and desk portal).

An authority reaches its own batches only: another authority's batch answers 404, as if it
did not exist.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from flask import (
    Blueprint,
    Response,
    abort,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from intake.delivery import batch_files
from intake.registrations import booking
from intake.security import audit
from intake.security.access import roles
from intake.store import models
from intake.web import runtime
from intake.web.bearer import require_scope

bp = Blueprint("deliveries", __name__)


def _authority_of_token() -> str:
    return str(g.api_scope).removeprefix("authority:")


def _batch(session: Any, batch_id: str, authority_key: str | None) -> models.Batch:
    found: models.Batch | None = session.get(models.Batch, batch_id)
    if found is None or found.erased_at is not None:
        abort(404)
    if authority_key is not None and found.authority_key != authority_key:
        abort(404)
    return found


def _describe(batch: models.Batch) -> dict[str, Any]:
    return {
        "id": batch.id,
        "authority": batch.authority_key,
        "sequence": batch.sequence,
        "created": booking.aware(batch.created_at).isoformat(),  # SQLite keeps no zone
        "count": batch.count,
        "acknowledged": booking.aware(batch.acknowledged_at).isoformat()
        if batch.acknowledged_at else None,
        "url": url_for("deliveries.api_download", batch_id=batch.id),
    }


def _listing(authority_key: str | None) -> list[models.Batch]:
    """Live batches, oldest first (the API: a system takes them in order)."""
    with runtime().db.read() as session:
        query = select(models.Batch).where(models.Batch.erased_at.is_(None))
        if authority_key is not None:
            query = query.where(models.Batch.authority_key == authority_key)
        return list(session.scalars(query.order_by(models.Batch.authority_key,
                                                   models.Batch.sequence)))


@dataclass(frozen=True)
class PortalRow:
    """A batch as the portal lists it: its authority by name, and whether it was fetched."""

    batch: models.Batch
    authority: str
    downloaded: bool
    undoable: bool  # acknowledged moments ago: the acknowledgement may still be taken back


# An acknowledgement starts the retention clock (the data is deleted 30 days on): a mistaken
# tap may be taken back this long, long before anything is deleted.
UNDO_WINDOW = dt.timedelta(minutes=15)


def _portal_rows(authority_key: str | None) -> list[PortalRow]:
    """Newest first, as people look for what just came in."""
    now = dt.datetime.now(dt.UTC)
    with runtime().db.read() as session:
        query = (select(models.Batch, models.Authority.name)
                 .join(models.Authority).where(models.Batch.erased_at.is_(None)))
        if authority_key is not None:
            query = query.where(models.Batch.authority_key == authority_key)
        rows = session.execute(query.order_by(models.Batch.created_at.desc(),
                                              models.Batch.sequence.desc())).all()
        fetched = _downloaded(session, [batch.id for batch, _name in rows])
    return [PortalRow(batch, name, batch.id in fetched,
                      batch.acknowledged_at is not None
                      and now - booking.aware(batch.acknowledged_at) < UNDO_WINDOW)
            for batch, name in rows]


def _downloaded(session: Any, batch_ids: list[str]) -> set[str]:
    """The batches their authority has fetched (the audit log records every download)."""
    return set(session.scalars(select(models.AuditEntry.record_id).where(
        models.AuditEntry.action == "download", models.AuditEntry.record_type == "batch",
        models.AuditEntry.record_id.in_(batch_ids),
    )))


def _zip(batch_id: str, authority_key: str | None, user_id: int | None) -> Response:
    """A batch's file, its download audited (by the staff member, or the API's token): a
    sealed one as it is (JWE, only the authority's private key opens it), one under the
    data key opened. Both stream from the file: a batch is up to INTAKE_BATCH_MAX_BYTES."""
    app_runtime = runtime()
    # One transaction: the audit entry, and the file written when a crash lost it, which
    # records what it is sealed to. The file is opened inside it: a rewrite after the
    # commit replaces it by rename, and the open file stays the one audited.
    with app_runtime.db.transaction() as session:
        batch = _batch(session, batch_id, authority_key)
        path = batch_files.write(
            session, app_runtime.cipher, app_runtime.blobs, app_runtime.settings.xml_out, batch
        )
        file = path.open("rb")
        audit.record(session, user_id, "download", "batch", batch_id)
    if batch.sealed_to is not None:
        response = Response(_pieces(file, _chunks(file)), mimetype="application/jose")
        response.content_length = path.stat().st_size
        name = f"{batch_id}{batch_files.SEALED}"
    else:
        try:  # authenticated before the first byte goes: a tampered file is a 500, not a zip
            opened = batch_files.opened_pieces(app_runtime.cipher, batch_id, file)
        except Exception:
            file.close()
            raise
        response = Response(_pieces(file, opened), mimetype="application/zip")
        name = f"{batch_id}.zip"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _chunks(file: BinaryIO) -> Iterator[bytes]:
    while piece := file.read(1 << 20):
        yield piece


def _pieces(file: BinaryIO, pieces: Iterator[bytes]) -> Iterator[bytes]:
    """The pieces, then the file closed (also when the client goes away: the generator is
    closed by the server)."""
    try:
        yield from pieces
    finally:
        file.close()


def _acknowledge(batch_id: str, authority_key: str | None, user_id: int | None) -> None:
    with runtime().db.transaction() as session:
        batch = _batch(session, batch_id, authority_key)
        if batch.acknowledged_at is None:
            batch.acknowledged_at = dt.datetime.now(dt.UTC)
        audit.record(session, user_id, "acknowledge", "batch", batch.id)


@bp.get("/api/v1/batches")
@require_scope("authority")
def api_list() -> Response:
    return jsonify(batches=[_describe(b) for b in _listing(_authority_of_token())])


@bp.get("/api/v1/batches/<batch_id>")
@require_scope("authority")
def api_download(batch_id: str) -> Response:
    return _zip(batch_id, _authority_of_token(), None)


@bp.post("/api/v1/batches/<batch_id>/ack")
@require_scope("authority")
def api_acknowledge(batch_id: str) -> Response:
    _acknowledge(batch_id, _authority_of_token(), None)
    with runtime().db.read() as session:
        return jsonify(_describe(_batch(session, batch_id, _authority_of_token())))


def _own() -> str | None:
    """Authority staff see their authority's batches; admins see all."""
    return g.staff.authority_key if g.staff.role == "authority" else None


@bp.get("/desk/batches")
@roles("authority", "admin")
def portal() -> str:
    """The batches; for authority staff also the key their batches are sealed to, so that a
    key set by anyone else (audited) is seen where the authority looks."""
    own = _own()
    with runtime().db.read() as session:
        authority = session.get(models.Authority, own) if own else None
        thumbprint = authority.public_key_thumbprint if authority else None
    return render_template("desk/batches.html", rows=_portal_rows(own), thumbprint=thumbprint,
                           notice=request.args.get("notice"))


# Only the authority reads and acknowledges its batches: an admin sees that they exist (the
# list), not what they hold, and cannot start the erasure clock for data never fetched.
@bp.get("/desk/batches/<batch_id>.zip")
@roles("authority")
def portal_download(batch_id: str) -> Response:
    return _zip(batch_id, _own(), g.staff.id)


@bp.route("/desk/batches/<batch_id>/ack", methods=["GET", "POST"])
@roles("authority")
def portal_acknowledge(batch_id: str) -> Any:
    """Confirm receipt, once the batch was downloaded, on a page that says what follows."""
    with runtime().db.read() as session:
        batch = _batch(session, batch_id, _own())
        downloaded = batch.id in _downloaded(session, [batch.id])
    if not downloaded:
        return render_template("desk/acknowledge.html", batch=batch, downloaded=False), 409
    if request.method == "GET":
        return render_template("desk/acknowledge.html", batch=batch, downloaded=True)
    _acknowledge(batch_id, _own(), g.staff.id)
    return redirect(url_for("deliveries.portal", notice="acknowledged"), code=303)


@bp.post("/desk/batches/<batch_id>/undo")
@roles("authority")
def portal_undo(batch_id: str) -> Any:
    """Take back an acknowledgement made within UNDO_WINDOW (audited)."""
    with runtime().db.transaction() as session:
        batch = _batch(session, batch_id, _own())
        acknowledged = batch.acknowledged_at
        if acknowledged is None or (
            dt.datetime.now(dt.UTC) - booking.aware(acknowledged) >= UNDO_WINDOW
        ):
            abort(409)
        batch.acknowledged_at = None
        audit.record(session, g.staff.id, "acknowledgement undone", "batch", batch.id)
    return redirect(url_for("deliveries.portal", notice="undone"), code=303)
