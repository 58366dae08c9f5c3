"""Who may do what: manage-secrets, reveal-secrets, the menu link, and ways to grant them."""

import pytest
import pytest_asyncio
from cryptography.fernet import Fernet
from datasette.plugins import pm

from datasette_secrets import get_secret, views
from route_helpers import NAME_TEMPLATES, TEMPLATES, has_name, path
from secret_helpers import (
    EXAMPLE_SECRETS,
    HX,
    MANAGER,
    OTHER,
    ROOT,
    audit_rows,
    new_datasette,
    parse,
    secrets_plugin,
    snapshot,
    store_value,
)

# Random-looking, so that any 6 characters of it in a response can only be a leak.
VALUE = "Qz7kW9xv0042Lm8Rt5"
NEW_VALUE = "Nw4vByMgr9Tq2Xc6"
REVEALER = {"id": "revealer"}  # reveal-secrets granted, manage-secrets not
PERMISSIONS = {
    "manage-secrets": {"id": [ROOT["id"], MANAGER["id"]]},
    "reveal-secrets": {"id": [ROOT["id"], REVEALER["id"]]},
}
POST_DATA = {"secret": "changed-by-an-intruder", "note": "intruder", "version": "1"}

# Every path shape of every route in views.ROUTES, for a stored and an unknown secret.
TEMPLATE_OF = {path(t, name): t for t in TEMPLATES for name in ("API_KEY", "NO_SUCH_SECRET")}
ALL_PATHS = [path(t) for t in TEMPLATES if not has_name(t)] + [
    path(t, name) for name in ("API_KEY", "NO_SUCH_SECRET") for t in NAME_TEMPLATES
]


async def seed(ds):
    """API_KEY stored twice (versions 1 and 2)."""
    await store_value(ds, "API_KEY", VALUE + "-v1", note="first")
    await store_value(ds, "API_KEY", VALUE, note="second")
    return ds


@pytest.fixture(scope="module")
def example_plugin():
    """conftest's example plugin, registered once for this module, so that its
    tests can share one Datasette (``shared``)."""
    plugin = secrets_plugin(*EXAMPLE_SECRETS)
    pm.register(plugin, name="example-secrets-plugin")
    yield plugin
    pm.unregister(name="example-secrets-plugin")


@pytest_asyncio.fixture
async def seeded(example_plugin, make_datasette):
    """A Datasette of its own, for a test that counts what it changes."""
    return await seed(make_datasette(permissions=PERMISSIONS))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared(example_plugin):
    """One seeded Datasette for the module's tests that change nothing (each
    asserts so) or set up the state they need first; building one per
    parametrized case was most of this module's time."""
    return await seed(new_datasette(Fernet.generate_key().decode(), permissions=PERMISSIONS))


SHARED = pytest.mark.asyncio(loop_scope="module")  # the tests that use ``shared``: its event loop


async def as_seeded(ds):
    """``shared`` with API_KEY's value VALUE again, whatever an earlier test changed."""
    await store_value(ds, "API_KEY", VALUE)
    return ds


def assert_error_fragment(response):
    """An htmx request's error: a small fragment retargeted to the status region."""
    assert response.headers["HX-Retarget"] == "#secrets-status"
    assert response.headers["HX-Reswap"] == "innerHTML"
    soup = parse(response)
    assert soup.find("html") is None
    error = soup.select_one("p.message-error")
    assert error is not None and error.get_text(strip=True)


@SHARED
@pytest.mark.parametrize("path", ALL_PATHS)
async def test_denied_for_anonymous_and_other_actors(path, shared):
    """Refused (403) unless managing; My secrets only to anonymous actors, since every
    signed-in actor may keep their own values (API_KEY is not personal: never theirs)."""
    await as_seeded(shared)
    before = await snapshot(shared)
    own_route = path.startswith("/-/secrets/-/mine")
    for actor in (None, OTHER, REVEALER):
        for method in ("GET", "POST"):
            for headers in ({}, HX):
                kwargs = {"data": POST_DATA} if method == "POST" else {}
                response = await shared.client.request(method, path, actor=actor, headers=headers, **kwargs)
                where = f"{method} {path} actor={actor} htmx={bool(headers)}"
                if own_route and actor is not None:
                    expected = MANAGER_STATUSES[TEMPLATE_OF[path], method][1 if headers else 0]
                    assert response.status_code == expected, where
                    assert not shares_run(response.text, VALUE), where
                    continue
                assert response.status_code == 403, where
                assert VALUE not in response.text, where
                assert "OTHER_KEY" not in response.text, f"{where}: secret names leaked"
                if headers:
                    assert_error_fragment(response)
    assert await snapshot(shared) == before
    assert await get_secret(shared, "API_KEY") == VALUE


