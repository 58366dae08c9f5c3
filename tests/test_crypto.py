"""datasette_secrets.crypto: keys, key ids and authenticated encryption."""

import re

import pytest
from cryptography.fernet import Fernet

from datasette_secrets import EncryptionKeyError, SecretDecryptionError
from datasette_secrets.crypto import Key, Keyring


def test_round_trip(key):
    k = Key(key)
    blob = k.encrypt("API_KEY", 1, "sk-ünïcødé-value")
    assert isinstance(blob, bytes)
    assert b"sk-" not in blob
    assert k.decrypt("API_KEY", 1, blob) == "sk-ünïcødé-value"


def test_same_value_encrypts_differently_each_time(key):
    k = Key(key)
    assert k.encrypt("API_KEY", 1, "same") != k.encrypt("API_KEY", 1, "same")


def test_ciphertext_is_bound_to_the_name(key):
    k = Key(key)
    blob = k.encrypt("API_KEY", 1, "value")
    with pytest.raises(SecretDecryptionError) as info:
        k.decrypt("OTHER_KEY", 1, blob)
    assert info.value.name == "OTHER_KEY"
    assert info.value.key_id == k.id


def test_other_key_cannot_decrypt(key, other_key):
    blob = Key(key).encrypt("API_KEY", 1, "value")
    with pytest.raises(SecretDecryptionError):
        Key(other_key).decrypt("API_KEY", 1, blob)


def test_key_id(key, other_key):
    k = Key(key)
    assert re.fullmatch(r"[0-9a-f]{12}", k.id)
    assert Key(key).id == k.id, "the id is stable for a key"
    assert Key(other_key).id != k.id
    assert k.id not in key and k.id != key
    assert key not in repr(k)


@pytest.mark.parametrize("text", ["", "   ", "short", "a" * 44, None, 12345])
def test_malformed_keys_are_rejected(text):
    with pytest.raises(EncryptionKeyError) as info:
        Key(text)
    assert "datasette secrets generate-encryption-key" in str(info.value)


def test_surrounding_whitespace_in_key_is_ignored(key):
    assert Key(f"  {key}\n").id == Key(key).id


def test_keyring_encrypts_with_its_key_and_decrypts_by_key_id(key):
    keyring = Keyring([Key(key)])
    key_id, blob = keyring.encrypt("API_KEY", 3, "value")
    assert key_id == Key(key).id
    assert keyring.decrypt("API_KEY", 3, key_id, blob) == "value"


def test_keyring_unknown_key_id(key):
    keyring = Keyring([Key(key)])
    _, blob = keyring.encrypt("API_KEY", 1, "value")
    with pytest.raises(SecretDecryptionError) as info:
        keyring.decrypt("API_KEY", 1, "0123456789ab", blob)
    assert info.value.key_id == "0123456789ab"
    assert "API_KEY" in str(info.value) and "0123456789ab" in str(info.value)


def test_keyring_decrypts_legacy_fernet_tokens(key, other_key):
    token = Fernet(key).encrypt(b"legacy")
    assert Keyring([Key(key)]).decrypt("ANY_NAME", 1, "default", token) == "legacy"
    assert Keyring([Key(key)]).decrypt("ANY_NAME", 1, "default", token.decode()) == "legacy"
    with pytest.raises(SecretDecryptionError) as info:
        Keyring([Key(other_key)]).decrypt("ANY_NAME", 1, "default", token)
    assert info.value.key_id == "default"


def test_empty_keyring_cannot_decrypt(key):
    _, blob = Keyring([Key(key)]).encrypt("API_KEY", 1, "value")
    with pytest.raises(SecretDecryptionError):
        Keyring([]).decrypt("API_KEY", 1, Key(key).id, blob)
    with pytest.raises(SecretDecryptionError):
        Keyring([]).decrypt("API_KEY", 1, "default", Fernet(key).encrypt(b"x"))


def test_ciphertext_is_bound_to_the_version(key):
    """An older version's ciphertext copied into a newer row fails: no silent rollback."""
    k = Key(key)
    blob = k.encrypt("API_KEY", 1, "old value")
    with pytest.raises(SecretDecryptionError) as info:
        k.decrypt("API_KEY", 2, blob)
    assert "another version" in str(info.value)
    assert k.decrypt("API_KEY", 1, blob) == "old value"


def test_name_bound_rows_of_the_first_format_still_decrypt(key):
    """Rows this plugin wrote before versions were bound: 0x01, the name as associated data."""
    import os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from datasette_secrets.crypto import _derive

    raw = __import__("base64").urlsafe_b64decode(key)
    nonce = os.urandom(12)
    aead = AESGCM(_derive(raw, b"datasette-secrets value key v1"))
    blob = b"\x01" + nonce + aead.encrypt(nonce, b"first format", b"datasette-secrets:API_KEY")
    k = Key(key)
    assert k.decrypt("API_KEY", 7, blob) == "first format"
    with pytest.raises(SecretDecryptionError):
        k.decrypt("OTHER_KEY", 7, blob)
