"""datasette-acl end to end (issue 22): grants on one secret made on
datasette-acl's generic page for the resource (/-/acl/resource/secret/NAME)
take effect, and whoever holds datasette-acl's own permission can grant
themselves reveal-secrets on any secret (the documented risk).

Runs only in .venv-acl (scripts/setup-acl), where datasette-acl is installed:
scripts/test runs this directory there, never in .venv.
"""

import asyncio
import json

import pytest

from datasette_secrets import Secret
from cli_helpers import ok, run
from secret_helpers import (
    HX, ROOT, new_database, new_datasette, parse, secrets_plugin, store_value, write_config,
)

BOB = {"id": "bob"}
CAROL = {"id": "carol"}  # holds datasette-acl's permission, nothing of this plugin
MINE = "OPENAI_API_KEY"
OTHERS = ("GEOCODER_KEY", "MAPS_KEY")
PERMISSIONS = {
    "manage-secrets": {"id": "root"},
    "reveal-secrets": {"id": "root"},
    "datasette-acl": {"id": ["root", "carol"]},
}


def value_of(name):
    return f"value-of-{name.lower()}-0123456789"


@pytest.fixture
def site(register_plugin, key):
    register_plugin(secrets_plugin(*(Secret(name) for name in (MINE, *OTHERS))), "acl-secrets-plugin")

    async def make(settings=None):
        ds = new_datasette(key, PERMISSIONS, settings)
        await ds.invoke_startup()
        for name in (MINE, *OTHERS):
            await store_value(ds, name, value_of(name))
        return ds

    return make


def listed(page):
    return sorted(row["id"].removeprefix("secret-") for row in parse(page).select("tbody.secret"))


async def grant(ds, by, actor_id, actions, name=MINE):
    """Grant ``actions`` on secret ``name`` to ``actor_id`` through datasette-acl's
    page for the resource, as its form does (a new user and their actions)."""
    data = {"new_actor_id": actor_id, "new_user_actions": list(actions)}
    response = await ds.client.post(f"/-/acl/resource/secret/{name}", data=data, actor=by)
    assert response.status_code == 302, response.text
    return response


async def revoke(ds, by, actor_id, name=MINE):
    """Untick every action of ``actor_id`` on datasette-acl's page for the secret."""
    data = {f"user_permissions_{actor_id}": [], "new_actor_id": ""}
    response = await ds.client.post(f"/-/acl/resource/secret/{name}", data=data, actor=by)
    assert response.status_code == 302, response.text


@pytest.mark.asyncio
async def test_datasette_acl_page_manages_a_secret_resource(site):
    ds = await site()
    page = await ds.client.get(f"/-/acl/resource/secret/{MINE}", actor=ROOT)
    assert page.status_code == 200
    # It offers this plugin's two actions on the secret.
    assert "manage-secrets" in page.text and "reveal-secrets" in page.text
    # A name that is no secret is refused, as datasette-acl refuses any resource that does not exist.
    assert (await ds.client.get("/-/acl/resource/secret/NO_SUCH_SECRET", actor=ROOT)).status_code == 403


@pytest.mark.asyncio
async def test_a_grant_made_on_datasette_acl_page_takes_effect(site, clock):
    ds = await site()
    assert (await ds.client.get("/-/secrets", actor=BOB)).status_code == 403
    assert 'href="/-/secrets"' not in (await ds.client.get("/", actor=BOB)).text
    await grant(ds, ROOT, "bob", ["manage-secrets", "reveal-secrets"])
    clock.now += 1.1  # grants are looked for at most once a second
    page = await ds.client.get("/-/secrets", actor=BOB)
    assert page.status_code == 200
    assert listed(page) == [MINE]
    for name in OTHERS:
        assert name not in page.text
    revealed = await ds.client.post(f"/-/secrets/{MINE}/reveal", actor=BOB, headers=HX)
    assert revealed.status_code == 200 and value_of(MINE) in revealed.text
    for name in OTHERS:
        refused = await ds.client.post(f"/-/secrets/{name}/reveal", actor=BOB, headers=HX)
        assert refused.status_code == 403 and value_of(name) not in refused.text
    # The menu link is there for him now.
    assert 'href="/-/secrets"' in (await ds.client.get("/", actor=BOB)).text
    # Revoked on the same page: gone again.
    await revoke(ds, ROOT, "bob")
    clock.now += 1.1
    assert (await ds.client.get("/-/secrets", actor=BOB)).status_code == 403
    assert (await ds.client.post(f"/-/secrets/{MINE}/reveal", actor=BOB, headers=HX)).status_code == 403


@pytest.mark.asyncio
async def test_manage_without_reveal_from_datasette_acl_shows_no_value(site, clock):
    ds = await site()
    await grant(ds, ROOT, "bob", ["manage-secrets"])
    clock.now += 1.1
    assert listed(await ds.client.get("/-/secrets", actor=BOB)) == [MINE]
    refused = await ds.client.post(f"/-/secrets/{MINE}/reveal", actor=BOB, headers=HX)
    assert refused.status_code == 403 and value_of(MINE) not in refused.text


