""""Last used": one row per name in datasette_secrets_usage, whatever the source.

A value from the environment variable is recorded as a stored one is (version
null), a use shows on the admin list's entries at once (before it is written),
and a new version keeps the name's last use.
"""

import time

import pytest

from datasette_secrets import core, flush_usage, get_secret, model, store
from secret_helpers import ROOT, secrets_db, store_value, written_between


async def usage_rows(ds):
    result = await secrets_db(ds).execute(
        "select name, last_used_at, last_used_by, version from datasette_secrets_usage order by name"
    )
    return {row["name"]: dict(row) for row in result.rows}


async def listed(ds):
    """{name: Entry} as the admin list builds them, uses not yet written included."""
    state = await core.ready(ds)
    listing = await model.listing(ds, state)
    return {e.name: e for e in listing.entries(listing.names, state.usage.pending())}


async def entry(ds, name):
    """The Entry the row fragments and edit pages use."""
    return await model.entry(ds, await core.ready(ds), name)


@pytest.mark.asyncio
async def test_environment_variable_use_is_recorded(ds, monkeypatch):
    monkeypatch.setenv("DATASETTE_SECRETS_ENV_KEY", "from-env")
    assert (await listed(ds))["ENV_KEY"].last_used_at is None
    began = time.time()
    assert await get_secret(ds, "ENV_KEY", actor_id="alice") == "from-env"

    # shown at once, before the write
    for found in ((await listed(ds))["ENV_KEY"], await entry(ds, "ENV_KEY")):
        assert found.env and found.stored is None
        assert found.last_used_by == "alice" and written_between(found.last_used_at, began)
    assert await usage_rows(ds) == {}

    await flush_usage(ds)
    (row,) = (await usage_rows(ds)).values()
    assert row["name"] == "ENV_KEY" and row["last_used_by"] == "alice"
    assert row["version"] is None  # from the environment
    assert written_between(row["last_used_at"], began)
    for found in ((await listed(ds))["ENV_KEY"], await entry(ds, "ENV_KEY")):
        assert (found.last_used_at, found.last_used_by) == (row["last_used_at"], "alice")


@pytest.mark.asyncio
async def test_stored_use_is_recorded_with_its_version(ds):
    await store_value(ds, "API_KEY", "v1")
    await store_value(ds, "API_KEY", "v2")
    assert await get_secret(ds, "API_KEY", actor_id="bob") == "v2"
    await flush_usage(ds)
    row = (await usage_rows(ds))["API_KEY"]
    assert (row["last_used_by"], row["version"]) == ("bob", 2)


@pytest.mark.asyncio
async def test_a_shadowed_stored_value_shows_the_environment_use(ds, monkeypatch):
    await store_value(ds, "API_KEY", "stored")
    monkeypatch.setenv("DATASETTE_SECRETS_API_KEY", "from-env")
    assert await get_secret(ds, "API_KEY", actor_id="carol") == "from-env"
    await flush_usage(ds)
    assert (await usage_rows(ds))["API_KEY"]["version"] is None
    found = (await listed(ds))["API_KEY"]
    assert found.is_shadowed and found.last_used_by == "carol"


@pytest.mark.asyncio
async def test_a_new_version_keeps_the_names_last_use(ds):
    await store_value(ds, "API_KEY", "v1")
    assert await get_secret(ds, "API_KEY", actor_id="alice") == "v1"
    await flush_usage(ds)
    used_at = (await usage_rows(ds))["API_KEY"]["last_used_at"]

    await store_value(ds, "API_KEY", "v2")
    for found in ((await listed(ds))["API_KEY"], await entry(ds, "API_KEY")):
        assert found.version == 2
        assert (found.last_used_at, found.last_used_by) == (used_at, "alice")
    page = await ds.client.get("/-/secrets", actor=ROOT)
    assert "alice" in page.text


@pytest.mark.asyncio
async def test_never_used_entries_have_no_last_use(ds, monkeypatch):
    await store_value(ds, "API_KEY", "value")
    await store_value(ds, "OTHER_KEY", "value")
    await ds.client.post("/-/secrets/OTHER_KEY/delete", actor=ROOT)
    monkeypatch.setenv("DATASETTE_SECRETS_ENV_KEY", "from-env")
    entries = await listed(ds)
    assert [entries[n].is_set for n in ("API_KEY", "OTHER_KEY")] == [True, False]
    assert entries["OTHER_KEY"].is_deleted and entries["ENV_KEY"].env
    for found in entries.values():
        assert found.last_used_at is None and found.last_used_by is None


@pytest.mark.asyncio
async def test_an_older_use_never_replaces_a_newer_one(ds):
    # As when another process sharing the database writes its buffer later.
    db = secrets_db(ds)
    await store.record_uses(db, [("API_KEY", "2030-01-02 00:00:00", "newer", 2)])
    await store.record_uses(db, [("API_KEY", "2030-01-01 00:00:00", "older", 1)])
    assert (await usage_rows(ds))["API_KEY"]["last_used_by"] == "newer"
    await store.record_uses(db, [("API_KEY", "2030-01-03 00:00:00", None, None)])
    row = (await usage_rows(ds))["API_KEY"]
    assert (row["last_used_at"], row["last_used_by"], row["version"]) == ("2030-01-03 00:00:00", None, None)
