"""get_secret() and get_secrets(): the API that other plugins call."""

import logging
import re
import time

import pytest

from datasette_secrets import Secret, SecretDecryptionError, flush_usage, get_secret, get_secrets
from datasette_secrets.crypto import Key
from secret_helpers import (
    EXAMPLE_SECRETS,
    insert_row,
    legacy_token,
    secret_rows,
    store_value,
    usage_row,
    written_between,
)


@pytest.mark.asyncio
async def test_get_secrets_lists_registered_secrets(ds):
    assert await get_secrets(ds) == EXAMPLE_SECRETS


def test_secret_fields_positional_order():
    secret = Secret("NAME", "desc", "https://example.com/", "Get it")
    assert secret.name == "NAME"
    assert secret.description == "desc"
    assert secret.obtain_url == "https://example.com/"
    assert secret.obtain_label == "Get it"
    assert Secret("NAME") == Secret("NAME", None, None, None)


@pytest.mark.asyncio
async def test_unset_secret_is_none(ds):
    assert await get_secret(ds, "API_KEY") is None


@pytest.mark.asyncio
async def test_stored_value_is_returned(ds):
    await store_value(ds, "API_KEY", "sk-stored-value")
    assert await get_secret(ds, "API_KEY") == "sk-stored-value"
    assert await get_secret(ds, "OTHER_KEY") is None


@pytest.mark.asyncio
async def test_newest_version_wins(ds):
    await store_value(ds, "API_KEY", "first")
    await store_value(ds, "API_KEY", "second")
    await store_value(ds, "API_KEY", "third")
    assert await get_secret(ds, "API_KEY") == "third"
    assert [row["version"] for row in await secret_rows(ds, "API_KEY")] == [1, 2, 3]


@pytest.mark.asyncio
async def test_unregistered_name_is_none_even_if_stored_or_in_environment(ds, key, monkeypatch):
    await insert_row(ds, "NOT_REGISTERED", Key(key).encrypt("NOT_REGISTERED", 1, "value"), Key(key).id)
    monkeypatch.setenv("DATASETTE_SECRETS_NOT_REGISTERED", "from-env")
    assert await get_secret(ds, "NOT_REGISTERED") is None


@pytest.mark.asyncio
async def test_environment_variable_wins_over_stored_value(ds, monkeypatch):
    await store_value(ds, "API_KEY", "stored")
    monkeypatch.setenv("DATASETTE_SECRETS_API_KEY", "from-env")
    assert await get_secret(ds, "API_KEY") == "from-env"


@pytest.mark.asyncio
async def test_empty_environment_variable_is_ignored(ds, monkeypatch):
    await store_value(ds, "API_KEY", "stored")
    monkeypatch.setenv("DATASETTE_SECRETS_API_KEY", "")
    assert await get_secret(ds, "API_KEY") == "stored"
    monkeypatch.setenv("DATASETTE_SECRETS_OTHER_KEY", "")
    assert await get_secret(ds, "OTHER_KEY") is None


@pytest.mark.asyncio
async def test_environment_variable_works_without_a_key(example_plugin, make_datasette, monkeypatch):
    ds = make_datasette(key=None)
    await ds.invoke_startup()
    monkeypatch.setenv("DATASETTE_SECRETS_ENV_KEY", "from-env")
    assert await get_secret(ds, "ENV_KEY") == "from-env"
    assert await get_secret(ds, "API_KEY") is None


@pytest.mark.asyncio
async def test_use_is_recorded(ds):
    await store_value(ds, "API_KEY", "v1")
    await store_value(ds, "API_KEY", "v2")
    began = time.time()
    assert await get_secret(ds, "API_KEY", actor_id="alice") == "v2"
    await flush_usage(ds)
    use = await usage_row(ds, "API_KEY")
    assert (use["last_used_by"], use["version"]) == ("alice", 2)  # the version that was read
    assert written_between(use["last_used_at"], began)
    # the published plugin's per-version columns are kept for its readers, not written
    for row in await secret_rows(ds, "API_KEY"):
        assert row["last_used_at"] is None and row["last_used_by"] is None


@pytest.mark.asyncio
async def test_use_without_actor_records_null(ds):
    await store_value(ds, "API_KEY", "value")
    await get_secret(ds, "API_KEY", actor_id="alice")
    began = time.time()
    assert await get_secret(ds, "API_KEY") == "value"
    await flush_usage(ds)
    use = await usage_row(ds, "API_KEY")
    assert use["last_used_by"] is None
    assert written_between(use["last_used_at"], began)


