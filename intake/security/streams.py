"""AES-256-GCM and base64url as streams: batch files of hundreds of megabytes are encrypted
and decrypted piece by piece, in the formats `FieldCipher.encrypt_bytes` and
`sealing.seal` write whole (so the readers of either open both)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

CHUNK = 1 << 20  # bytes read or encoded at a time
TAG_BYTES = 16


class Base64Writer:
    """Writes base64url of what it is given to `out`, three bytes to four characters, so
    the pieces join into the same text as one encoding of the whole."""

    def __init__(self, out: BinaryIO, *, padded: bool) -> None:
        self._out, self._padded, self._held = out, padded, b""

    def write(self, data: bytes) -> None:
        data = self._held + data
        whole = len(data) - len(data) % 3
        if whole:
            self._out.write(base64.urlsafe_b64encode(data[:whole]))
        self._held = data[whole:]

    def close(self) -> None:
        rest = base64.urlsafe_b64encode(self._held)
        self._out.write(rest if self._padded else rest.rstrip(b"="))
        self._held = b""


class GcmWriter:
    """A write-only file for `zipfile` (no seek, no tell): what it is given goes out AES-GCM
    encrypted to `sink`; `finish()` gives the tag."""

    def __init__(self, key: bytes, nonce: bytes, associated: bytes, sink: Base64Writer) -> None:
        self._encryptor = Cipher(algorithms.AES(key), modes.GCM(nonce)).encryptor()
        self._encryptor.authenticate_additional_data(associated)
        self._sink = sink
        self.written = 0

    def write(self, data: bytes) -> int:
        self._sink.write(self._encryptor.update(bytes(data)))
        self.written += len(data)
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: zipfile asks after its end record."""

    def finish(self) -> bytes:
        self._sink.write(self._encryptor.finalize())
        return self._encryptor.tag


def decoded_length(encoded: int, tail: bytes) -> int:
    """The bytes that `encoded` characters of padded base64 ending in `tail` decode to."""
    return encoded // 4 * 3 - tail[-2:].count(b"=")


def decrypted(file: BinaryIO, start: int, key: bytes, associated: bytes) -> Iterator[bytes]:
    """The plaintext of padded base64url(nonce | ciphertext | tag) from offset `start` of a
    seekable `file` to its end, in pieces.

    Nothing is given out before the tag is checked: a first pass decrypts to nowhere and
    checks it (InvalidTag), a second gives the pieces. The file must not change between
    the passes (batch files are replaced by rename, never written in place).
    """
    file.seek(0, 2)
    encoded = file.tell() - start
    file.seek(-min(4, encoded), 2)
    total = decoded_length(encoded, file.read())
    nonce = _decode_range(file, start, 0, 12)
    tag = _decode_range(file, start, total - TAG_BYTES, total)
    for emit in (False, True):
        decryptor = Cipher(algorithms.AES(key), modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(associated)
        for piece in _decoded_pieces(file, start, 12, total - TAG_BYTES):
            plain = decryptor.update(piece)
            if emit and plain:
                yield plain
        decryptor.finalize()  # raises InvalidTag on the first pass


def _decode_range(file: BinaryIO, start: int, first: int, end: int) -> bytes:
    return b"".join(_decoded_pieces(file, start, first, end))


def _decoded_pieces(file: BinaryIO, start: int, first: int, end: int) -> Iterator[bytes]:
    """Decoded bytes [first, end) of the base64 text that begins at offset `start`."""
    block = first // 3
    file.seek(start + block * 4)
    position = block * 3
    while position < end:
        text = file.read(CHUNK // 3 * 4)
        if not text:
            return
        data = base64.urlsafe_b64decode(text)
        piece = data[max(0, first - position):end - position]
        position += len(data)
        if piece:
            yield piece