def denied_entirely(statuses, route_template):
    """Whether the table says an actor is refused a route whatever the method."""
    return all(
        expected == (403, 403) for (t, _), expected in statuses.items() if t == route_template
    )


@pytest.mark.asyncio
async def test_denied_before_configuration_problems(example_plugin, make_datasette):
    """Without a key the routes answer 409 to managers, but 403 to everyone else."""
    ds = make_datasette(key=None, permissions=PERMISSIONS)
    for actor in (None, OTHER):
        for headers in ({}, HX):
            response = await ds.client.post("/-/secrets/API_KEY", data=POST_DATA, actor=actor, headers=headers)
            assert response.status_code == 403
    assert (await ds.client.post("/-/secrets/API_KEY", data=POST_DATA, actor=MANAGER)).status_code == 409


# (route template, method) -> (status without htmx, status with htmx), for a
# manager who may not reveal and for root who may. Every route in views.ROUTES
# must be here (test_matrix_covers_every_route): a new route needs its statuses.
SECRET = "/-/secrets/{name}"
MANAGER_STATUSES = {
    ("/-/secrets", "GET"): (200, 200),
    ("/-/secrets", "POST"): (405, 405),
    ("/-/secrets/-/keys", "GET"): (200, 200),
    ("/-/secrets/-/keys", "POST"): (405, 405),
    ("/-/secrets/-/keys/rotate", "GET"): (405, 405),
    ("/-/secrets/-/keys/rotate", "POST"): (302, 200),
    ("/-/secrets/-/audit", "GET"): (200, 200),
    ("/-/secrets/-/audit", "POST"): (405, 405),
    ("/-/secrets/-/audit.json", "GET"): (200, 200),
    ("/-/secrets/-/audit.json", "POST"): (405, 405),
    ("/-/secrets/-/import", "GET"): (200, 200),
    ("/-/secrets/-/import", "POST"): (422, 422),  # the matrix's form holds no .env text
    ("/-/secrets/-/import/confirm", "GET"): (405, 405),
    ("/-/secrets/-/import/confirm", "POST"): (409, 409),  # no preview to confirm
    (SECRET, "GET"): (200, 200),
    (SECRET, "POST"): (302, 200),
    (SECRET + "/row", "GET"): (302, 200),
    (SECRET + "/row", "POST"): (405, 405),
    (SECRET + "/history", "GET"): (200, 200),
    (SECRET + "/history", "POST"): (405, 405),
    (SECRET + "/restore", "GET"): (400, 400),  # asks first, but which version? (none in the matrix's query)
    (SECRET + "/restore", "POST"): (302, 200),
    (SECRET + "/delete", "GET"): (200, 200),
    (SECRET + "/delete", "POST"): (302, 200),
    (SECRET + "/reveal", "GET"): (403, 403),
    (SECRET + "/reveal", "POST"): (403, 403),
    (SECRET + "/copy", "GET"): (403, 403),
    (SECRET + "/copy", "POST"): (403, 403),
    (SECRET + "/mask", "GET"): (302, 200),
    (SECRET + "/mask", "POST"): (405, 405),
    (SECRET + "/test", "GET"): (405, 405),
    (SECRET + "/test", "POST"): (403, 403),  # a test answers a question about the value
}
# My secrets: every signed-in actor's own values. API_KEY is not a personal secret,
# so its routes there are 404 (after the method check) for everyone signed in.
MINE = "/-/secrets/-/mine"
MANAGER_STATUSES.update({
    (MINE, "GET"): (200, 200),
    (MINE, "POST"): (405, 405),
    (MINE + "/{name}", "GET"): (404, 404),
    (MINE + "/{name}", "POST"): (404, 404),
    (MINE + "/{name}/row", "GET"): (404, 404),
    (MINE + "/{name}/row", "POST"): (405, 405),
    (MINE + "/{name}/delete", "GET"): (404, 404),
    (MINE + "/{name}/delete", "POST"): (404, 404),
    (MINE + "/{name}/history", "GET"): (404, 404),
    (MINE + "/{name}/history", "POST"): (405, 405),
    (MINE + "/{name}/mask", "GET"): (404, 404),
    (MINE + "/{name}/mask", "POST"): (405, 405),
    **{(MINE + f"/{{name}}/{action}", "GET"): (405, 405) for action in ("reveal", "copy", "test")},
    **{(MINE + f"/{{name}}/{action}", "POST"): (404, 404) for action in ("reveal", "copy", "test")},
    (SECRET + "/owners", "GET"): (404, 404),  # not a personal secret
    (SECRET + "/owners", "POST"): (404, 404),
})
ROOT_STATUSES = dict(MANAGER_STATUSES)
ROOT_STATUSES[(SECRET + "/test", "POST")] = (404, 404)  # API_KEY has no check (see test_check.py)
ROOT_STATUSES[(SECRET + "/reveal", "GET")] = (405, 405)
ROOT_STATUSES[(SECRET + "/reveal", "POST")] = (200, 200)
ROOT_STATUSES[(SECRET + "/copy", "GET")] = (405, 405)
ROOT_STATUSES[(SECRET + "/copy", "POST")] = (200, 200)
# GET routes answer HEAD too.
ALLOWED_METHODS = {
    "/-/secrets": "GET, HEAD",
    "/-/secrets/-/keys": "GET, HEAD",
    "/-/secrets/-/keys/rotate": "POST",
    "/-/secrets/-/audit": "GET, HEAD",
    "/-/secrets/-/audit.json": "GET, HEAD",
    "/-/secrets/-/import": "GET, POST, HEAD",
    "/-/secrets/-/import/confirm": "POST",
    SECRET: "GET, POST, HEAD",
    SECRET + "/row": "GET, HEAD",
    SECRET + "/history": "GET, HEAD",
    SECRET + "/restore": "GET, POST, HEAD",
    SECRET + "/delete": "GET, POST, HEAD",
    SECRET + "/reveal": "POST",
    SECRET + "/copy": "POST",
    SECRET + "/mask": "GET, HEAD",
    SECRET + "/test": "POST",
    SECRET + "/owners": "GET, POST, HEAD",
    MINE: "GET, HEAD",
    MINE + "/{name}": "GET, POST, HEAD",
    MINE + "/{name}/row": "GET, HEAD",
    MINE + "/{name}/delete": "GET, POST, HEAD",
    MINE + "/{name}/history": "GET, HEAD",
    MINE + "/{name}/reveal": "POST",
    MINE + "/{name}/copy": "POST",
    MINE + "/{name}/test": "POST",
    MINE + "/{name}/mask": "GET, HEAD",
}