@pytest.mark.asyncio
async def test_deleted_secret_is_none_or_environment(ds, monkeypatch):
    await store_value(ds, "API_KEY", "value")
    response = await ds.client.post("/-/secrets/API_KEY/delete", actor={"id": "root"})
    assert response.status_code == 302
    assert await get_secret(ds, "API_KEY") is None
    monkeypatch.setenv("DATASETTE_SECRETS_API_KEY", "from-env")
    assert await get_secret(ds, "API_KEY") == "from-env"


@pytest.mark.asyncio
async def test_newest_live_version_is_used_when_newer_rows_are_deleted(ds, key):
    k = Key(key)
    await insert_row(ds, "API_KEY", k.encrypt("API_KEY", 1, "one"), k.id, version=1)
    await insert_row(ds, "API_KEY", k.encrypt("API_KEY", 2, "two"), k.id, version=2)
    await insert_row(
        ds, "API_KEY", k.encrypt("API_KEY", 3, "three"), k.id, version=3, deleted_at="2024-01-01 00:00:00"
    )
    assert await get_secret(ds, "API_KEY") == "two"


@pytest.mark.asyncio
async def test_no_key_configured_returns_none_and_warns_once(example_plugin, make_datasette, key, caplog):
    ds = make_datasette(key=None)
    await ds.invoke_startup()
    await insert_row(ds, "API_KEY", Key(key).encrypt("API_KEY", 1, "value"), Key(key).id)
    with caplog.at_level(logging.WARNING, logger="datasette_secrets"):
        assert await get_secret(ds, "API_KEY") is None
        assert await get_secret(ds, "API_KEY") is None
    warnings = [
        r for r in caplog.records if r.name == "datasette_secrets" and r.levelno == logging.WARNING
    ]
    assert len(warnings) == 1
    # once per Datasette instance: a second instance warns again
    caplog.clear()
    second = make_datasette(key=None)
    await second.invoke_startup()
    await insert_row(second, "API_KEY", Key(key).encrypt("API_KEY", 1, "value"), Key(key).id)
    with caplog.at_level(logging.WARNING, logger="datasette_secrets"):
        assert await get_secret(second, "API_KEY") is None
    assert len([r for r in caplog.records if r.name == "datasette_secrets"]) == 1


@pytest.mark.asyncio
async def test_no_key_and_nothing_stored_does_not_warn(example_plugin, make_datasette, caplog):
    ds = make_datasette(key=None)
    with caplog.at_level(logging.WARNING, logger="datasette_secrets"):
        assert await get_secret(ds, "API_KEY") is None
    assert not [r for r in caplog.records if r.name == "datasette_secrets"]


@pytest.mark.asyncio
async def test_wrong_key_raises(example_plugin, make_datasette, key, other_key, tmp_path):
    internal = str(tmp_path / "internal.db")
    first = make_datasette(key=key, internal=internal)
    await store_value(first, "API_KEY", "stored-with-first-key")
    key_id = (await secret_rows(first, "API_KEY"))[0]["encryption_key_name"]

    second = make_datasette(key=other_key, internal=internal)
    with pytest.raises(SecretDecryptionError) as info:
        await get_secret(second, "API_KEY")
    assert info.value.name == "API_KEY"
    assert info.value.key_id == key_id
    assert "API_KEY" in str(info.value)
    assert key_id in str(info.value)
    # the right key still reads it
    third = make_datasette(key=key, internal=internal)
    assert await get_secret(third, "API_KEY") == "stored-with-first-key"


def flip(blob, index):
    blob = bytearray(blob)
    blob[index] ^= 0x01
    return bytes(blob)


