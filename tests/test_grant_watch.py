"""An actor's sets of secrets granted one by one (grants.Scopes) are worked out
once per actor while the grants stay as they are (issue 22, speed): the
plugin's own "last used" writes, once a second under get_secret traffic, and
any other commit to the internal database keep them; a change to a table the
grants come from (datasette-acl's, the secrets' names) forgets them, at the
next once-a-second look. tests_acl/ shows grants made and revoked on
datasette-acl's page taking effect that way."""

import pytest
import pytest_asyncio

from datasette_secrets import Secret, flush_usage, get_secret, grants
from secret_helpers import parse, secrets_plugin, store_value

BOB = {"id": "bob"}
MINE, OTHER = "OPENAI_API_KEY", "MAPS_KEY"
GRANTED = {MINE: {"permissions": {"manage-secrets": {"id": "bob"}, "reveal-secrets": {"id": "bob"}}}}


@pytest_asyncio.fixture
async def site(register_plugin, make_datasette, tmp_path, clock, monkeypatch):
    """bob granted MINE alone, an on-disk internal database (watched), and the
    queries that work out an actor's set counted (one per action)."""
    register_plugin(secrets_plugin(Secret(MINE), Secret(OTHER)), "grant-watch-plugin")
    ds = make_datasette(settings={"secrets": GRANTED}, internal=str(tmp_path / "internal.db"))
    await ds.invoke_startup()
    for name in (MINE, OTHER):
        await store_value(ds, name, f"value-of-{name.lower()}-0123456789")
    worked_out = []
    original = grants.allowed_names

    async def counted(datasette, action, actor):
        worked_out.append((action, actor and actor.get("id")))
        return await original(datasette, action, actor)

    monkeypatch.setattr(grants, "allowed_names", counted)
    return ds, worked_out


async def bobs_list(ds):
    page = await ds.client.get("/-/secrets", actor=BOB)
    assert page.status_code == 200
    return [row["id"].removeprefix("secret-") for row in parse(page).select("tbody.secret")]


@pytest.mark.asyncio
async def test_last_used_writes_and_other_commits_keep_the_sets(site, clock):
    ds, worked_out = site
    assert await bobs_list(ds) == [MINE]
    first = len(worked_out)
    assert first == 2  # manage-secrets and reveal-secrets, once each
    internal = ds.get_internal_database()
    for round in range(3):
        # get_secret traffic: its "last used" written to the internal database ...
        assert await get_secret(ds, MINE, "some-plugin") is not None
        await flush_usage(ds)
        # ... and another plugin's commit to a table of its own.
        await internal.execute_write("create table if not exists other_plugin_log (n integer)")
        await internal.execute_write("insert into other_plugin_log (n) values (?)", [round])
        clock.now += 1.1  # the once-a-second look comes round
        assert await bobs_list(ds) == [MINE]
    assert len(worked_out) == first
    used = await internal.execute("select last_used_by from datasette_secrets_usage where name = ?", [MINE])
    assert used.first()["last_used_by"] == "some-plugin"  # the writes did happen


@pytest.mark.asyncio
async def test_a_change_to_a_table_grants_come_from_forgets_them(site, clock):
    ds, worked_out = site
    assert await bobs_list(ds) == [MINE]
    internal = ds.get_internal_database()
    # A table of datasette-acl's (not installed here: its grants would come from it) written to.
    await internal.execute_write("create table if not exists acl_groups (id integer primary key, name text)")
    clock.now += 1.1
    assert await bobs_list(ds) == [MINE]
    assert len(worked_out) == 4  # worked out again, once
    await internal.execute_write("insert into acl_groups (name) values ('staff')")
    assert await bobs_list(ds) == [MINE]
    assert len(worked_out) == 4  # not before the look comes round
    clock.now += 1.1
    assert await bobs_list(ds) == [MINE]
    assert len(worked_out) == 6
    # A row changed in place counts too.
    await internal.execute_write("update acl_groups set name = 'admins' where name = 'staff'")
    clock.now += 1.1
    assert await bobs_list(ds) == [MINE]
    assert len(worked_out) == 8
    # Nothing changed since: kept.
    clock.now += 1.1
    assert await bobs_list(ds) == [MINE]
    assert len(worked_out) == 8
