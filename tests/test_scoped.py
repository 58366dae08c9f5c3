"""Per-secret permissions: each secret a Datasette resource (issue 22).

bob is granted manage-secrets and reveal-secrets on OPENAI_API_KEY only,
carol reveal-secrets on it but no manage-secrets (so: nothing), by the
plugin's ``secrets:`` block; grants on every secret come from Datasette's own
``permissions:`` block, as before.
"""

import logging

import pytest
from datasette.utils import StartupError

from datasette_secrets import Secret
from route_helpers import NAME_TEMPLATES, TEMPLATES, has_name, path
from secret_helpers import HX, MANAGER, ROOT, audit_rows, parse, secrets_plugin, store_value

BOB = {"id": "bob"}
CAROL = {"id": "carol"}
ANONYMOUS = None
MINE = "OPENAI_API_KEY"
OTHERS = ("GEOCODER_KEY", "MAPS_KEY")
SCOPED = {
    MINE: {
        "permissions": {
            "manage-secrets": {"id": ["bob"]},
            "reveal-secrets": {"id": ["bob", "carol"]},
        }
    },
}


@pytest.fixture
def scoped(register_plugin, make_datasette):
    register_plugin(secrets_plugin(*(Secret(name) for name in (MINE, *OTHERS))), "scoped-plugin")

    async def make(secrets=SCOPED, store=True, **kwargs):
        ds = make_datasette(settings={"secrets": secrets}, **kwargs)
        await ds.invoke_startup()
        for name in (MINE, *OTHERS) if store else ():
            await store_value(ds, name, f"value-of-{name.lower()}-0123456789")
        return ds

    return make


def listed(page):
    return sorted(row["id"].removeprefix("secret-") for row in parse(page).select("tbody.secret"))


def counts(page):
    return {span["id"][2:]: span.get_text() for span in parse(page).select("nav.secrets-statuses span[id]")}


@pytest.mark.asyncio
async def test_bob_sees_and_counts_only_the_secret_granted_to_him(scoped):
    ds = await scoped()
    page = await ds.client.get("/-/secrets", actor=BOB)
    assert page.status_code == 200
    assert listed(page) == [MINE]
    assert counts(page)["all"] == "1" and counts(page)["set"] == "1"
    # Filters and search stay inside his grant.
    assert listed(await ds.client.get("/-/secrets?status=set", actor=BOB)) == [MINE]
    assert listed(await ds.client.get("/-/secrets?q=key", actor=BOB)) == [MINE]
    assert "GEOCODER" not in page.text and "MAPS" not in page.text
    # Global managers still see everything.
    assert listed(await ds.client.get("/-/secrets", actor=MANAGER)) == sorted((MINE, *OTHERS))


@pytest.mark.asyncio
async def test_a_fragment_of_another_secret_is_refused(scoped):
    ds = await scoped()
    for name in OTHERS:
        for url in (f"/-/secrets/{name}/row", f"/-/secrets/{name}", f"/-/secrets/{name}/history"):
            response = await ds.client.get(url, actor=BOB, headers=HX)
            assert response.status_code == 403, url
            assert "value-of" not in response.text
    assert (await ds.client.get(f"/-/secrets/{MINE}/row", actor=BOB, headers=HX)).status_code == 200


@pytest.mark.asyncio
async def test_reveal_needs_reveal_secrets_on_that_secret(scoped):
    ds = await scoped()
    response = await ds.client.post(f"/-/secrets/{MINE}/reveal", actor=BOB, headers=HX)
    assert response.status_code == 200 and "value-of-openai_api_key" in response.text
    for name in OTHERS:
        assert (await ds.client.post(f"/-/secrets/{name}/reveal", actor=BOB, headers=HX)).status_code == 403
    # carol may reveal it, but not manage it: she gets nothing.
    for url in ("/-/secrets", f"/-/secrets/{MINE}/row"):
        assert (await ds.client.get(url, actor=CAROL, headers=HX)).status_code == 403
    assert (await ds.client.post(f"/-/secrets/{MINE}/reveal", actor=CAROL, headers=HX)).status_code == 403
    # A manager of every secret without reveal-secrets: no reveal, there either.
    assert (await ds.client.post(f"/-/secrets/{MINE}/reveal", actor=MANAGER, headers=HX)).status_code == 403


