"""The owners page of a personal secret (/-/secrets/NAME/owners), issue 21 must fix 2:
deleting another person's own value is asked, then done (never one click), names
the person and what their plugins get next, and says what happened afterwards."""

import re

import pytest
import pytest_asyncio

from datasette_secrets import Secret, get_secret
from secret_helpers import HX, MANAGER, OTHER, ROOT, parse, secrets_plugin, store_value

ALICE = {"id": "alice"}
BOB = {"id": "bob"}
ALICE_VALUE = "sk-alice-Owners-7731"
OWNERS = "/-/secrets/AI_KEY/owners"


@pytest_asyncio.fixture
async def ds(register_plugin, make_datasette):
    register_plugin(
        secrets_plugin(Secret("AI_KEY", "Your own AI key", personal=True), Secret("SHARED_KEY", "Only shared")),
        "owners-plugin",
    )
    datasette = make_datasette()
    await datasette.invoke_startup()
    for actor, value in ((ALICE, ALICE_VALUE), (BOB, "sk-bob-Owners-0001")):
        response = await datasette.client.post("/-/secrets/-/mine/AI_KEY", data={"secret": value}, actor=actor)
        assert response.status_code == 302
    return datasette


def text(soup):
    """The text as it reads: runs of whitespace as one space."""
    return re.sub(r"\s+", " ", soup.get_text()).strip()


@pytest.mark.asyncio
async def test_the_page_offers_a_delete_per_person_that_only_asks(ds):
    page = parse(await ds.client.get(OWNERS, actor=MANAGER))
    table = page.select_one("table.secrets-owners")
    assert text(table.caption) == "2 people have a value of their own"
    button = page.select_one("tbody#owner-alice button")
    assert button["aria-label"] == "Delete alice's own value"
    assert text(button) == "Delete"  # the visible word is in the accessible name
    form = button.find_parent("form")
    # A GET form: pressing it asks, it does not delete
    assert form.get("method", "get").lower() == "get" and form["action"] == OWNERS
    assert form.select_one("input[name=delete]")["value"] == "alice"
    assert button["hx-get"] == f"{OWNERS}?delete=alice"
    assert page.select("main form[method=post]") == []
    assert await get_secret(ds, "AI_KEY", "alice") == ALICE_VALUE


@pytest.mark.asyncio
async def test_asking_shows_the_confirmation_naming_the_person_and_what_follows(ds):
    page = parse(await ds.client.get(f"{OWNERS}?delete=alice", actor=MANAGER))
    confirm = page.select_one("tbody#owner-alice tr.secret-deleting form.secret-confirm")
    assert confirm["method"] == "post" and confirm["action"] == OWNERS
    assert confirm.select_one("input[name=actor]")["value"] == "alice"
    assert text(confirm.p) == (
        "Delete alice's own value of AI_KEY? alice's plugins then get no value: no shared value is set."
        " It is gone for good: only alice can store a new one."
    )
    assert text(confirm.select_one("button.secret-danger.secret-primary")) == "Delete alice's value"
    assert confirm.select_one("a.secret-cancel")["href"] == f"{OWNERS}#owner-alice"
    # Only alice's row asks; bob's is as it was
    assert page.select_one("tbody#owner-bob tr.secret-deleting") is None
    assert await get_secret(ds, "AI_KEY", "alice") == ALICE_VALUE

    await store_value(ds, "AI_KEY", "sk-shared-Owners-0000")
    page = parse(await ds.client.get(f"{OWNERS}?delete=alice", actor=MANAGER))
    assert "alice's plugins then use the shared value." in text(page.select_one("form.secret-confirm p"))


@pytest.mark.asyncio
async def test_with_htmx_asking_and_cancelling_answer_with_the_row_alone(ds):
    asked = await ds.client.get(f"{OWNERS}?delete=alice", actor=MANAGER, headers=HX)
    assert asked.status_code == 200 and "<html" not in asked.text
    row = parse(asked).select_one("tbody#owner-alice")
    assert row.select_one("form.secret-confirm button[autofocus]")
    assert row.select_one("a.secret-cancel")["hx-get"] == f"{OWNERS}?row=alice"
    cancelled = parse(await ds.client.get(f"{OWNERS}?row=alice", actor=MANAGER, headers=HX))
    assert cancelled.select_one("tbody#owner-alice tr.secret-deleting") is None
    assert cancelled.select_one("tbody#owner-alice button[autofocus]")["aria-label"] == "Delete alice's own value"