@pytest.mark.asyncio
async def test_reveal_without_manage_from_datasette_acl_gives_nothing(site, clock):
    ds = await site()
    await grant(ds, ROOT, "bob", ["reveal-secrets"])
    clock.now += 1.1
    assert (await ds.client.get("/-/secrets", actor=BOB)).status_code == 403
    assert (await ds.client.post(f"/-/secrets/{MINE}/reveal", actor=BOB, headers=HX)).status_code == 403


@pytest.mark.asyncio
async def test_whoever_holds_datasette_acl_can_grant_themselves_reveal(site, clock):
    """The documented risk (README, Permissions and Threat model): datasette-acl's
    own permission is as strong as reveal-secrets on every secret."""
    ds = await site()
    # carol holds datasette-acl's permission and nothing of this plugin's ...
    assert (await ds.client.get("/-/secrets", actor=CAROL)).status_code == 403
    assert (await ds.client.post(f"/-/secrets/{MINE}/reveal", actor=CAROL, headers=HX)).status_code == 403
    # ... until she grants herself both on a secret of her choice, on datasette-acl's page.
    await grant(ds, CAROL, "carol", ["manage-secrets", "reveal-secrets"])
    clock.now += 1.1
    revealed = await ds.client.post(f"/-/secrets/{MINE}/reveal", actor=CAROL, headers=HX)
    assert revealed.status_code == 200 and value_of(MINE) in revealed.text
    # Only that secret: the others stay hers to take only the same way.
    assert listed(await ds.client.get("/-/secrets", actor=CAROL)) == [MINE]
    # Someone without datasette-acl's permission cannot do the same.
    response = await ds.client.post(
        f"/-/acl/resource/secret/{MINE}",
        data={"new_actor_id": "bob", "new_user_actions": ["manage-secrets", "reveal-secrets"]},
        actor=BOB,
    )
    assert response.status_code == 403
    clock.now += 1.1
    assert (await ds.client.get("/-/secrets", actor=BOB)).status_code == 403


@pytest.mark.asyncio
async def test_history_and_list_name_datasette_acl_grants_with_a_link_to_its_page(site, tmp_path, key):
    internal = new_database(tmp_path / "internal.db")
    ds = new_datasette(key, PERMISSIONS, {"secrets": {MINE: {"permissions": {"reveal-secrets": {"id": "dan"}}}}}, internal=internal)
    await ds.invoke_startup()
    await store_value(ds, MINE, value_of(MINE))
    page_path = f"/-/acl/resource/secret/{MINE}"
    history = await ds.client.get(f"/-/secrets/{MINE}/history", actor=ROOT)
    # No datasette-acl grant yet: the configuration's, and the link to datasette-acl's page.
    items = [li.get_text(" ", strip=True) for li in parse(history).select("ul.secret-grants li")]
    assert items == ["id: dan : reveal-secrets (from the configuration)"]
    assert parse(history).select_one(f'a[href="{page_path}"]') is not None
    await grant(ds, ROOT, "bob", ["manage-secrets", "reveal-secrets"])
    for response in (
        await ds.client.get(f"/-/secrets/{MINE}/history", actor=ROOT),
        await ds.client.get(f"/-/secrets/{MINE}/history", actor=ROOT, headers=HX),
    ):
        items = [li.get_text(" ", strip=True) for li in parse(response).select("ul.secret-grants li")]
        assert items == [
            "id: dan : reveal-secrets (from the configuration)",
            "id: bob : manage-secrets and reveal-secrets (from datasette-acl)",
        ]
        assert parse(response).select_one(f'a[href="{page_path}"]') is not None
    # Another secret: no grants, still the link to its page.
    other = await ds.client.get(f"/-/secrets/{OTHERS[0]}/history", actor=ROOT)
    assert "No one: only grants on every secret cover it." in other.text
    assert parse(other).select_one(f'a[href="/-/acl/resource/secret/{OTHERS[0]}"]') is not None
    # The command line reads the same from the site's internal database.
    config = write_config(tmp_path, {"encryption_key": key, "secrets": {MINE: {"permissions": {"reveal-secrets": {"id": "dan"}}}}})
    options = ["--internal", internal, "-c", config]
    listed = await asyncio.to_thread(run, "list", "--json", *options)  # the command runs its own event loop
    rows = {row["name"]: row for row in json.loads(ok(listed).stdout)}
    assert rows[MINE]["grants"] == [
        {"who": "id: dan", "actions": ["reveal-secrets"], "source": "configuration"},
        {"who": "id: bob", "actions": ["manage-secrets", "reveal-secrets"], "source": "datasette-acl"},
    ]
    assert rows[MINE]["grants_page"] == page_path
    assert rows[OTHERS[0]]["grants"] == [] and rows[OTHERS[0]]["grants_page"] == f"/-/acl/resource/secret/{OTHERS[0]}"
    table = {line.split()[0]: line for line in ok(await asyncio.to_thread(run, "list", *options)).output.splitlines()[1:]}
    assert table[MINE].rstrip().endswith(
        "granted to id: dan (reveal; configuration), id: bob (manage and reveal; datasette-acl); "
        f"datasette-acl: {page_path}"
    )