@pytest.mark.asyncio
async def test_what_touches_every_secret_needs_the_grant_on_every_secret(scoped):
    ds = await scoped()
    assert (await ds.client.get("/-/secrets/-/keys", actor=BOB)).status_code == 403
    assert (await ds.client.post("/-/secrets/-/keys/rotate", actor=BOB)).status_code == 403
    assert (await ds.client.get("/-/secrets/-/keys", actor=MANAGER)).status_code == 200
    page = await ds.client.get("/-/secrets", actor=BOB)
    assert parse(page).find("a", href="/-/secrets/-/keys") is None  # no link to a page he may not open


@pytest.mark.asyncio
async def test_the_audit_log_shows_bob_only_rows_about_his_secret(scoped):
    ds = await scoped()
    await ds.client.post("/-/secrets/-/keys/rotate", actor=ROOT)  # a row about every secret at once
    rows = (await ds.client.get("/-/secrets/-/audit.json", actor=BOB)).json()["rows"]
    assert {row["secret"] for row in rows} == {MINE}
    everything = (await ds.client.get("/-/secrets/-/audit.json", actor=MANAGER)).json()["rows"]
    assert {row["secret"] for row in everything} > {MINE, *OTHERS}


@pytest.mark.asyncio
async def test_the_menu_links_to_secrets_for_whoever_may_manage_one(scoped):
    ds = await scoped()
    for actor, expected in ((BOB, True), (MANAGER, True), (CAROL, False), (ANONYMOUS, False)):
        page = await ds.client.get("/", actor=actor)
        assert ('href="/-/secrets"' in page.text) == expected, actor


@pytest.mark.asyncio
async def test_an_import_marks_other_secrets_not_yours_and_never_stores_them(scoped):
    ds = await scoped()
    text = f"{MINE}=new-openai-value-0123\nGEOCODER_KEY=new-geocoder-value-0123\n"
    preview = parse(await ds.client.post("/-/secrets/-/import", data={"dotenv": text}, actor=BOB))
    what = {
        row.select_one("td[data-label=Name]").get_text(strip=True): row.select_one("td[data-label='What happens']").get_text(" ", strip=True)
        for row in preview.select("table.secrets-import-table tbody tr")
    }
    assert what["GEOCODER_KEY"].startswith("Not yours to change")
    states = {
        row.select_one("td[data-label=Name]").get_text(strip=True): row["class"]
        for row in preview.select("table.secrets-import-table tbody tr")
    }
    assert states == {MINE: ["secrets-import-changed"], "GEOCODER_KEY": ["secrets-import-forbidden"]}
    token = preview.find("input", attrs={"name": "token"})["value"]
    # Even asked to, the confirmation stores only what he may change.
    response = await ds.client.post(
        "/-/secrets/-/import/confirm", data={"token": token, "store": [MINE, "GEOCODER_KEY"]}, actor=BOB
    )
    assert response.status_code == 302
    stored = [(row["name"], row["action"]) for row in await audit_rows(ds) if row["detail"] == "imported from a .env file"]
    assert stored == [(MINE, "set")]


@pytest.mark.asyncio
async def test_a_global_admin_keeps_a_secret_that_has_a_per_secret_block(scoped):
    # Read with Datasette's own semantics, the block would deny the manager; here it only adds bob.
    ds = await scoped()
    assert (await ds.client.get(f"/-/secrets/{MINE}/row", actor=MANAGER, headers=HX)).status_code == 200
    assert MINE in listed(await ds.client.get("/-/secrets", actor=MANAGER))
    response = await ds.client.post(f"/-/secrets/{MINE}/reveal", actor=ROOT, headers=HX)
    assert response.status_code == 200


@pytest.mark.asyncio
async def test_a_config_permissions_block_denies_root_it_does_not_list(scoped):
    # The pitfall the README warns of: Datasette's own block denies every actor it does not list.
    ds = await scoped(secrets={}, store=False, permissions={"manage-secrets": {"id": "admin"}})
    ds.root_enabled = True
    assert (await ds.client.get("/-/secrets", actor=ROOT)).status_code == 403
    assert (await ds.client.get("/-/secrets", actor={"id": "admin"})).status_code == 200
    # Without a block, --root manages every secret.
    plain = await scoped(secrets={}, store=False, permissions={})
    plain.root_enabled = True
    assert listed(await plain.client.get("/-/secrets", actor=ROOT)) == sorted((MINE, *OTHERS))


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "secrets,message",
    [
        ({MINE: {"permissions": {"drop-table": {"id": "bob"}}}}, "unknown action 'drop-table'"),
        ({MINE: {"owner": "bob"}}, "unknown key 'owner'"),
        ({MINE: {"personal": "yes"}}, "personal must be true or false"),
        ({"not a name": {}}, "not a secret name"),
    ],
)
async def test_a_bad_secrets_block_is_a_clear_startup_error(scoped, make_datasette, secrets, message):
    ds = make_datasette(settings={"secrets": secrets})
    with pytest.raises(StartupError) as raised:
        await ds.invoke_startup()
    assert message in str(raised.value)


