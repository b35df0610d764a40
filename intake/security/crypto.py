"""Pure cryptography: field encryption with rotating keys, random tokens and their hashes."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from intake.security import streams

NONCE_BYTES = 12
# Blind indexes kept in rows (persons' names and documents, e-mail addresses): 128 bits of
# the HMAC. Among a million people two different texts meet with a chance of about 2**-88;
# the whole 256 bits cost each person 192 bytes more in its row and indexes (issue #29).
STORED_INDEX_CHARS = 32


class DecryptionError(ValueError):
    """A stored value cannot be decrypted: unknown key id, or tampered or misplaced data."""


def new_content_key() -> bytes:
    """A random AES-256 key for one piece of content (a document: documents.store)."""
    return AESGCM.generate_key(bit_length=256)


def seal_with(key: bytes, plaintext: bytes, context: str) -> bytes:
    """nonce | ciphertext under `key` (one of new_content_key's), bound to `context`."""
    return _sealed(AESGCM(key), plaintext, context)


def open_with(key: bytes, raw: bytes, context: str) -> bytes:
    """What `seal_with` sealed with the same key and context."""
    return _opened(AESGCM(key), raw, context)


def _sealed(aead: AESGCM, plaintext: bytes, context: str) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + aead.encrypt(nonce, plaintext, context.encode())


def _opened(aead: AESGCM, raw: bytes, context: str) -> bytes:
    try:
        return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
    except InvalidTag as error:
        raise DecryptionError(f"value does not belong to {context}") from error


class FieldCipher:
    """AES-256-GCM for personal fields.

    A value is `<key id>.<base64url(nonce | ciphertext)>`; the key id lets old values be
    read after a rotation. The associated data binds a value to its record and field, so a
    ciphertext copied into another row or column does not decrypt.
    """

    def __init__(self, keys: tuple[tuple[str, bytes], ...], index_key: bytes = b"") -> None:
        if not keys:
            raise ValueError("at least one data key is needed")
        self._current_id = keys[0][0]
        self._aeads = {key_id: AESGCM(key) for key_id, key in keys}
        self._keys = dict(keys)  # for the streams, which AESGCM cannot do
        self._index_key = index_key

    @property
    def current_key_id(self) -> str:
        return self._current_id

    def encrypt(self, plaintext: str, context: str) -> str:
        """Encrypt text for the record and field named by `context` with the newest key."""
        return self.encrypt_bytes(plaintext.encode(), context)

    def decrypt(self, value: str, context: str) -> str:
        """Decrypt a value made by `encrypt` with the same context."""
        return self.decrypt_bytes(value, context).decode()

    def encrypt_bytes(self, plaintext: bytes, context: str) -> str:
        sealed = self._seal(plaintext, context)
        return f"{self._current_id}.{base64.urlsafe_b64encode(sealed).decode()}"

    def decrypt_bytes(self, value: str, context: str) -> bytes:
        key_id, _, encoded = value.partition(".")
        return self._open(key_id, base64.urlsafe_b64decode(encoded), context)

    def encrypt_again(self, value: str, context: str) -> str:
        """A value of `encrypt_bytes`'s under the newest key (key rotation)."""
        return self.encrypt_bytes(self.decrypt_bytes(value, context), context)

    def seal(self, plaintext: bytes, context: str) -> bytes:
        """Encrypt bytes as bytes, `<key id>.` + nonce + ciphertext: for documents, where
        the text form's base64 would add a third to every megabyte stored."""
        return f"{self._current_id}.".encode() + self._seal(plaintext, context)

    def unseal(self, sealed: bytes, context: str) -> bytes:
        """Decrypt bytes made by `seal` with the same context."""
        key_id, _, raw = sealed.partition(b".")
        return self._open(key_id.decode(errors="replace"), raw, context)

    @contextlib.contextmanager
    def encrypting(self, out: BinaryIO, context: str) -> Iterator[streams.GcmWriter]:
        """A file to write plaintext to, that reaches `out` as `encrypt_bytes` would give the
        whole: for batch files, written in pieces without the whole in memory."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        out.write(f"{self._current_id}.".encode())
        text = streams.Base64Writer(out, padded=True)
        text.write(nonce)
        writer = streams.GcmWriter(self._keys[self._current_id], nonce, context.encode(), text)
        yield writer
        text.write(writer.finish())
        text.close()

    def decrypting(self, file: BinaryIO, context: str) -> Iterator[bytes]:
        """What `encrypting` (or `encrypt_bytes`) wrote to a seekable file, decrypted in
        pieces; nothing comes before the whole is authenticated (DecryptionError)."""
        file.seek(0)
        key_id = file.read(80).partition(b".")[0].decode(errors="replace")
        key = self._keys.get(key_id)
        if key is None:
            raise DecryptionError(f"no data key with id {key_id!r}")
        pieces = streams.decrypted(file, len(key_id) + 1, key, context.encode())
        try:
            first = next(pieces, b"")
        except InvalidTag as error:
            raise DecryptionError(f"value does not belong to {context}") from error
        return _chained(first, pieces)

    def _seal(self, plaintext: bytes, context: str) -> bytes:
        return _sealed(self._aeads[self._current_id], plaintext, context)

    def _open(self, key_id: str, raw: bytes, context: str) -> bytes:
        aead = self._aeads.get(key_id)
        if aead is None:
            raise DecryptionError(f"no data key with id {key_id!r}")
        return _opened(aead, raw, context)


    def key_id(self, value: str) -> str:
        """The id of the key a stored value was encrypted with."""
        return value.partition(".")[0]

    def blind_index(self, text: str, chars: int = 64) -> str:
        """A keyed HMAC of normalized text: equal texts meet, the text cannot be read back.
        The first `chars` hex digits of it (STORED_INDEX_CHARS for indexes kept in rows)."""
        if not self._index_key:
            raise ValueError("no index key configured")
        return hmac.new(self._index_key, text.encode(), hashlib.sha256).hexdigest()[:chars]


def _chained(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest


def random_token(nbytes: int = 16) -> str:
    """An unguessable URL-safe token (16 bytes = 128 bits by default)."""
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    """The stored form of a token: tokens are never kept in the clear."""
    return hashlib.sha256(token.encode()).hexdigest()


# Crockford's base32 alphabet: no I, L, O, U, so a reference read aloud or typed is unambiguous.
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_FORM = re.compile(f"[{_REFERENCE_ALPHABET}]{{5}}-[{_REFERENCE_ALPHABET}]{{5}}")


def random_reference() -> str:
    """A registration reference such as `K7M4Q-9XPD2` (50 random bits)."""
    # One draw of 50 bits, five per character (the alphabet has 32): secrets.choice per
    # character asked the kernel ten times, each time letting go of the GIL.
    bits = secrets.randbits(50)
    chars = "".join(_REFERENCE_ALPHABET[(bits >> shift) & 31] for shift in range(45, -1, -5))
    return f"{chars[:5]}-{chars[5:]}"
