"""The key panel at /-/secrets/-/keys: keys by id, versions per key, re-encryption."""

import pytest
from cryptography.fernet import Fernet

from datasette_secrets import get_secret
from datasette_secrets.crypto import Key
from secret_helpers import (
    HX,
    MANAGER,
    OTHER,
    ROOT,
    audit_rows,
    flash_messages,
    follow,
    insert_row,
    legacy_token,
    parse,
    secret_rows,
    store_value,
)


def key_rows(response):
    """{key id: (configured as, stored versions)} from the panel's table."""
    out = {}
    for tr in parse(response).select("table.secrets-key-table tbody tr"):
        cells = {td["data-label"]: td.get_text(" ", strip=True) for td in tr.find_all("td")}
        out[cells["Key id"]] = (cells["Configured as"], cells["Stored versions"])
    return out


@pytest.fixture
def new_key():
    return Fernet.generate_key().decode()


async def rotated_instance(make_datasette, tmp_path, old_key, new_key):
    """Values stored under old_key; then a Datasette with new_key current, old_key previous."""
    internal = str(tmp_path / "internal.db")
    before = make_datasette(key=old_key, internal=internal)
    await store_value(before, "API_KEY", "api-one")
    await store_value(before, "API_KEY", "api-two")
    await store_value(before, "OTHER_KEY", "other-one")
    after = make_datasette(key=new_key, internal=internal, settings={"previous_encryption_keys": [old_key]})
    await after.invoke_startup()
    return after


@pytest.mark.asyncio
async def test_panel_counts_versions_per_key_and_re_encrypts(example_plugin, make_datasette, tmp_path, key, new_key):
    ds = await rotated_instance(make_datasette, tmp_path, key, new_key)
    old_id, new_id = Key(key).id, Key(new_key).id
    await insert_row(ds, "OTHER_KEY", legacy_token(key, "legacy"), "default", version=2, deleted_at="2024-01-01 00:00:00")
    panel = await ds.client.get("/-/secrets/-/keys", actor=MANAGER)
    assert panel.status_code == 200
    assert key_rows(panel) == {
        new_id: ("current key (encryption_key)", "0"),
        old_id: ("previous key (previous_encryption_keys)", "3"),
        "default": ("legacy Fernet rows of datasette-secrets 0.2/0.3, read with any configured key", "1"),
    }
    assert "4 stored versions are not yet under the current key" in panel.text
    assert "safe to remove" not in panel.text
    assert key not in panel.text and new_key not in panel.text, "ids only, never a key"

    response = await ds.client.post("/-/secrets/-/keys/rotate", actor=MANAGER, headers=HX)
    assert response.status_code == 200
    soup = parse(response)
    assert soup.find("html") is None
    status = soup.find("hx-partial")
    assert status["hx-target"] == "#secrets-status"
    assert status.select_one("p.message-info").get_text() == "Re-encrypted 4 stored versions with the current key."
    assert key_rows(response) == {
        new_id: ("current key (encryption_key)", "4"),
        old_id: ("previous key (previous_encryption_keys)", "0"),
    }
    assert soup.select_one(".secrets-safe-to-remove").get_text() == (
        f"No rows use key {old_id}: it is safe to remove from the configuration."
    )
    assert "Every stored version is encrypted with the current key." in response.text
    assert (await audit_rows(ds))[-1]["action"] == "rotate"
    assert await get_secret(ds, "API_KEY") == "api-two"

    only_new = make_datasette(key=new_key, internal=str(tmp_path / "internal.db"))
    assert await get_secret(only_new, "API_KEY") == "api-two"


@pytest.mark.asyncio
async def test_without_javascript_the_result_is_a_flash_message(example_plugin, make_datasette, tmp_path, key, new_key):
    ds = await rotated_instance(make_datasette, tmp_path, key, new_key)
    response = await ds.client.post("/-/secrets/-/keys/rotate", actor=ROOT)
    assert response.status_code == 302 and response.headers["location"] == "/-/secrets/-/keys"
    page = await follow(ds, response)
    assert flash_messages(page) == ["Re-encrypted 3 stored versions with the current key."]


@pytest.mark.asyncio
async def test_undecryptable_versions_are_named_and_left_alone(example_plugin, make_datasette, key, other_key):
    ds = make_datasette(key=key)
    await store_value(ds, "API_KEY", "fine")
    await insert_row(ds, "OTHER_KEY", Key(other_key).encrypt("OTHER_KEY", 1, "lost"), Key(other_key).id)
    panel = await ds.client.get("/-/secrets/-/keys", actor=ROOT)
    assert key_rows(panel)[Key(other_key).id] == ("not configured : these versions cannot be read", "1")
    lost_before = [r for r in await secret_rows(ds) if r["name"] == "OTHER_KEY"]
    response = await ds.client.post("/-/secrets/-/keys/rotate", actor=ROOT, headers=HX)
    warning = parse(response).select_one("hx-partial p.message-warning").get_text()
    assert "1 could not be decrypted by any configured key" in warning
    assert f"row ids {lost_before[0]['id']}" in warning
    assert [r for r in await secret_rows(ds) if r["name"] == "OTHER_KEY"] == lost_before


@pytest.mark.asyncio
async def test_without_a_key(example_plugin, make_datasette):
    ds = make_datasette(key=None)
    panel = await ds.client.get("/-/secrets/-/keys", actor=ROOT)
    assert "No encryption key is configured" in panel.text
    assert parse(panel).select_one("form.secrets-rotate") is None
    assert (await ds.client.post("/-/secrets/-/keys/rotate", actor=ROOT)).status_code == 409


@pytest.mark.asyncio
async def test_only_managers_and_only_post(ds):
    await store_value(ds, "API_KEY", "value")
    for actor in (None, OTHER):
        assert (await ds.client.get("/-/secrets/-/keys", actor=actor)).status_code == 403
        assert (await ds.client.post("/-/secrets/-/keys/rotate", actor=actor)).status_code == 403
    before = await secret_rows(ds), await audit_rows(ds)
    for method in ("GET", "HEAD", "PUT"):
        assert (await ds.client.request(method, "/-/secrets/-/keys/rotate", actor=ROOT)).status_code == 405
    assert (await secret_rows(ds), await audit_rows(ds)) == before
    index = parse(await ds.client.get("/-/secrets", actor=ROOT))
    assert index.find("a", string="Encryption keys")["href"] == "/-/secrets/-/keys"
