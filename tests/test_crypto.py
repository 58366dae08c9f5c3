"""datasette_secrets.crypto: keys, key ids and authenticated encryption."""

import re

import pytest
from cryptography.fernet import Fernet

from datasette_secrets import EncryptionKeyError, SecretDecryptionError
from datasette_secrets.crypto import Key, Keyring


def test_round_trip(key):
    k = Key(key)
    blob = k.encrypt("API_KEY", "sk-ünïcødé-value")
    assert isinstance(blob, bytes)
    assert b"sk-" not in blob
    assert k.decrypt("API_KEY", blob) == "sk-ünïcødé-value"


def test_same_value_encrypts_differently_each_time(key):
    k = Key(key)
    assert k.encrypt("API_KEY", "same") != k.encrypt("API_KEY", "same")


def test_ciphertext_is_bound_to_the_name(key):
    k = Key(key)
    blob = k.encrypt("API_KEY", "value")
    with pytest.raises(SecretDecryptionError) as info:
        k.decrypt("OTHER_KEY", blob)
    assert info.value.name == "OTHER_KEY"
    assert info.value.key_id == k.id


def test_other_key_cannot_decrypt(key, other_key):
    blob = Key(key).encrypt("API_KEY", "value")
    with pytest.raises(SecretDecryptionError):
        Key(other_key).decrypt("API_KEY", blob)


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
    key_id, blob = keyring.encrypt("API_KEY", "value")
    assert key_id == Key(key).id
    assert keyring.decrypt("API_KEY", key_id, blob) == "value"


def test_keyring_unknown_key_id(key):
    keyring = Keyring([Key(key)])
    _, blob = keyring.encrypt("API_KEY", "value")
    with pytest.raises(SecretDecryptionError) as info:
        keyring.decrypt("API_KEY", "0123456789ab", blob)
    assert info.value.key_id == "0123456789ab"
    assert "API_KEY" in str(info.value) and "0123456789ab" in str(info.value)


def test_keyring_decrypts_legacy_fernet_tokens(key, other_key):
    token = Fernet(key).encrypt(b"legacy")
    assert Keyring([Key(key)]).decrypt("ANY_NAME", "default", token) == "legacy"
    assert Keyring([Key(key)]).decrypt("ANY_NAME", "default", token.decode()) == "legacy"
    with pytest.raises(SecretDecryptionError) as info:
        Keyring([Key(other_key)]).decrypt("ANY_NAME", "default", token)
    assert info.value.key_id == "default"


def test_empty_keyring_cannot_decrypt(key):
    _, blob = Keyring([Key(key)]).encrypt("API_KEY", "value")
    with pytest.raises(SecretDecryptionError):
        Keyring([]).decrypt("API_KEY", Key(key).id, blob)
    with pytest.raises(SecretDecryptionError):
        Keyring([]).decrypt("API_KEY", "default", Fernet(key).encrypt(b"x"))
