"""Requests that carry files: the size they may have, and where their files wait.

Every other request stays under MAX_CONTENT_LENGTH (256 KB); a view that takes documents
allows a household's 30 MB and the form around them (`takes_files`), when the request is
multipart/form-data: no other body can carry a file, and a JSON body of 40 MB would only cost
the time to parse it. The files wait in
memory while the request is read, never in a temporary file: Werkzeug spools uploads over
500 KB to /tmp, and a passport photo there would be personal data on disk unencrypted.
Memory stays bounded by the request's size.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import IO, Any, TypeVar

from flask import Flask, Request, current_app, g, request
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import ServiceUnavailable

from intake.documents import files

# A household's documents as sent (each at most 10 MB, together as stored at most 30 MB)
# and the form or JSON around them. Photos shrink when made safe, so what arrives may be
# more than what is kept: 40 MB lets three 10 MB photos and a PDF through in one request.
MAX_UPLOAD_REQUEST = files.MAX_HOUSEHOLD_BYTES + 10 * files.MEGABYTE

View = TypeVar("View", bound=Callable[..., Any])


class InMemoryUploads(Request):
    """Flask's request, with uploaded files kept in memory (module docstring)."""

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        return io.BytesIO()


def takes_files(view: View) -> View:
    """Let the view's requests be as large as a household's documents."""
    view.takes_files = True  # type: ignore[attr-defined]
    return view


# Requests with files read and made safe at once in a web process: each holds its files (up
# to 40 MB) and a photo's decoded pixels, and 32 threads doing so together peaked at 5.8 GB
# (bench). The others wait with their bodies unread; the photos take the processor anyway.
UPLOADS_AT_ONCE = 2
SLOT_WAIT = 30  # seconds a request with files waits for a slot
_SLOTS = "upload_slots"  # in app.extensions: the process's semaphore
_HOLDS = "_upload_slot"  # in g: this request holds a slot


def _admit_upload() -> None:
    # Before anything reads the body (the CSRF check reads the form), so a view's own
    # setting would come too late.
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "takes_files", False) and request.mimetype == "multipart/form-data":
        request.max_content_length = MAX_UPLOAD_REQUEST
        # Bounded: slow senders holding both slots must not hold this thread, and the pages
        # it would serve, for ever. The phone is told to try again; nothing was read.
        if not current_app.extensions[_SLOTS].acquire(timeout=SLOT_WAIT):
            raise ServiceUnavailable(retry_after=10)
        setattr(g, _HOLDS, True)


def _release(_error: BaseException | None) -> None:
    if g.pop(_HOLDS, False):
        current_app.extensions[_SLOTS].release()


def init_app(app: Flask) -> None:
    app.request_class = InMemoryUploads
    app.extensions[_SLOTS] = threading.BoundedSemaphore(UPLOADS_AT_ONCE)
    app.before_request_funcs.setdefault(None, []).insert(0, _admit_upload)
    app.teardown_request(_release)


def sent_files(name: str) -> list[FileStorage]:
    """The files sent under `name`, leaving out an empty file input (a form sends one with
    no name and no bytes when nothing was chosen)."""
    return [upload for upload in request.files.getlist(name) if upload.filename]


def read(upload: FileStorage) -> bytes:
    """An upload's bytes, at most one more than a file may have (accept() refuses it)."""
    return upload.stream.read(files.MAX_FILE_BYTES + 1)
