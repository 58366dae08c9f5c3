"""The aws_kms key provider against moto's KMS (``mock_aws``): a site with no
key on its disk, the encryption context binding a wrapped key to its key id,
rewrap-key through ReEncrypt, and a refusal that names the key. (moto does
not enforce a disabled key; a revoked credential is tested against a real
OpenBao in test_vault_transit.py, and a refusal in test_key_provider.py.)"""

import asyncio
import sqlite3

import boto3
import datasette_test
import pytest
from click.testing import CliRunner
from datasette.cli import cli
from moto import mock_aws

from datasette_secrets import SecretKeyUnavailableError, get_secret
from datasette_secrets.provider_aws import AwsKms
from datasette_secrets.providers import KeyProviderError, context_for
from secret_helpers import DEFAULT_PERMISSIONS, new_database, store_value, write_config

VALUE = "sk-kms-0123456789abcdef"
REGION = "eu-west-1"


@pytest.fixture
def kms(monkeypatch):
    """moto's KMS, with an alias/datasette-secrets key; no real credential anywhere."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing-secret-never-shown",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("kms", region_name=REGION)
        key_id = client.create_key(Description="datasette-secrets")["KeyMetadata"]["KeyId"]
        client.create_alias(AliasName="alias/datasette-secrets", TargetKeyId=key_id)
        yield client


CONFIG = {"key_provider": {"aws_kms": {"key_id": "alias/datasette-secrets", "region": REGION}}}


def site(internal_db, config=CONFIG):
    return datasette_test.Datasette(
        plugin_config={"datasette-secrets": config}, permissions=DEFAULT_PERMISSIONS, internal=internal_db
    )


@pytest.mark.asyncio
async def test_a_site_runs_with_its_data_key_wrapped_by_kms(kms, tmp_path, example_plugin):
    internal_db = new_database(tmp_path / "internal.db")
    ds = site(internal_db)
    await ds.invoke_startup()
    await store_value(ds, "API_KEY", VALUE)
    await ds.invoke_shutdown()
    row = sqlite3.connect(internal_db).execute(
        "select provider, provider_key, wrapped from datasette_secrets_wrapped_keys"
    ).fetchone()
    assert row[0] == "aws_kms" and row[1] == "alias/datasette-secrets" and isinstance(row[2], bytes)
    fresh = site(internal_db)
    assert await get_secret(fresh, "API_KEY") == VALUE
    await fresh.invoke_shutdown()


@pytest.mark.asyncio
async def test_the_encryption_context_binds_a_wrapped_key_to_its_key_id(kms):
    provider = AwsKms({"key_id": "alias/datasette-secrets", "region": REGION})
    blob = await provider.wrap(b"a data key", context_for("aaaaaaaaaaaa"))
    assert await provider.unwrap(blob, context_for("aaaaaaaaaaaa")) == b"a data key"
    with pytest.raises(KeyProviderError) as raised:
        await provider.unwrap(blob, context_for("bbbbbbbbbbbb"))
    assert raised.value.denied and "alias/datasette-secrets" in str(raised.value)
    # ReEncrypt keeps the binding.
    again = await provider.rewrap(blob, context_for("aaaaaaaaaaaa"))
    assert await provider.unwrap(again, context_for("aaaaaaaaaaaa")) == b"a data key"
    with pytest.raises(KeyProviderError):
        await provider.unwrap(again, context_for("bbbbbbbbbbbb"))


def test_rewrap_key_through_reencrypt(kms, tmp_path, example_plugin):
    internal_db = new_database(tmp_path / "internal.db")
    options = ["--internal", internal_db, "-c", write_config(tmp_path, CONFIG)]
    result = CliRunner().invoke(cli, ["secrets", "set", "API_KEY", *options], input=VALUE)
    assert result.exit_code == 0, result.output
    (before,) = sqlite3.connect(internal_db).execute("select key_id, wrapped from datasette_secrets_wrapped_keys").fetchall()
    result = CliRunner().invoke(cli, ["secrets", "rewrap-key", *options])
    assert result.exit_code == 0, result.output
    assert f"Rewrapped data key {before[0]}." in result.output
    (after,) = sqlite3.connect(internal_db).execute("select key_id, wrapped from datasette_secrets_wrapped_keys").fetchall()
    assert after[0] == before[0] and after[1] != before[1]
    assert "testing-secret-never-shown" not in result.output

    async def read():
        ds = site(internal_db)
        try:
            return await get_secret(ds, "API_KEY")
        finally:
            await ds.invoke_shutdown()

    assert asyncio.run(read()) == VALUE


@pytest.mark.asyncio
async def test_a_refusal_names_the_key_never_a_credential(kms, tmp_path, example_plugin, caplog):
    internal_db = new_database(tmp_path / "internal.db")
    ds = site(internal_db)
    await ds.invoke_startup()
    await store_value(ds, "API_KEY", VALUE)
    await ds.invoke_shutdown()
    # The same database where the configured key is another (a copy on another account, say).
    kms.create_key(Description="another")  # exists, but no alias points at it
    elsewhere = site(internal_db, {"key_provider": {"aws_kms": {"key_id": "alias/not-this-one", "region": REGION}}})
    await elsewhere.invoke_startup()
    with pytest.raises(SecretKeyUnavailableError) as raised:
        await get_secret(elsewhere, "API_KEY")
    assert "aws_kms key 'alias/not-this-one' in eu-west-1: Decrypt refused" in str(raised.value)
    assert "testing-secret-never-shown" not in str(raised.value) + caplog.text
    await elsewhere.invoke_shutdown()
