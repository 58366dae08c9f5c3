"""Status filters with counts, and values due for rotation (max_age_days)."""

import pytest

from datasette_secrets.crypto import Key
from secret_helpers import HX, ROOT, insert_row, parse, shown, store_value


def status_links(response):
    nav = parse(response).select_one("nav.secrets-statuses")
    return {a.get_text(strip=True): a["href"] for a in nav.find_all("a")}


@pytest.mark.asyncio
async def test_status_filters_with_counts(ds, key, monkeypatch):
    # Written straight to the table first: the plugin's own write below refreshes what it caches.
    await insert_row(ds, "RETIRED_KEY", Key(key).encrypt("RETIRED_KEY", 1, "old"), Key(key).id)
    await store_value(ds, "API_KEY", "stored")
    monkeypatch.setenv("DATASETTE_SECRETS_ENV_KEY", "from-env")
    response = await ds.client.get("/-/secrets", actor=ROOT)
    assert status_links(response) == {
        "All (4)": "/-/secrets",
        "Not set (1)": "/-/secrets?status=unset",
        "Set (1)": "/-/secrets?status=set",
        "Environment (1)": "/-/secrets?status=env",
        "Deleted (0)": "/-/secrets?status=deleted",
        "No longer used (1)": "/-/secrets?status=orphan",
    }, "no due-for-rotation filter without max_age_days"
    for status, expected in (("unset", ["OTHER_KEY"]), ("set", ["API_KEY"]), ("env", ["ENV_KEY"]), ("orphan", ["RETIRED_KEY"])):
        assert shown(await ds.client.get(f"/-/secrets?status={status}", actor=ROOT)) == expected
    response = await ds.client.get("/-/secrets?status=deleted", actor=ROOT)
    assert "No secrets match with status “Deleted”" in response.text
    fragment = await ds.client.get("/-/secrets?status=unset&q=other", actor=ROOT, headers=HX)
    assert shown(fragment) == ["OTHER_KEY"]
    # the counts are of the secrets matching the filter words
    assert status_links(fragment)["All (1)"] == "/-/secrets?q=other"
    assert "Not set (1)" in status_links(fragment) and "Set (0)" in status_links(fragment)
    assert parse(fragment).select_one("hx-partial input#secrets-q-status")["value"] == "unset"
    assert (await ds.client.get("/-/secrets?status=nope", actor=ROOT)).status_code == 400


@pytest.mark.asyncio
async def test_due_for_rotation(example_plugin, make_datasette):
    ds = make_datasette(settings={"max_age_days": 30})
    await store_value(ds, "OTHER_KEY", "stale")
    await ds.get_internal_database().execute_write(
        "update datasette_secrets set created_at = datetime('now', '-31 days') where name = 'OTHER_KEY'"
    )
    await store_value(ds, "API_KEY", "fresh")  # a change through the plugin: caches refreshed
    response = await ds.client.get("/-/secrets", actor=ROOT)
    assert "Due for rotation (1)" in status_links(response)
    due = parse(response).select("tbody.secret .secret-due")
    assert [badge.find_parent("tbody")["id"] for badge in due] == ["secret-OTHER_KEY"]
    assert shown(await ds.client.get("/-/secrets?status=due", actor=ROOT)) == ["OTHER_KEY"]
    # A new version is a fresh value.
    await store_value(ds, "OTHER_KEY", "rotated")
    assert shown(await ds.client.get("/-/secrets?status=due", actor=ROOT)) == []


@pytest.mark.asyncio
@pytest.mark.parametrize("bad", [0, -5, "soon", True])
async def test_bad_max_age_stops_startup(bad, example_plugin, make_datasette):
    from datasette.utils import StartupError

    with pytest.raises(StartupError) as info:
        await make_datasette(settings={"max_age_days": bad}).invoke_startup()
    assert "max_age_days" in str(info.value)


def test_list_json_flags_values_due_for_rotation(tmp_path, key):
    """datasette secrets list --json says which stored values are due."""
    import asyncio
    import json

    import datasette_test
    from click.testing import CliRunner
    from datasette.cli import cli
    from datasette.plugins import pm

    from secret_helpers import EXAMPLE_SECRETS, secrets_plugin

    internal = str(tmp_path / "internal.db")
    config = tmp_path / "datasette.json"
    config.write_text(json.dumps({"plugins": {"datasette-secrets": {"encryption_key": key, "max_age_days": 7}}}))
    pm.register(secrets_plugin(*EXAMPLE_SECRETS), name="due-example")
    try:
        async def seed():
            ds = datasette_test.Datasette(
                internal=internal,
                plugin_config={"datasette-secrets": {"encryption_key": key}},
                permissions={"manage-secrets": {"id": "root"}},
            )
            await store_value(ds, "API_KEY", "old value")
            await store_value(ds, "OTHER_KEY", "new value")
            await ds.get_internal_database().execute_write(
                "update datasette_secrets set created_at = datetime('now', '-8 days') where name = 'API_KEY'"
            )
            await ds.invoke_shutdown()

        asyncio.run(seed())
        result = CliRunner().invoke(cli, ["secrets", "list", "--json", "--internal", internal, "-c", str(config)])
    finally:
        pm.unregister(name="due-example")
    assert result.exit_code == 0, result.output
    due = {row["name"]: row["due_for_rotation"] for row in json.loads(result.output)}
    assert due == {"API_KEY": True, "ENV_KEY": False, "OTHER_KEY": False}
