"""Every surface tells the same facts: for each state a secret can be in, the
list page, a row's fragment, the status counts and ``datasette secrets list
--json`` give the same status keys and the same source (where the value
comes from), because they all read ``model``'s one answer.

Status keys are compared (``orphan``, ``env``, ...), never labels, which may change.
"""

import asyncio
import json
from collections import Counter

import pytest
from click.testing import CliRunner
from datasette.cli import cli

from datasette_secrets import Secret, flush_usage, get_secret
from datasette_secrets.crypto import Key, Keyring, generate_key
from secret_helpers import HX, ROOT, insert_row, parse, secrets_plugin, store_value, write_config

# name: (its statuses, where its value comes from)
EXPECTED = {
    "UNSET_KEY": (["unset"], ""),
    "SET_KEY": (["set"], "store"),
    "DELETED_KEY": (["deleted"], ""),
    "ENV_KEY": (["env"], "env"),
    "FILE_KEY": (["env"], "file"),
    "VALUE_IN_FILE_KEY": (["env"], "file"),  # the variable holds a value, not a path
    "DUE_KEY": (["set", "due"], "store"),
    "UNREADABLE_KEY": (["set"], "store"),  # stored under another key
    "ORPHAN_KEY": (["orphan"], "store"),
    "OWN_KEY": (["unset"], ""),  # alice's own value is hers: the shared value is not set
}
# The CLI's words for a source (terminal.SOURCES), and for a status when there is no value.
CLI_SOURCE = {"store": "stored", "env": "environment", "file": "file"}
CLI_NO_VALUE = {"unset": "not set", "deleted": "deleted", "orphan": "orphan"}
ALICE = {"id": "alice"}


@pytest.fixture
def world(register_plugin, make_datasette, key, tmp_path, monkeypatch):
    """A database with one secret in each state; returns (path, config, make)."""
    registered = [Secret(name) for name in EXPECTED if name not in ("ORPHAN_KEY", "OWN_KEY")]
    register_plugin(secrets_plugin(*registered, Secret("OWN_KEY", personal=True)), "parity-plugin")
    monkeypatch.setenv("DATASETTE_SECRETS_ENV_KEY", "from-the-environment-0123")
    mounted = tmp_path / "file_key"
    mounted.write_text("from-a-file-0123\n")
    monkeypatch.setenv("DATASETTE_SECRETS_FILE_KEY_FILE", str(mounted))
    monkeypatch.setenv("DATASETTE_SECRETS_VALUE_IN_FILE_KEY_FILE", "sk-pasted-here-by-mistake")
    path = str(tmp_path / "internal.db")
    settings = {"max_age_days": 30}
    config = write_config(tmp_path, {"encryption_key": key, **settings})

    def make():
        return make_datasette(internal=path, settings=settings)

    return path, config, make


async def build(make):
    ds = make()
    await ds.invoke_startup()
    for name in ("SET_KEY", "DELETED_KEY", "DUE_KEY"):
        await store_value(ds, name, f"value-of-{name.lower()}")
    assert (await ds.client.post("/-/secrets/DELETED_KEY/delete", actor=ROOT)).status_code == 302
    other = Keyring([Key(generate_key())])
    await insert_row(ds, "UNREADABLE_KEY", *reversed(other.encrypt("UNREADABLE_KEY", 1, "unreadable")))
    await insert_row(ds, "ORPHAN_KEY", *reversed(other.encrypt("ORPHAN_KEY", 1, "orphaned")))
    internal = ds.get_internal_database()
    await internal.execute_write(
        "update datasette_secrets set created_at = '2020-01-01 00:00:00' where name = 'DUE_KEY'"
    )
    response = await ds.client.post("/-/secrets/-/mine/OWN_KEY", data={"secret": "alice-own-0123"}, actor=ALICE)
    assert response.status_code == 302
    for name in ("SET_KEY", "ENV_KEY", "FILE_KEY"):
        await get_secret(ds, name, actor_id="a-plugin-user")
    await flush_usage(ds)


def cli_rows(path, config):
    result = CliRunner().invoke(cli, ["secrets", "list", "--json", "--internal", path, "-c", config])
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in json.loads(result.output)}


@pytest.mark.asyncio
async def test_the_page_a_fragment_the_counts_and_the_command_line_agree_on_every_state(world):
    path, config, make = world
    await build(make)
    ds = make()  # a fresh process's view: nothing cached from the changes above
    page = parse(await ds.client.get("/-/secrets", actor=ROOT))
    listed = Counter()
    cli = await asyncio.to_thread(cli_rows, path, config)  # the CLI runs its own event loop
    assert sorted(cli) == sorted(EXPECTED)
    for name, (statuses, source) in EXPECTED.items():
        row = page.select_one(f"tbody#secret-{name}")
        assert (row["data-status"].split(), row["data-source"]) == (statuses, source), name
        # The last use shows for a secret with a value, wherever it comes from, and the same on each surface.
        used = " ".join(row.select_one("td.secret-used").get_text().split())
        fragment = parse(await ds.client.get(f"/-/secrets/{name}/row", actor=ROOT, headers=HX))
        row = fragment.select_one(f"tbody#secret-{name}")
        assert (row["data-status"].split(), row["data-source"]) == (statuses, source), name
        from_cli = cli[name]
        cli_statuses = [from_cli["status"]] + (["due"] if from_cli["due_for_rotation"] else [])
        assert cli_statuses == statuses, name
        assert from_cli["source"] == (CLI_SOURCE[source] if source and statuses != ["orphan"] else CLI_NO_VALUE.get(statuses[0])), name
        assert (used, from_cli["last_used_by"]) == {
            "SET_KEY": ("just now by a-plugin-user", "a-plugin-user"),
            "ENV_KEY": ("just now by a-plugin-user", "a-plugin-user"),
            "FILE_KEY": ("just now by a-plugin-user", "a-plugin-user"),
        }.get(name, ("never" if source else "", None)), name
        listed.update(statuses)
    counts = {span["id"][2:]: int(span.get_text()) for span in page.select("nav.secrets-statuses span[id]")}
    assert {key: count for key, count in counts.items() if key != "all"} == {
        key: listed.get(key, 0) for key in counts if key != "all"
    }
    # Every filter shows exactly the rows of its status, as the counts say.
    for key in ("unset", "set", "env", "deleted", "orphan", "due"):
        filtered = parse(await ds.client.get(f"/-/secrets?status={key}", actor=ROOT))
        shown = sorted(row["id"].removeprefix("secret-") for row in filtered.select("tbody.secret"))
        assert shown == sorted(name for name, (statuses, _) in EXPECTED.items() if key in statuses), key


@pytest.mark.asyncio
async def test_an_own_value_is_the_owners_on_every_surface_that_shows_it(world):
    path, config, make = world
    await build(make)
    ds = make()
    mine = parse(await ds.client.get("/-/secrets/-/mine", actor=ALICE))
    assert mine.select_one("tbody#mine-OWN_KEY")["data-source"] == "own"
    fragment = parse(await ds.client.get("/-/secrets/-/mine/OWN_KEY/row", actor=ALICE, headers=HX))
    assert fragment.select_one("tbody#mine-OWN_KEY")["data-source"] == "own"
    bob = parse(await ds.client.get("/-/secrets/-/mine", actor={"id": "bob"}))
    assert bob.select_one("tbody#mine-OWN_KEY")["data-source"] == ""
    assert (await asyncio.to_thread(cli_rows, path, config))["OWN_KEY"]["personal_values"] == 1
