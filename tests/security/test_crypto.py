from __future__ import annotations

import pytest

from intake.config import new_data_key, parse_data_keys
from intake.security.crypto import (
    DecryptionError,
    FieldCipher,
    random_reference,
    random_token,
    token_hash,
)


def keyring(*ids: str) -> tuple[tuple[str, bytes], ...]:
    return parse_data_keys(",".join(new_data_key(key_id) for key_id in ids))


def test_values_round_trip_and_carry_their_key_id():
    cipher = FieldCipher(keyring("k1"))
    value = cipher.encrypt("Шевченко Олена", "person:1:data")
    assert value.startswith("k1.")
    assert "Шевченко" not in value
    assert cipher.decrypt(value, "person:1:data") == "Шевченко Олена"


def test_a_value_moved_to_another_record_does_not_decrypt():
    cipher = FieldCipher(keyring("k1"))
    value = cipher.encrypt("secret", "person:1:data")
    with pytest.raises(DecryptionError):
        cipher.decrypt(value, "person:2:data")


def test_old_values_stay_readable_after_a_new_key_is_added():
    old_keys = keyring("k1")
    old = FieldCipher(old_keys).encrypt("secret", "c")
    rotated = FieldCipher(parse_data_keys(new_data_key("k2")) + old_keys)
    assert rotated.decrypt(old, "c") == "secret"
    assert rotated.encrypt("secret", "c").startswith("k2.")
    with pytest.raises(DecryptionError, match="no data key"):
        FieldCipher(parse_data_keys(new_data_key("k3"))).decrypt(old, "c")


def test_tokens_are_long_random_and_stored_as_hashes():
    tokens = {random_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(len(token) >= 22 for token in tokens)  # 16 bytes = 128 bits
    token = random_token()
    assert token_hash(token) != token and len(token_hash(token)) == 64


def test_references_are_unambiguous():
    for _ in range(200):
        reference = random_reference()
        assert len(reference) == 11 and reference[5] == "-"
        assert not set(reference) & set("ILOU")


def test_every_character_of_a_reference_is_drawn_from_the_whole_alphabet():
    # 50 bits: each of the ten characters takes all 32 values, independent of the others.
    drawn = [random_reference().replace("-", "") for _ in range(3000)]
    for position in range(10):
        assert len({reference[position] for reference in drawn}) == 32
    assert len(set(drawn)) == len(drawn)


def test_sealed_bytes_carry_their_key_id_and_their_record():
    old_keys = keyring("k1")
    sealed = FieldCipher(old_keys).seal(b"%PDF-1.7 passport", "document:1:content")
    assert sealed.startswith(b"k1.") and b"passport" not in sealed
    # Raw bytes: 3 for the key id, 12 for the nonce and 16 for the tag, no base64.
    assert len(sealed) == len(b"%PDF-1.7 passport") + 3 + 12 + 16
    rotated = FieldCipher(parse_data_keys(new_data_key("k2")) + old_keys)
    assert rotated.unseal(sealed, "document:1:content") == b"%PDF-1.7 passport"
    assert rotated.seal(b"x", "c").startswith(b"k2.")
    with pytest.raises(DecryptionError, match="does not belong"):
        rotated.unseal(sealed, "document:2:content")