def test_matrix_covers_every_route(make_datasette):
    """Adding a route without its expected statuses fails here, not in production."""
    served = {
        pattern
        for routes in pm.hook.register_routes(datasette=make_datasette())
        for pattern, _ in routes or []
        if pattern.startswith("^/-/secrets")
    }
    assert served == {pattern for pattern, _ in views.ROUTES}, "a route Datasette serves is not in views.ROUTES"
    expected = {(t, method) for t in TEMPLATES for method in ("GET", "POST")}
    for table in (MANAGER_STATUSES, ROOT_STATUSES):
        assert not expected - set(table), f"routes without expected statuses: {sorted(expected - set(table))}"
        assert not set(table) - expected, f"statuses for routes that are gone: {sorted(set(table) - expected)}"
    assert set(ALLOWED_METHODS) == set(TEMPLATES), "ALLOWED_METHODS must name every route, and only those"
    assert set(ALL_PATHS) == {path(t, name) for t in TEMPLATES for name in ("API_KEY", "NO_SUCH_SECRET")}


OTHER_METHODS = ["PUT", "DELETE", "PATCH"]
NOT_POST = ["GET", "HEAD", *OTHER_METHODS, "OPTIONS"]


def other_method_status(actor, route_template):
    """PUT, DELETE and PATCH: permission first, then the method. 403 for those
    refused the route whatever the method, else 405."""
    if actor is None:
        return 403
    if actor is OTHER:
        return 405 if route_template.startswith(MINE) else 403  # My secrets is every signed-in actor's
    statuses = MANAGER_STATUSES if actor is MANAGER else ROOT_STATUSES
    return 403 if denied_entirely(statuses, route_template) else 405


