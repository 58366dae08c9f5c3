"""Who may touch a secret is visible (issue 22): a secret's History and
``datasette secrets list`` (table and --json) name who holds grants on that
secret alone, from the plugin's ``secrets: NAME: permissions:`` block. (From
datasette-acl, with a link to its page: tests_acl/.)"""

import json

import pytest

from datasette_secrets import Secret
from cli_helpers import ok, run
from secret_helpers import HX, ROOT, parse, secrets_plugin, write_config

MINE = "OPENAI_API_KEY"
OTHER = "GEOCODER_KEY"
SECRETS = {
    MINE: {
        "permissions": {
            "manage-secrets": {"id": ["bob"]},
            "reveal-secrets": {"id": "bob"},
        }
    },
    OTHER: {"permissions": {"reveal-secrets": {"roles": ["ops", "sre"]}}},
}


@pytest.fixture
def plugin(register_plugin):
    return register_plugin(secrets_plugin(Secret(MINE), Secret(OTHER), Secret("MAPS_KEY")), "holders-plugin")


def granted(page):
    return [li.get_text(" ", strip=True) for li in parse(page).select("ul.secret-grants li")]


@pytest.mark.asyncio
async def test_history_names_who_holds_grants_on_that_secret(plugin, make_datasette):
    ds = make_datasette(settings={"secrets": SECRETS})
    await ds.invoke_startup()
    page = await ds.client.get(f"/-/secrets/{MINE}/history", actor=ROOT)
    assert page.status_code == 200
    assert granted(page) == ["id: bob : manage-secrets and reveal-secrets (from the configuration)"]
    fragment = await ds.client.get(f"/-/secrets/{OTHER}/history", actor=ROOT, headers=HX)
    assert granted(fragment) == ["roles: ops, sre : reveal-secrets (from the configuration)"]
    # Without datasette-acl there is no link to its page.
    assert "/-/acl/" not in page.text and "/-/acl/" not in fragment.text
    # A secret with no per-secret block says nothing about grants.
    plain = await ds.client.get("/-/secrets/MAPS_KEY/history", actor=ROOT)
    assert plain.status_code == 200 and granted(plain) == []
    assert "Granted on this secret alone" not in plain.text


def test_list_names_who_holds_grants_on_each_secret(plugin, tmp_path, internal, key):
    options = ["--internal", internal, "-c", write_config(tmp_path, {"encryption_key": key, "secrets": SECRETS})]
    rows = {row["name"]: row for row in json.loads(ok(run("list", "--json", *options)).stdout)}
    assert rows[MINE]["grants"] == [
        {"who": "id: bob", "actions": ["manage-secrets", "reveal-secrets"], "source": "configuration"}
    ]
    assert rows[OTHER]["grants"] == [{"who": "roles: ops, sre", "actions": ["reveal-secrets"], "source": "configuration"}]
    assert rows["MAPS_KEY"]["grants"] == []
    assert all(row["grants_page"] is None for row in rows.values())  # no datasette-acl
    table = {line.split()[0]: line for line in ok(run("list", *options)).output.splitlines()[1:]}
    assert table[MINE].rstrip().endswith("granted to id: bob (manage and reveal; configuration)")
    assert table[OTHER].rstrip().endswith("granted to roles: ops, sre (reveal; configuration)")
    assert "granted" not in table["MAPS_KEY"]
