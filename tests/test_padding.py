"""Lengths stay private: every value is padded to whole 64-byte blocks before
encryption (its length inside the ciphertext), rows stored before padding
still read, ``rotate-key`` pads them, and startup warns when the database
holding the secrets may be queried by anonymous or by any signed-in actor."""

import asyncio
import base64
import logging
import os
import sqlite3

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from datasette.cli import cli

from datasette_secrets import Secret, SecretDecryptionError, SecretTamperedError, get_secret, rotation
from datasette_secrets.core import ready
from datasette_secrets.crypto import Key, Keyring, _aad, _derive
from secret_helpers import (
    ROOT,
    first_format,
    insert_row,
    legacy_token,
    parse,
    secret_rows,
    secrets_db,
    secrets_plugin,
    store_value,
    write_config,
)

# The bytes a ciphertext adds to its padded value: format byte, nonce, padding count, tag.
OVERHEAD = 1 + 12 + 1 + 16


def unpadded(key, name, version, value, owner=None):
    """A ciphertext in the version-bound format written before padding (0x02)."""
    aead = AESGCM(_derive(base64.urlsafe_b64decode(key), b"datasette-secrets value key v1"))
    nonce = os.urandom(12)
    return b"\x02" + nonce + aead.encrypt(nonce, value.encode(), _aad(name, version, owner))


# The format


@pytest.mark.parametrize("owner", [None, "alice"])
def test_values_of_1_and_60_bytes_encrypt_to_the_same_length(key, owner):
    k = Key(key)
    assert len(k.encrypt("API_KEY", 1, "x", owner)) == len(k.encrypt("API_KEY", 1, "y" * 60, owner)) == OVERHEAD + 64


@pytest.mark.parametrize("owner", [None, "alice"])
def test_values_of_64_and_65_bytes_differ_by_one_block(key, owner):
    k = Key(key)
    assert len(k.encrypt("API_KEY", 1, "z" * 65, owner)) - len(k.encrypt("API_KEY", 1, "z" * 64, owner)) == 64


@pytest.mark.parametrize(
    "value", ["", "a", "é" * 32, "b" * 63, "c" * 64, "d" * 65, "line one\nline two\x00", "x" * 16_384]
)
@pytest.mark.parametrize("owner", [None, "alice"])
def test_padded_values_round_trip(key, value, owner):
    keyring = Keyring([Key(key)])
    key_id, blob = keyring.encrypt("API_KEY", 3, value, owner)
    assert blob[:1] == b"\x03"
    assert (len(blob) - OVERHEAD) % 64 == 0
    assert keyring.decrypt("API_KEY", 3, key_id, blob, owner) == value


def test_a_padded_row_relabelled_unpadded_fails(key):
    """The format byte is authenticated: an attacker cannot have the padding read as the value."""
    k = Key(key)
    blob = k.encrypt("API_KEY", 1, "value")
    with pytest.raises(SecretDecryptionError):
        k.decrypt("API_KEY", 1, b"\x02" + blob[1:])
    with pytest.raises(SecretDecryptionError):
        k.decrypt("API_KEY", 1, b"\x03" + unpadded(key, "API_KEY", 1, "value")[1:])


@pytest.mark.parametrize("owner", [None, "alice"])
def test_unpadded_rows_still_decrypt(key, owner):
    keyring = Keyring([Key(key)])
    blob = unpadded(key, "API_KEY", 2, "before padding", owner)
    assert keyring.decrypt("API_KEY", 2, Key(key).id, blob, owner) == "before padding"
    with pytest.raises(SecretDecryptionError):  # still bound to its version
        keyring.decrypt("API_KEY", 3, Key(key).id, blob, owner)


def test_first_format_and_fernet_rows_still_decrypt(key):
    keyring = Keyring([Key(key)])
    assert keyring.decrypt("API_KEY", 1, Key(key).id, first_format(key, "API_KEY", "first")) == "first"
    assert keyring.decrypt("API_KEY", 1, "default", legacy_token(key, "fernet")) == "fernet"


# Served through get_secret, with the planted-row check