@SHARED
async def test_only_post_writes_and_other_methods_are_refused_permission_first(shared):
    """One crawl of every path by every method but POST, for every actor, with
    and without htmx: nothing changes for anyone (HEAD once deleted secrets),
    nothing fails, and PUT, DELETE and PATCH get the status the tables say
    (with the methods the route allows, for a 405)."""
    await as_seeded(shared)
    before = await snapshot(shared)
    failures = []
    for url in ALL_PATHS:
        route_template = TEMPLATE_OF[url]
        for actor in (None, OTHER, MANAGER, ROOT):
            for method in NOT_POST:
                for headers in ({}, HX):
                    response = await shared.client.request(method, url, actor=actor, headers=headers, data=POST_DATA)
                    where = f"{method} {url} actor={actor} htmx={bool(headers)} -> {response.status_code}"
                    if response.status_code >= 500:
                        failures.append(where)
                    if method in OTHER_METHODS and url == path(route_template):
                        expected = other_method_status(actor, route_template)
                        if response.status_code != expected:
                            failures.append(f"{where}, not {expected}")
                        elif expected == 405 and response.headers["Allow"] != ALLOWED_METHODS[route_template]:
                            failures.append(f"{where} allows {response.headers['Allow']}")
        assert await snapshot(shared) == before, f"a request to {url} changed something"
    assert failures == []
    assert await get_secret(shared, "API_KEY") == VALUE


@SHARED
@pytest.mark.parametrize("actor", [MANAGER, ROOT], ids=["manager", "root"])
@pytest.mark.parametrize("route,method", list(MANAGER_STATUSES), ids=[f"{m}-{t}" for t, m in MANAGER_STATUSES])
async def test_statuses_for_those_allowed(route, method, actor, shared):
    expected = (MANAGER_STATUSES if actor is MANAGER else ROOT_STATUSES)[(route, method)]
    for headers, status in zip(({}, HX), expected):
        await as_seeded(shared)  # set, with a version 1 to restore, and something to delete each time
        data = {"secret": NEW_VALUE, "note": "n", "version": "1"} if method == "POST" else None
        response = await shared.client.request(
            method, path(route), actor=actor, headers=headers, data=data
        )
        assert response.status_code == status, f"htmx={bool(headers)}: {response.text[:300]}"
        if actor is MANAGER:  # no route tells a manager without reveal-secrets anything of a value
            seen = response.text + str(response.headers)
            for value in (VALUE, VALUE + "-v1", NEW_VALUE):
                assert not shares_run(seen, value), (route, method, value)
        if status == 405:
            assert response.headers["Allow"] == ALLOWED_METHODS[route]
        if status == 302:
            assert response.headers["location"].startswith("/-/secrets")


def shares_run(text, value, size=6):
    """Whether ``text`` holds any ``size`` characters of ``value`` in a row."""
    return any(value[i : i + size] in text for i in range(len(value) - size + 1))


@SHARED
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_list_page_statuses(method, shared):
    for actor in (MANAGER, ROOT):
        for headers in ({}, HX):
            response = await shared.client.request(method, "/-/secrets", actor=actor, headers=headers)
            assert response.status_code == (200 if method == "GET" else 405)


# Each route with a name, by each method it accepts (HEAD is a GET). A route
# missing from ALLOWED_METHODS fails test_matrix_covers_every_route, not collection.
NAME_ROUTE_METHODS = [
    (t, method)
    for t in NAME_TEMPLATES
    for method in ALLOWED_METHODS.get(t, "").split(", ")
    if method and method != "HEAD"
]


@SHARED
@pytest.mark.parametrize("route,method", NAME_ROUTE_METHODS, ids=[f"{m}-{t}" for t, m in NAME_ROUTE_METHODS])
async def test_unknown_name_is_404(route, method, shared):
    before = await snapshot(shared)
    for headers in ({}, HX):
        response = await shared.client.request(
            method, path(route, "NO_SUCH_SECRET"), actor=ROOT, headers=headers,
            data={"secret": "v", "note": "", "version": "1"} if method == "POST" else None,
        )
        assert response.status_code == 404
        if headers:
            assert_error_fragment(response)
    assert await snapshot(shared) == before


