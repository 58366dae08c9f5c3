"""Plugin configuration: the key, its alias, database, reveal and reveal_seconds."""

import base64
import sqlite3

import pytest
from datasette.utils import StartupError

from datasette_secrets import get_secret
from secret_helpers import HX, ROOT, parse, row_of, secret_rows, store_value

PLUGIN_TABLES = (
    "datasette_secrets", "datasette_secrets_audit", "datasette_secrets_usage",
    "datasette_secrets_sqlite_migrations", "datasette_secrets_personal", "datasette_secrets_wrapped_keys",
    "datasette_secrets_generation",
)

MALFORMED_KEYS = {
    "words": "not a key",
    "too short": base64.urlsafe_b64encode(b"x" * 16).decode(),
    "too long": base64.urlsafe_b64encode(b"x" * 48).decode(),
    "missing padding": base64.urlsafe_b64encode(b"x" * 32).decode().rstrip("="),
    "non-ascii": "ключ" * 11,
    "blank": "   ",
}


@pytest.mark.asyncio
@pytest.mark.parametrize("bad_key", MALFORMED_KEYS.values(), ids=MALFORMED_KEYS.keys())
async def test_malformed_key_stops_startup(bad_key, example_plugin, make_datasette):
    ds = make_datasette(key=bad_key)
    with pytest.raises(StartupError) as info:
        await ds.invoke_startup()
    assert "datasette secrets generate-encryption-key" in str(info.value)
    if bad_key.strip():
        assert bad_key not in str(info.value), "the error message should not echo the key"


@pytest.mark.asyncio
async def test_encryption_key_alias(example_plugin, make_datasette, key):
    ds = make_datasette(key=None, settings={"encryption-key": key})
    await ds.invoke_startup()
    await store_value(ds, "API_KEY", "via-alias")
    assert await get_secret(ds, "API_KEY") == "via-alias"


@pytest.mark.asyncio
async def test_malformed_alias_key_stops_startup(example_plugin, make_datasette):
    ds = make_datasette(key=None, settings={"encryption-key": "nope"})
    with pytest.raises(StartupError):
        await ds.invoke_startup()


@pytest.mark.asyncio
async def test_key_from_environment_variable(example_plugin, make_datasette, key, monkeypatch):
    monkeypatch.setenv("MY_SECRETS_KEY", key)
    ds = make_datasette(key=None, settings={"encryption_key": {"$env": "MY_SECRETS_KEY"}})
    await store_value(ds, "API_KEY", "via-env-key")
    assert await get_secret(ds, "API_KEY") == "via-env-key"


@pytest.mark.asyncio
async def test_same_key_reads_values_after_restart(example_plugin, make_datasette, key, tmp_path):
    internal = str(tmp_path / "internal.db")
    await store_value(make_datasette(key=key, internal=internal), "API_KEY", "survives")
    assert await get_secret(make_datasette(key=key, internal=internal), "API_KEY") == "survives"


@pytest.mark.asyncio
async def test_configured_database_holds_the_secrets(example_plugin, make_datasette, tmp_path):
    path = str(tmp_path / "vault.db")
    sqlite3.connect(path).close()
    ds = make_datasette(files=[path], settings={"database": "vault"})
    await ds.invoke_startup()
    await store_value(ds, "API_KEY", "in-the-vault")
    assert len(await secret_rows(ds, database="vault")) == 1
    assert "datasette_secrets" not in await ds.get_internal_database().table_names()
    assert await get_secret(ds, "API_KEY") == "in-the-vault"
    conn = sqlite3.connect(path)
    assert conn.execute("select name, version from datasette_secrets").fetchall() == [("API_KEY", 1)]
    conn.close()


@pytest.mark.asyncio
async def test_configured_database_tables_are_closed_to_table_pages(example_plugin, make_datasette, tmp_path):
    path = str(tmp_path / "vault.db")
    conn = sqlite3.connect(path)
    conn.execute("create table ordinary (id integer primary key)")
    conn.close()
    ds = make_datasette(files=[path], settings={"database": "vault"})
    ds.root_enabled = True
    await ds.invoke_startup()
    await store_value(ds, "API_KEY", "in-the-vault")
    # every table the plugin made, so a new one cannot be left open
    made = {t for t in await ds.get_database("vault").table_names() if t.startswith("datasette_secrets")}
    assert made == set(PLUGIN_TABLES)
    for table in PLUGIN_TABLES:
        for path in (f"/vault/{table}", f"/vault/{table}.json"):
            response = await ds.client.get(path, actor=ROOT)
            assert response.status_code == 403, path
    assert (await ds.client.get("/vault/ordinary", actor=ROOT)).status_code == 200
    inserted = await ds.client.post(
        "/vault/datasette_secrets/-/insert", json={"row": {"name": "X"}}, actor=ROOT
    )
    assert inserted.status_code == 403
    assert len(await secret_rows(ds, database="vault")) == 1