@pytest.mark.asyncio
async def test_padded_rows_after_unpadded_ones_are_served(example_plugin, make_datasette, key, tmp_path):
    path = str(tmp_path / "internal.db")
    ds = make_datasette(internal=path)
    await ds.invoke_startup()
    await insert_row(ds, "API_KEY", unpadded(key, "API_KEY", 1, "unpadded-1"), Key(key).id, version=1)
    await insert_row(ds, "API_KEY", unpadded(key, "API_KEY", 2, "unpadded-2"), Key(key).id, version=2)
    assert await get_secret(ds, "API_KEY") == "unpadded-2"
    await store_value(ds, "API_KEY", "padded-3")
    assert await get_secret(ds, "API_KEY") == "padded-3"
    # and in a process that served nothing before
    assert await get_secret(make_datasette(internal=path), "API_KEY") == "padded-3"


@pytest.mark.asyncio
@pytest.mark.parametrize("row_format", ["fernet", "first format"])
async def test_an_old_row_after_padded_ones_is_refused(example_plugin, make_datasette, key, tmp_path, row_format):
    """By a process that served nothing: it learns from the database that padded rows exist."""
    path = str(tmp_path / "internal.db")
    first = make_datasette(internal=path)
    await first.invoke_startup()
    await store_value(first, "API_KEY", "padded-1")
    if row_format == "fernet":
        blob, key_id = legacy_token(key, "planted-value"), "default"
    else:
        blob, key_id = first_format(key, "API_KEY", "planted-value"), Key(key).id
    await insert_row(first, "API_KEY", blob, key_id, version=2)
    with pytest.raises(SecretTamperedError) as info:
        await get_secret(make_datasette(internal=path), "API_KEY")
    assert "old format" in str(info.value) and "planted-value" not in str(info.value)


# rotate-key pads what was stored before


PERSONAL = Secret("AI_KEY", "Your own AI key", personal=True)
OLD_VALUES = {"API_KEY": ["a", "sixty-" + "x" * 54], "OTHER_KEY": ["y" * 20]}
OWN_VALUES = {"alice": "sk-" + "q" * 40, "bob": "b"}


async def unpadded_database(make_datasette, key, path):
    """Shared and own values stored before padding, all under the current key; the Datasette."""
    ds = make_datasette(internal=path)
    await ds.invoke_startup()
    key_id = Key(key).id
    for name, values in OLD_VALUES.items():
        for version, value in enumerate(values, 1):
            await insert_row(ds, name, unpadded(key, name, version, value), key_id, version=version)
    for owner, value in OWN_VALUES.items():
        await secrets_db(ds).execute_write(
            "insert into datasette_secrets_personal (name, actor_id, version, encrypted, "
            "encryption_key_name, created_at) values ('AI_KEY', ?, 1, ?, ?, datetime('now'))",
            [owner, unpadded(key, "AI_KEY", 1, value, owner), key_id],
        )
    return ds


def stored_lengths(path):
    """{(table, name, owner, version): ciphertext length}, read as anyone with SQL could."""
    conn = sqlite3.connect(path)
    rows = conn.execute(
        "select 'shared', name, null, version, length(encrypted), substr(encrypted, 1, 1) from datasette_secrets "
        "union all select 'own', name, actor_id, version, length(encrypted), substr(encrypted, 1, 1) "
        "from datasette_secrets_personal"
    ).fetchall()
    conn.close()
    return {row[:4]: (row[4], row[5]) for row in rows}


def rotate_key(tmp_path, path, key):
    config = write_config(tmp_path, {"encryption_key": key})
    return CliRunner().invoke(cli, ["secrets", "rotate-key", "--internal", path, "-c", config])


def test_rotate_key_pads_unpadded_rows_under_the_current_key(
    register_plugin, example_plugin, make_datasette, key, tmp_path
):
    register_plugin(secrets_plugin(PERSONAL), "personal-plugin")
    path = str(tmp_path / "internal.db")

    async def store_before_padding():
        ds = await unpadded_database(make_datasette, key, path)
        pending = await rotation.count_to_rotate(await ready(ds))
        await ds.invoke_shutdown()
        return pending

    assert asyncio.run(store_before_padding()) == 5  # under the current key, yet not padded
    before = stored_lengths(path)
    assert len({length for length, _ in before.values()}) > 1  # before: the lengths show

    result = rotate_key(tmp_path, path, key)

    assert result.exit_code == 0, result.output
    assert "5 versions to re-encrypt" in result.output
    after = stored_lengths(path)
    assert after.keys() == before.keys()
    # every value is under 64 bytes: no ciphertext length tells one from another
    assert set(after.values()) == {(OVERHEAD + 64, b"\x03")}

    async def read(fresh):
        shared = {name: await get_secret(fresh, name) for name in OLD_VALUES}
        own = {owner: await get_secret(fresh, "AI_KEY", owner) for owner in OWN_VALUES}
        return shared, own

    assert asyncio.run(read(make_datasette(internal=path))) == (
        {name: values[-1] for name, values in OLD_VALUES.items()},
        OWN_VALUES,
    )
    again = rotate_key(tmp_path, path, key)
    assert again.exit_code == 0 and "0 versions to re-encrypt" in again.output, again.output


