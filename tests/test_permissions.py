"""Who may do what: manage-secrets, reveal-secrets, the menu link, and ways to grant them."""

import pytest
import pytest_asyncio

from datasette_secrets import get_secret
from secret_helpers import (
    HX,
    MANAGER,
    NAME_ROUTES,
    OTHER,
    ROOT,
    audit_rows,
    parse,
    secret_rows,
    store_value,
)

VALUE = "permission-test-value-0042"
REVEALER = {"id": "revealer"}  # reveal-secrets granted, manage-secrets not
PERMISSIONS = {
    "manage-secrets": {"id": [ROOT["id"], MANAGER["id"]]},
    "reveal-secrets": {"id": [ROOT["id"], REVEALER["id"]]},
}
POST_DATA = {"secret": "changed-by-an-intruder", "note": "intruder", "version": "1"}

ALL_PATHS = ["/-/secrets"] + [
    f"/-/secrets/{name}{route}" for name in ("API_KEY", "NO_SUCH_SECRET") for route in NAME_ROUTES
]


@pytest_asyncio.fixture
async def seeded(example_plugin, make_datasette):
    """API_KEY stored twice (versions 1 and 2)."""
    ds = make_datasette(permissions=PERMISSIONS)
    await store_value(ds, "API_KEY", VALUE + "-v1", note="first")
    await store_value(ds, "API_KEY", VALUE, note="second")
    return ds


async def snapshot(ds):
    return await secret_rows(ds), await audit_rows(ds)


def assert_error_fragment(response):
    """An htmx request's error: a small fragment retargeted to the status region."""
    assert response.headers["HX-Retarget"] == "#secrets-status"
    assert response.headers["HX-Reswap"] == "innerHTML"
    soup = parse(response)
    assert soup.find("html") is None
    error = soup.select_one("p.message-error")
    assert error is not None and error.get_text(strip=True)


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ALL_PATHS)
async def test_denied_for_anonymous_and_other_actors(path, seeded):
    before = await snapshot(seeded)
    for actor in (None, OTHER, REVEALER):
        for method in ("GET", "POST"):
            for headers in ({}, HX):
                kwargs = {"data": POST_DATA} if method == "POST" else {}
                response = await seeded.client.request(method, path, actor=actor, headers=headers, **kwargs)
                where = f"{method} {path} actor={actor} htmx={bool(headers)}"
                assert response.status_code == 403, where
                assert VALUE not in response.text, where
                assert "OTHER_KEY" not in response.text, f"{where}: secret names leaked"
                if headers:
                    assert_error_fragment(response)
    assert await snapshot(seeded) == before
    assert await get_secret(seeded, "API_KEY") == VALUE


@pytest.mark.asyncio
@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
async def test_other_methods_denied_before_method_check(method, seeded):
    for path in ("/-/secrets", "/-/secrets/API_KEY", "/-/secrets/API_KEY/delete"):
        assert (await seeded.client.request(method, path)).status_code == 403
        assert (await seeded.client.request(method, path, actor=OTHER)).status_code == 403
        response = await seeded.client.request(method, path, actor=MANAGER)
        assert response.status_code == 405, path


@pytest.mark.asyncio
async def test_denied_before_configuration_problems(example_plugin, make_datasette):
    """Without a key the routes answer 409 to managers, but 403 to everyone else."""
    ds = make_datasette(key=None, permissions=PERMISSIONS)
    for actor in (None, OTHER):
        for headers in ({}, HX):
            response = await ds.client.post("/-/secrets/API_KEY", data=POST_DATA, actor=actor, headers=headers)
            assert response.status_code == 403
    assert (await ds.client.post("/-/secrets/API_KEY", data=POST_DATA, actor=MANAGER)).status_code == 409


NOT_POST = ["GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"]


@pytest.mark.asyncio
@pytest.mark.parametrize("method", NOT_POST)
async def test_only_post_writes(method, seeded):
    """No other method changes anything, for anyone: HEAD once deleted secrets."""
    before = await snapshot(seeded)
    for path in ALL_PATHS:
        for actor in (None, OTHER, MANAGER, ROOT):
            for headers in ({}, HX):
                response = await seeded.client.request(
                    method, path, actor=actor, headers=headers, data=POST_DATA
                )
                assert response.status_code < 500, f"{method} {path} {actor}"
    assert await snapshot(seeded) == before
    assert await get_secret(seeded, "API_KEY") == VALUE