@pytest.mark.asyncio
async def test_every_table_action_is_denied_on_the_plugins_tables(example_plugin, make_datasette, tmp_path):
    """Enumerated from what Datasette registers, so a new table action is covered too."""
    from datasette.resources import TableResource

    path = str(tmp_path / "vault.db")
    sqlite3.connect(path).close()
    ds = make_datasette(files=[path], settings={"database": "vault"})
    ds.root_enabled = True
    await ds.invoke_startup()
    table_actions = [
        name for name, action in ds.actions.items() if action.resource_class is TableResource
    ]
    assert {"view-table", "insert-row", "set-column-type"} <= set(table_actions)
    for action in table_actions:
        for table in PLUGIN_TABLES:
            allowed = await ds.allowed(action=action, resource=TableResource("vault", table), actor=ROOT)
            assert not allowed, f"{action} on {table}"
    assert await ds.allowed(action="view-table", resource=TableResource("vault", "other"), actor=ROOT)


@pytest.mark.asyncio
async def test_database_named_internal_means_the_internal_database(example_plugin, make_datasette):
    ds = make_datasette(settings={"database": "_internal"})
    await ds.invoke_startup()
    await store_value(ds, "API_KEY", "inside")
    assert "datasette_secrets" in await ds.get_internal_database().table_names()
    assert await get_secret(ds, "API_KEY") == "inside"


@pytest.mark.asyncio
async def test_database_that_is_not_attached_stops_startup(example_plugin, make_datasette):
    ds = make_datasette(settings={"database": "missing"})
    with pytest.raises(StartupError) as info:
        await ds.invoke_startup()
    assert "missing" in str(info.value)


@pytest.mark.asyncio
async def test_immutable_database_stops_startup(example_plugin, make_datasette, tmp_path):
    path = str(tmp_path / "frozen.db")
    sqlite3.connect(path).close()
    ds = make_datasette(immutables=[path], settings={"database": "frozen"})
    with pytest.raises(StartupError) as info:
        await ds.invoke_startup()
    assert "frozen" in str(info.value)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "settings",
    [{"reveal": "no"}, {"reveal_seconds": 0}, {"reveal_seconds": -5}, {"reveal_seconds": "soon"}, {"database": 5}],
    ids=["reveal not a boolean", "reveal_seconds zero", "reveal_seconds negative", "reveal_seconds words", "database not a name"],
)
async def test_invalid_settings_stop_startup(settings, example_plugin, make_datasette):
    ds = make_datasette(settings=settings)
    with pytest.raises(StartupError):
        await ds.invoke_startup()


@pytest.mark.asyncio
async def test_reveal_seconds_default_is_30(ds):
    await store_value(ds, "API_KEY", "reveal-me-please")
    fragment = parse(await ds.client.post("/-/secrets/API_KEY/reveal", actor=ROOT, headers=HX))
    assert fragment.select_one(".secret-revealed")["hx-trigger"] == "load delay:30s"
    page = parse(await ds.client.post("/-/secrets/API_KEY/reveal", actor=ROOT))
    refresh = page.find("meta", attrs={"http-equiv": "refresh"})
    assert refresh["content"].split(";")[0] == "30"


@pytest.mark.asyncio
async def test_reveal_seconds_setting(example_plugin, make_datasette):
    ds = make_datasette(settings={"reveal_seconds": 5})
    await store_value(ds, "API_KEY", "reveal-me-please")
    fragment = parse(await ds.client.post("/-/secrets/API_KEY/reveal", actor=ROOT, headers=HX))
    assert fragment.select_one(".secret-revealed")["hx-trigger"] == "load delay:5s"
    page = parse(await ds.client.post("/-/secrets/API_KEY/reveal", actor=ROOT))
    refresh = page.find("meta", attrs={"http-equiv": "refresh"})
    assert refresh["content"].split(";")[0] == "5"
    assert refresh["content"].split("url=")[1].startswith("/-/secrets")


@pytest.mark.asyncio
async def test_write_only_mode(example_plugin, make_datasette):
    ds = make_datasette(settings={"reveal": False})
    await store_value(ds, "API_KEY", "write-only-value")
    for headers in ({}, HX):
        response = await ds.client.post("/-/secrets/API_KEY/reveal", actor=ROOT, headers=headers)
        assert response.status_code == 403
        assert "write-only-value" not in response.text
    page = parse(await ds.client.get("/-/secrets", actor=ROOT))
    assert row_of(page, "API_KEY").find("form", action="/-/secrets/API_KEY/reveal") is None
    # still usable by plugins
    assert await get_secret(ds, "API_KEY") == "write-only-value"