@pytest.mark.asyncio
async def test_reveal_needs_both_permissions(seeded):
    for actor, status in ((MANAGER, 403), (REVEALER, 403), (OTHER, 403), (None, 403), (ROOT, 200)):
        response = await seeded.client.post("/-/secrets/API_KEY/reveal", actor=actor)
        assert response.status_code == status, actor
        assert (VALUE in response.text) == (status == 200)
    reveals = [row for row in await audit_rows(seeded) if row["action"] == "reveal"]
    assert [(r["actor_id"], r["version"]) for r in reveals] == [("root", 2)]


@SHARED
async def test_reveal_button_only_for_those_who_may_reveal(shared):
    await as_seeded(shared)
    for actor, has_button in ((MANAGER, False), (ROOT, True)):
        page = parse(await shared.client.get("/-/secrets", actor=actor))
        form = page.select_one("tbody#secret-API_KEY form[action='/-/secrets/API_KEY/reveal']")
        assert (form is not None) == has_button, actor


def has_menu_link(page):
    return any(
        a.get("href") == "/-/secrets" and "Manage secrets" in a.get_text() for a in parse(page).find_all("a")
    )


@SHARED
async def test_menu_link_only_for_managers(shared):
    for actor, expected in ((None, False), (OTHER, False), (REVEALER, False), (MANAGER, True), (ROOT, True)):
        response = await shared.client.get("/", actor=actor)
        assert response.status_code == 200
        assert has_menu_link(response) == expected, actor


GRANTS = {
    "permissions argument": {"permissions": {"manage-secrets": {"id": "root"}}},
    "config dict": {"permissions": None, "config": {"permissions": {"manage-secrets": {"id": "root"}}}},
    "root_enabled": {"permissions": None},
}


@pytest.mark.asyncio
@pytest.mark.parametrize("grant", GRANTS, ids=GRANTS.keys())
async def test_ways_to_grant_manage_secrets(grant, example_plugin, make_datasette):
    ds = make_datasette(**GRANTS[grant])
    if grant == "root_enabled":
        ds.root_enabled = True
    assert (await ds.client.get("/-/secrets", actor=ROOT)).status_code == 200
    assert has_menu_link(await ds.client.get("/", actor=ROOT))
    await store_value(ds, "API_KEY", "granted-value")
    assert await get_secret(ds, "API_KEY") == "granted-value"
    for actor in (None, OTHER):
        assert (await ds.client.get("/-/secrets", actor=actor)).status_code == 403
        assert not has_menu_link(await ds.client.get("/", actor=actor))


@pytest.mark.asyncio
async def test_root_enabled_root_may_reveal(example_plugin, make_datasette):
    ds = make_datasette(permissions=None)
    ds.root_enabled = True
    await store_value(ds, "API_KEY", "root-can-see-this")
    response = await ds.client.post("/-/secrets/API_KEY/reveal", actor=ROOT)
    assert response.status_code == 200
    assert parse(response).select_one(".secret-revealed-value").get_text() == "root-can-see-this"


@pytest.mark.asyncio
async def test_nobody_is_allowed_by_default(example_plugin, make_datasette):
    ds = make_datasette(permissions=None)
    for actor in (None, ROOT, OTHER):
        assert (await ds.client.get("/-/secrets", actor=actor)).status_code == 403
        assert not has_menu_link(await ds.client.get("/", actor=actor))


@pytest.mark.asyncio
async def test_last_four_only_for_those_who_may_reveal(seeded, example_plugin, make_datasette):
    """Managers without reveal-secrets, and everyone in write-only mode, see no hint."""
    tail = VALUE[-4:]
    for actor, shows in ((ROOT, True), (MANAGER, False)):
        for url, headers in (("/-/secrets", {}), ("/-/secrets/API_KEY/row", HX), ("/-/secrets/API_KEY/mask", HX)):
            response = await seeded.client.get(url, actor=actor, headers=headers)
            assert (tail in response.text) == shows, f"{actor} {url}"
    write_only = make_datasette(permissions=PERMISSIONS, settings={"reveal": False})
    await store_value(write_only, "API_KEY", VALUE)
    assert tail not in (await write_only.client.get("/-/secrets", actor=ROOT)).text