@pytest.mark.asyncio
async def test_the_post_deletes_and_says_so_on_the_page_it_redirects_to(ds):
    response = await ds.client.post(OWNERS, data={"actor": "alice"}, actor=MANAGER)
    assert response.status_code == 302 and response.headers["location"] == OWNERS
    assert await get_secret(ds, "AI_KEY", "alice") is None
    assert await get_secret(ds, "AI_KEY", "bob") == "sk-bob-Owners-0001"
    cookies = {key: value for key, value in response.cookies.items()}
    page = parse(await ds.client.get(OWNERS, actor=MANAGER, cookies=cookies))
    done = page.select_one("p.secrets-owners-done[role=status]")
    assert text(done) == "Deleted alice's own value of AI_KEY. alice's plugins now get no value: no shared value is set."
    assert text(page.select_one("table.secrets-owners caption")) == "1 person has a value of their own"
    assert page.select_one("tbody#owner-alice") is None


@pytest.mark.asyncio
async def test_with_htmx_the_result_takes_the_rows_place_and_the_count_follows(ds):
    await store_value(ds, "AI_KEY", "sk-shared-Owners-0000")
    response = await ds.client.post(OWNERS, data={"actor": "alice"}, actor=MANAGER, headers=HX)
    assert response.status_code == 200
    soup = parse(response)
    done = soup.select_one("tbody#owner-alice tr.secret-feedback td[role=status]")
    assert text(done) == "Deleted alice's own value of AI_KEY. alice's plugins now use the shared value."
    assert soup.select_one("tbody#owner-alice button") is None
    partial = soup.select_one("hx-partial[hx-target='#owners-caption']")
    assert text(partial) == "1 person has a value of their own"
    assert await get_secret(ds, "AI_KEY", "alice") == "sk-shared-Owners-0000"


@pytest.mark.asyncio
async def test_the_value_never_shows(ds):
    for response in (
        await ds.client.get(OWNERS, actor=ROOT),
        await ds.client.get(f"{OWNERS}?delete=alice", actor=ROOT),
        await ds.client.get(f"{OWNERS}?delete=alice", actor=ROOT, headers=HX),
        await ds.client.post(OWNERS, data={"actor": "alice"}, actor=ROOT, headers=HX),
    ):
        assert response.status_code == 200
        assert ALICE_VALUE not in response.text and "Owners-7731" not in response.text


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "method, path, data",
    [
        ("get", f"{OWNERS}?delete=alice", None),
        ("get", f"{OWNERS}?row=alice", None),
        ("post", OWNERS, {"actor": "alice"}),
    ],
)
async def test_permission_first_then_the_person(ds, method, path, data):
    """Without manage-secrets: 403, even for a person or a secret that does not exist;
    with it: 404 for someone without an own value, and for a secret that is not personal."""
    send = getattr(ds.client, method)
    kwargs = {"data": data} if data else {}
    for actor in (None, OTHER):
        assert (await send(path, actor=actor, **kwargs)).status_code == 403
        assert (await send(path.replace("alice", "nobody"), actor=actor, **(
            {"data": {"actor": "nobody"}} if data else {}))).status_code == 403
        assert (await send(path.replace("AI_KEY", "SHARED_KEY"), actor=actor, **kwargs)).status_code == 403
    nobody = {"data": {"actor": "nobody-" + "x" * 5000}} if data else {}
    missing = await send(path.replace("alice", "nobody-" + "x" * 5000), actor=MANAGER, **nobody)
    assert missing.status_code == 404
    assert "x" * 100 not in missing.text  # the id is not repeated: it could be megabytes
    assert (await send(path.replace("AI_KEY", "SHARED_KEY"), actor=MANAGER, **kwargs)).status_code == 404
    assert await get_secret(ds, "AI_KEY", "alice") == ALICE_VALUE


@pytest.mark.asyncio
async def test_delete_is_a_post_only(ds):
    """No GET deletes: asking twice, or asking for the row, changes nothing."""
    for path in (f"{OWNERS}?delete=alice", f"{OWNERS}?row=alice", f"{OWNERS}?delete=alice&actor=alice"):
        await ds.client.get(path, actor=MANAGER)
        await ds.client.get(path, actor=MANAGER, headers=HX)
    assert await get_secret(ds, "AI_KEY", "alice") == ALICE_VALUE