# (route, method) -> (status without htmx, status with htmx), for a manager who
# may not reveal and for root who may.
MANAGER_STATUSES = {
    ("", "GET"): (200, 200),
    ("", "POST"): (302, 200),
    ("/row", "GET"): (302, 200),
    ("/row", "POST"): (405, 405),
    ("/history", "GET"): (200, 200),
    ("/history", "POST"): (405, 405),
    ("/restore", "GET"): (405, 405),
    ("/restore", "POST"): (302, 200),
    ("/delete", "GET"): (200, 200),
    ("/delete", "POST"): (302, 200),
    ("/reveal", "GET"): (403, 403),
    ("/reveal", "POST"): (403, 403),
    ("/mask", "GET"): (302, 200),
    ("/mask", "POST"): (405, 405),
}
ROOT_STATUSES = dict(MANAGER_STATUSES)
ROOT_STATUSES[("/reveal", "GET")] = (405, 405)
ROOT_STATUSES[("/reveal", "POST")] = (200, 200)
# GET routes answer HEAD too.
ALLOWED_METHODS = {"": "GET, POST, HEAD", "/row": "GET, HEAD", "/history": "GET, HEAD", "/restore": "POST", "/delete": "GET, POST, HEAD", "/reveal": "POST", "/mask": "GET, HEAD"}


@pytest.mark.asyncio
@pytest.mark.parametrize("actor", [MANAGER, ROOT], ids=["manager", "root"])
@pytest.mark.parametrize("route,method", list(MANAGER_STATUSES), ids=[f"{m}-{r or '/'}" for r, m in MANAGER_STATUSES])
async def test_statuses_for_those_allowed(route, method, actor, seeded):
    expected = (MANAGER_STATUSES if actor is MANAGER else ROOT_STATUSES)[(route, method)]
    for headers, status in zip(({}, HX), expected):
        if (route, method) == ("/delete", "POST"):
            await store_value(seeded, "API_KEY", VALUE)  # something to delete each time
        data = {"secret": "new-value-by-manager", "note": "n", "version": "1"} if method == "POST" else None
        response = await seeded.client.request(
            method, f"/-/secrets/API_KEY{route}", actor=actor, headers=headers, data=data
        )
        assert response.status_code == status, f"htmx={bool(headers)}: {response.text[:300]}"
        if status == 405:
            assert response.headers["Allow"] == ALLOWED_METHODS[route]
        if status == 302:
            assert response.headers["location"].startswith("/-/secrets")


@pytest.mark.asyncio
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_list_page_statuses(method, seeded):
    for actor in (MANAGER, ROOT):
        for headers in ({}, HX):
            response = await seeded.client.request(method, "/-/secrets", actor=actor, headers=headers)
            assert response.status_code == (200 if method == "GET" else 405)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "route,method",
    [("", "GET"), ("", "POST"), ("/row", "GET"), ("/history", "GET"), ("/restore", "POST"),
     ("/delete", "GET"), ("/delete", "POST"), ("/reveal", "POST"), ("/mask", "GET")],
)
async def test_unknown_name_is_404(route, method, seeded):
    for headers in ({}, HX):
        response = await seeded.client.request(
            method, f"/-/secrets/NO_SUCH_SECRET{route}", actor=ROOT, headers=headers,
            data={"secret": "v", "note": "", "version": "1"} if method == "POST" else None,
        )
        assert response.status_code == 404
        if headers:
            assert_error_fragment(response)


@pytest.mark.asyncio
async def test_reveal_needs_both_permissions(seeded):
    for actor, status in ((MANAGER, 403), (REVEALER, 403), (OTHER, 403), (None, 403), (ROOT, 200)):
        response = await seeded.client.post("/-/secrets/API_KEY/reveal", actor=actor)
        assert response.status_code == status, actor
        assert (VALUE in response.text) == (status == 200)
    reveals = [row for row in await audit_rows(seeded) if row["action"] == "reveal"]
    assert [(r["actor_id"], r["version"]) for r in reveals] == [("root", 2)]


@pytest.mark.asyncio
async def test_reveal_button_only_for_those_who_may_reveal(seeded):
    for actor, has_button in ((MANAGER, False), (ROOT, True)):
        page = parse(await seeded.client.get("/-/secrets", actor=actor))
        form = page.select_one("tbody#secret-API_KEY form[action='/-/secrets/API_KEY/reveal']")
        assert (form is not None) == has_button, actor


def has_menu_link(page):
    return any(
        a.get("href") == "/-/secrets" and "Manage secrets" in a.get_text() for a in parse(page).find_all("a")
    )


@pytest.mark.asyncio
async def test_menu_link_only_for_managers(seeded):
    for actor, expected in ((None, False), (OTHER, False), (REVEALER, False), (MANAGER, True), (ROOT, True)):
        response = await seeded.client.get("/", actor=actor)
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
        for path, headers in (("/-/secrets", {}), ("/-/secrets/API_KEY/row", HX), ("/-/secrets/API_KEY/mask", HX)):
            response = await seeded.client.get(path, actor=actor, headers=headers)
            assert (tail in response.text) == shows, f"{actor} {path}"
    write_only = make_datasette(permissions=PERMISSIONS, settings={"reveal": False})
    await store_value(write_only, "API_KEY", VALUE)
    assert tail not in (await write_only.client.get("/-/secrets", actor=ROOT)).text
