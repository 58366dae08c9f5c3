"""A long list comes in pages: plain links without JavaScript, in place with htmx."""

import pytest
import pytest_asyncio

from datasette_secrets import Secret
from datasette_secrets.views.paging import PAGE_SIZE
from secret_helpers import HX, ROOT, flash_messages, follow, parse, secrets_plugin, shown, store_value

COUNT = PAGE_SIZE * 2 + 5  # three pages, the last one short
NAMES = [f"KEY_{i:03d}" for i in range(COUNT)]


@pytest_asyncio.fixture
async def many(register_plugin, make_datasette):
    secrets = [Secret(name, f"Service number {i}") for i, name in enumerate(NAMES)]
    register_plugin(secrets_plugin(*secrets), "many-secrets-plugin")
    ds = make_datasette()
    await ds.invoke_startup()
    return ds


def page_links(response):
    nav = parse(response).select_one("nav.secrets-pages")
    return {a.get_text(" ", strip=True): a for a in nav.find_all("a")} if nav else {}


@pytest.mark.asyncio
async def test_pages_with_plain_links(many):
    first = await many.client.get("/-/secrets", actor=ROOT)
    assert shown(first) == NAMES[:PAGE_SIZE]
    links = page_links(first)
    assert set(links) == {"Next page"}
    assert parse(first).select_one("#secrets-count").get_text(" ", strip=True) == f"{COUNT} secrets."
    assert f"Page 1 of 3: 1–{PAGE_SIZE}" in parse(first).select_one("nav.secrets-pages").get_text(" ", strip=True)

    second = await many.client.get(links["Next page"]["href"], actor=ROOT)
    assert shown(second) == NAMES[PAGE_SIZE : PAGE_SIZE * 2]
    assert set(page_links(second)) == {"Previous page", "Next page"}

    last = await many.client.get(page_links(second)["Next page"]["href"], actor=ROOT)
    assert shown(last) == NAMES[PAGE_SIZE * 2 :]
    assert set(page_links(last)) == {"Previous page"}
    previous = await many.client.get(page_links(last)["Previous page"]["href"], actor=ROOT)
    assert shown(previous) == shown(second)


@pytest.mark.asyncio
async def test_page_links_load_in_place_with_htmx(many):
    first = await many.client.get("/-/secrets", actor=ROOT)
    link = page_links(first)["Next page"]
    assert link["hx-get"] == link["href"]
    assert link["hx-target"] == "#secrets-results" and link["hx-swap"] == "outerHTML"
    response = await many.client.get(link["hx-get"], actor=ROOT, headers=HX)
    soup = parse(response)
    assert soup.find("html") is None, "a fragment, not a page"
    assert soup.select_one("#secrets-results") is not None
    assert shown(response) == NAMES[PAGE_SIZE : PAGE_SIZE * 2]


@pytest.mark.asyncio
async def test_filter_searches_every_page(many):
    response = await many.client.get("/-/secrets?q=number+54", actor=ROOT)
    assert shown(response) == ["KEY_054"]
    assert NAMES[-1] == f"KEY_{COUNT - 1:03d}"
    response = await many.client.get(f"/-/secrets?q=KEY_{COUNT - 1:03d}", actor=ROOT)
    assert shown(response) == [NAMES[-1]]


@pytest.mark.asyncio
async def test_filtered_pages_keep_the_filter(many):
    first = await many.client.get("/-/secrets?q=KEY", actor=ROOT)
    href = page_links(first)["Next page"]["href"]
    assert "q=KEY" in href and "page=2" in href
    assert shown(await many.client.get(href, actor=ROOT)) == NAMES[PAGE_SIZE : PAGE_SIZE * 2]


@pytest.mark.asyncio
async def test_a_page_past_the_end_shows_the_last_page(many):
    for page in ("4", "999", "9" * 40):
        response = await many.client.get(f"/-/secrets?page={page}", actor=ROOT)
        assert response.status_code == 200
        assert shown(response) == NAMES[PAGE_SIZE * 2 :]


@pytest.mark.asyncio
@pytest.mark.parametrize("page", ["0", "-1", "two", "1.5", "²", ""])
async def test_a_bad_page_number_is_a_clear_400(page, many):
    response = await many.client.get(f"/-/secrets?page={page}", actor=ROOT)
    assert response.status_code == 400
    assert "page must be a whole number" in response.text
    response = await many.client.get(f"/-/secrets?page={page}", actor=ROOT, headers=HX)
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#secrets-status"


@pytest.mark.asyncio
async def test_a_short_list_has_no_page_links(ds):
    response = await ds.client.get("/-/secrets", actor=ROOT)
    assert page_links(response) == {}
    assert parse(response).select_one(".secrets-count").get_text(" ", strip=True) == "3 secrets."


@pytest.mark.asyncio
async def test_after_a_change_without_javascript_the_page_shows_the_row(many):
    """The redirect reads nothing to find the row's page: the message it leaves names
    the row, and the list opens at the page that shows it, wherever the change moved it."""
    name = NAMES[-1]  # on page 3 while not set; a value moves it up to the values in use
    response = await store_value(many, name, "a-value")
    assert response.headers["location"] == f"/-/secrets#secret-{name}"
    page = await follow(many, response)
    assert shown(page)[0] == name
    assert flash_messages(page) == [f"Saved {name}: version 1."]

    # Values for every name but one on page 3: a second version of the last of them
    # keeps it on page 2, which the list opens at.
    for other in NAMES[: PAGE_SIZE * 2 - 1]:
        await store_value(many, other, "a-value")
    name = NAMES[PAGE_SIZE * 2 - 2]
    response = await store_value(many, name, "another-value")
    assert response.headers["location"] == f"/-/secrets#secret-{name}"
    page = await follow(many, response)
    assert name in shown(page)
    assert "Page 2 of 3" in parse(page).select_one("nav.secrets-pages").get_text(" ", strip=True)
    assert flash_messages(page) == [f"Saved {name}: version 2."]
    # Once said, the list opens at its first page again
    assert "Page 1 of 3" in parse(await many.client.get("/-/secrets", actor=ROOT)).select_one("nav.secrets-pages").get_text(" ", strip=True)