@pytest.mark.asyncio
async def test_the_key_panel_counts_unpadded_rows_to_re_encrypt(example_plugin, make_datasette, key):
    ds = make_datasette()
    await ds.invoke_startup()
    await store_value(ds, "API_KEY", "padded")
    await insert_row(ds, "OTHER_KEY", unpadded(key, "OTHER_KEY", 1, "unpadded"), Key(key).id)
    panel = parse(await ds.client.get("/-/secrets/-/keys", actor=ROOT))
    assert "1 stored version is not yet under the current key" in panel.get_text()
    assert (await ds.client.post("/-/secrets/-/keys/rotate", actor=ROOT)).status_code == 302  # no htmx: back to the key panel
    rows = await secret_rows(ds)
    assert [bytes(r["encrypted"])[:1] for r in rows] == [b"\x03", b"\x03"]
    assert await get_secret(ds, "OTHER_KEY") == "unpadded"


# The startup warning: who may query a `database:` of your own


def vault(tmp_path):
    path = str(tmp_path / "vault.db")
    sqlite3.connect(path).close()
    return path


def exposure_warnings(caplog):
    return [r.getMessage() for r in caplog.records if "may be queried with SQL" in r.getMessage()]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "config, who",
    [
        ({}, "anonymous visitors"),  # Datasette's default
        ({"databases": {"vault": {"allow": {"id": "*"}}}}, "any signed-in actor"),
        ({"permissions": {"execute-sql": {"id": "*"}}}, "any signed-in actor"),
    ],
    ids=["default", "signed-in database", "signed-in execute-sql"],
)
async def test_startup_warns_when_the_secrets_database_may_be_queried(
    example_plugin, make_datasette, tmp_path, caplog, config, who
):
    permissions = dict(config.pop("permissions", {}))
    ds = make_datasette(
        files=[vault(tmp_path)], settings={"database": "vault"}, config=config,
        permissions={**permissions, "manage-secrets": {"id": "root"}, "reveal-secrets": {"id": "root"}},
    )
    with caplog.at_level(logging.WARNING, logger="datasette_secrets"):
        await ds.invoke_startup()
    warnings = exposure_warnings(caplog)
    assert len(warnings) == 1
    assert f"'vault' may be queried with SQL by {who}" in warnings[0]
    assert "rotate-key" in warnings[0]
    panel = parse(await ds.client.get("/-/secrets/-/keys", actor=ROOT))
    assert f"may be queried with SQL by {who}" in panel.select_one(".secrets-exposed").get_text()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "config",
    [
        {"databases": {"vault": {"allow": {"id": "root"}}}},
        {"permissions": {"execute-sql": {"id": "root"}}},
        {"databases": {"vault": {"permissions": {"view-database": {"id": "root"}}}}},
    ],
    ids=["database allow", "execute-sql", "view-database"],
)
async def test_no_warning_when_the_config_keeps_the_database_private(
    example_plugin, make_datasette, tmp_path, caplog, config
):
    permissions = dict(config.pop("permissions", {}))
    ds = make_datasette(
        files=[vault(tmp_path)], settings={"database": "vault"}, config=config,
        permissions={**permissions, "manage-secrets": {"id": "root"}, "reveal-secrets": {"id": "root"}},
    )
    with caplog.at_level(logging.WARNING, logger="datasette_secrets"):
        await ds.invoke_startup()
    assert exposure_warnings(caplog) == []
    panel = parse(await ds.client.get("/-/secrets/-/keys", actor=ROOT))
    assert panel.select_one(".secrets-exposed") is None


@pytest.mark.asyncio
async def test_no_warning_for_the_internal_database(example_plugin, make_datasette, caplog):
    with caplog.at_level(logging.WARNING, logger="datasette_secrets"):
        await make_datasette().invoke_startup()
    assert exposure_warnings(caplog) == []