@pytest.mark.asyncio
async def test_settings_for_a_name_no_plugin_registers_warn_on_the_page_and_in_the_log(scoped, caplog):
    with caplog.at_level(logging.WARNING, logger="datasette_secrets"):
        ds = await scoped(secrets={**SCOPED, "RETIRED_KEY": {"personal": True}})
    assert "settings for RETIRED_KEY, which no installed plugin registers" in caplog.text
    page = parse(await ds.client.get("/-/secrets", actor=MANAGER))
    warning = page.select_one("p.message-warning")
    assert warning is not None and "No installed plugin registers RETIRED_KEY" in warning.get_text()


@pytest.mark.asyncio
async def test_the_configuration_makes_a_secret_personal(scoped):
    # Registered without personal=True, as datasette-llm and datasette-enrichments do.
    ds = await scoped(secrets={MINE: {"personal": True}})
    alice = {"id": "alice"}
    page = parse(await ds.client.get("/-/secrets/-/mine", actor=alice))
    assert page.select_one(f"tbody#mine-{MINE}") is not None
    response = await ds.client.post(f"/-/secrets/-/mine/{MINE}", data={"secret": "alice-own-key-0123"}, actor=alice)
    assert response.status_code == 302
    from datasette_secrets import get_secret

    assert await get_secret(ds, MINE, actor_id="alice") == "alice-own-key-0123"
    assert await get_secret(ds, MINE) == "value-of-openai_api_key-0123456789"


@pytest.mark.asyncio
@pytest.mark.parametrize("template", [t for t in NAME_TEMPLATES if not t.startswith("/-/secrets/-/mine")])
async def test_every_route_of_another_secret_is_refused_to_bob(scoped, template):
    # (My secrets' routes are an actor's own values: per-secret grants do not touch them.)
    ds = await scoped()
    for name in OTHERS:
        url = path(template, name)
        for method in ("GET", "POST"):
            response = await ds.client.request(method, url, actor=BOB, headers=HX)
            assert response.status_code == 403, (method, url, response.status_code)
            assert "value-of" not in response.text


# The matrix: every route of views.ROUTES, by every method a form uses, with
# and without htmx, for each kind of actor. bob's answer on his secret is
# root's (same request, same seeded state), but for what covers every secret.
EVERY_SECRET = ("/-/secrets/-/keys", "/-/secrets/-/keys/rotate")
MATRIX_DATA = {"secret": "matrix-new-value-0123", "note": "n", "version": "1"}


async def reseed(ds):
    for name in (MINE, *OTHERS):
        await store_value(ds, name, f"value-of-{name.lower()}-0123456789")


async def answer(ds, method, url, actor, headers):
    await reseed(ds)
    data = MATRIX_DATA if method == "POST" else None
    return await ds.client.request(method, url, actor=actor, headers=headers, data=data)


@pytest.mark.asyncio
@pytest.mark.parametrize("template", [t for t in TEMPLATES if not t.startswith("/-/secrets/-/mine")])
async def test_each_actor_gets_its_one_status_on_every_route(scoped, template):
    ds = await scoped(permissions={"manage-secrets": {"id": "root"}, "reveal-secrets": {"id": "root"}})
    for method in ("GET", "POST"):
        for headers in ({}, HX):
            where = (method, template, bool(headers))
            root = await answer(ds, method, path(template, MINE), ROOT, headers)
            bob = await answer(ds, method, path(template, MINE), BOB, headers)
            expected = 403 if template in EVERY_SECRET else root.status_code
            assert bob.status_code == expected, where
            if has_name(template):
                other = await answer(ds, method, path(template, OTHERS[0]), BOB, headers)
                assert other.status_code == 403, where
                assert "value-of-geocoder" not in other.text
            for nobody in (CAROL, ANONYMOUS):
                assert (await answer(ds, method, path(template, MINE), nobody, headers)).status_code == 403, (where, nobody)
            for response in (bob,) + ((other,) if has_name(template) else ()):
                for name in OTHERS:  # nothing of a secret outside his grant, not even its name
                    assert name not in response.text, (where, name)