TAMPERINGS = {
    "last byte flipped": lambda blob: flip(blob, -1),
    "middle byte flipped": lambda blob: flip(blob, len(blob) // 2),
    "nonce byte flipped": lambda blob: flip(blob, 3),
    "format byte flipped": lambda blob: flip(blob, 0),
    "tag cut off": lambda blob: blob[:-16],
    "truncated to 6 bytes": lambda blob: blob[:6],
    "one byte left": lambda blob: blob[:1],
    "empty": lambda blob: b"",
    "extra byte": lambda blob: blob + b"\x00",
}


@pytest.mark.asyncio
@pytest.mark.parametrize("tamper", TAMPERINGS.values(), ids=TAMPERINGS.keys())
async def test_tampered_ciphertext_raises(ds, tamper):
    await store_value(ds, "API_KEY", "the-real-value")
    (row,) = await secret_rows(ds, "API_KEY")
    await ds.get_internal_database().execute_write(
        "update datasette_secrets set encrypted = ? where id = ?",
        [tamper(bytes(row["encrypted"])), row["id"]],
    )
    with pytest.raises(SecretDecryptionError) as info:
        await get_secret(ds, "API_KEY")
    assert info.value.name == "API_KEY"
    assert info.value.key_id == row["encryption_key_name"]
    assert "API_KEY" in str(info.value)


@pytest.mark.asyncio
async def test_ciphertext_copied_from_another_secret_raises(ds):
    await store_value(ds, "API_KEY", "value-of-api-key")
    await store_value(ds, "OTHER_KEY", "value-of-other-key")
    (api_row,) = await secret_rows(ds, "API_KEY")
    (other_row,) = await secret_rows(ds, "OTHER_KEY")
    await ds.get_internal_database().execute_write(
        "update datasette_secrets set encrypted = ?, encryption_key_name = ? where id = ?",
        [api_row["encrypted"], api_row["encryption_key_name"], other_row["id"]],
    )
    with pytest.raises(SecretDecryptionError) as info:
        await get_secret(ds, "OTHER_KEY")
    assert info.value.name == "OTHER_KEY"
    assert "OTHER_KEY" in str(info.value)
    assert await get_secret(ds, "API_KEY") == "value-of-api-key"


@pytest.mark.asyncio
async def test_failed_decryption_does_not_record_use(ds):
    await store_value(ds, "API_KEY", "the-real-value")
    (row,) = await secret_rows(ds, "API_KEY")
    await ds.get_internal_database().execute_write(
        "update datasette_secrets set encrypted = ? where id = ?",
        [flip(bytes(row["encrypted"]), -1), row["id"]],
    )
    with pytest.raises(SecretDecryptionError):
        await get_secret(ds, "API_KEY", actor_id="alice")
    await flush_usage(ds)
    assert await usage_row(ds, "API_KEY") is None


@pytest.mark.asyncio
async def test_legacy_fernet_row_decrypts(ds, key):
    await insert_row(ds, "API_KEY", legacy_token(key, "legacy-value"), "default")
    assert await get_secret(ds, "API_KEY", actor_id="bob") == "legacy-value"
    await flush_usage(ds)
    assert (await usage_row(ds, "API_KEY"))["last_used_by"] == "bob"


@pytest.mark.asyncio
async def test_legacy_fernet_row_with_wrong_key_raises(ds, other_key):
    await insert_row(ds, "API_KEY", legacy_token(other_key, "legacy-value"), "default")
    with pytest.raises(SecretDecryptionError) as info:
        await get_secret(ds, "API_KEY")
    assert info.value.name == "API_KEY"
    assert info.value.key_id == "default"
    assert "API_KEY" in str(info.value) and "default" in str(info.value)


@pytest.mark.asyncio
async def test_tampered_legacy_token_raises(ds, key):
    token = legacy_token(key, "legacy-value")
    await insert_row(ds, "API_KEY", token[:-3] + (b"AAA" if token[-3:] != b"AAA" else b"BBB"), "default")
    with pytest.raises(SecretDecryptionError):
        await get_secret(ds, "API_KEY")


@pytest.mark.asyncio
async def test_key_id_is_stored_never_the_key(ds, key):
    await store_value(ds, "API_KEY", "plaintext-must-not-be-stored")
    (row,) = await secret_rows(ds, "API_KEY")
    assert re.fullmatch(r"[0-9a-f]{12}", row["encryption_key_name"])
    assert row["encryption_key_name"] == Key(key).id
    for value in row.values():
        if isinstance(value, (str, bytes)):
            text = value if isinstance(value, str) else bytes(value).decode("latin-1")
            assert key not in text
            assert "plaintext-must-not-be-stored" not in text


@pytest.mark.asyncio
async def test_older_version_copied_into_the_newest_row_raises(ds):
    """Swapping in an old ciphertext cannot silently roll a secret back."""
    await store_value(ds, "API_KEY", "old-value")
    await store_value(ds, "API_KEY", "new-value")
    old, new = await secret_rows(ds, "API_KEY")
    await ds.get_internal_database().execute_write(
        "update datasette_secrets set encrypted = ? where id = ?", [old["encrypted"], new["id"]]
    )
    with pytest.raises(SecretDecryptionError) as info:
        await get_secret(ds, "API_KEY")
    assert "another version" in str(info.value)
