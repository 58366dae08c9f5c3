"""datasette-acl end to end (issue 22): grants on one secret made on
datasette-acl's generic page for the resource (/-/acl/resource/secret/NAME)
take effect, and whoever holds datasette-acl's own permission can grant
themselves reveal-secrets on any secret (the documented risk).

Runs only in .venv-acl (scripts/setup-acl), where datasette-acl is installed:
scripts/test runs this directory there, never in .venv.
"""

import pytest

from datasette_secrets import Secret
from secret_helpers import HX, ROOT, fake_monotonic, new_datasette, parse, secrets_plugin, store_value

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
async def test_a_grant_made_on_datasette_acl_page_takes_effect(site, monkeypatch):
    clock = fake_monotonic(monkeypatch)
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
async def test_manage_without_reveal_from_datasette_acl_shows_no_value(site, monkeypatch):
    clock = fake_monotonic(monkeypatch)
    ds = await site()
    await grant(ds, ROOT, "bob", ["manage-secrets"])
    clock.now += 1.1
    assert listed(await ds.client.get("/-/secrets", actor=BOB)) == [MINE]
    refused = await ds.client.post(f"/-/secrets/{MINE}/reveal", actor=BOB, headers=HX)
    assert refused.status_code == 403 and value_of(MINE) not in refused.text


@pytest.mark.asyncio
async def test_reveal_without_manage_from_datasette_acl_gives_nothing(site, monkeypatch):
    clock = fake_monotonic(monkeypatch)
    ds = await site()
    await grant(ds, ROOT, "bob", ["reveal-secrets"])
    clock.now += 1.1
    assert (await ds.client.get("/-/secrets", actor=BOB)).status_code == 403
    assert (await ds.client.post(f"/-/secrets/{MINE}/reveal", actor=BOB, headers=HX)).status_code == 403


@pytest.mark.asyncio
async def test_whoever_holds_datasette_acl_can_grant_themselves_reveal(site, monkeypatch):
    """The documented risk (README, Permissions and Threat model): datasette-acl's
    own permission is as strong as reveal-secrets on every secret."""
    clock = fake_monotonic(monkeypatch)
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
