"""Issue 21's smaller points in the markup: the label "No longer used" (the key
``orphan`` stays), History's one heading, its key id column only when keys differ,
its filled confirm button, and secrets.js under 150 lines. (The browser side: playwright_tests/test_small_points.py.)"""

from pathlib import Path

import pytest

import datasette_secrets
from datasette_secrets.crypto import Key
from secret_helpers import HX, ROOT, insert_row, parse, row_of, store_value


def history_table(page):
    return parse(page).select_one("table.secret-versions")


def column_headers(table):
    return [th.get_text(strip=True) for th in table.select("thead th")]


@pytest.mark.asyncio
async def test_an_orphan_is_labelled_no_longer_used_and_keeps_its_key(ds, key):
    await insert_row(ds, "RETIRED_KEY", Key(key).encrypt("RETIRED_KEY", 1, "old"), Key(key).id)
    page = await ds.client.get("/-/secrets", actor=ROOT)
    soup = parse(page)
    link = soup.select_one('nav.secrets-statuses a[href="/-/secrets?status=orphan"]')
    assert link.get_text(strip=True) == "No longer used (1)"
    assert row_of(soup, "RETIRED_KEY").select_one(".secret-orphan-note").get_text(strip=True).startswith(
        "No longer used: "
    )
    assert "Orphan" not in page.text
    filtered = await ds.client.get("/-/secrets?status=orphan&q=nothing-matches", actor=ROOT)
    assert "with status “No longer used”" in filtered.text
    assert "Orphan" not in filtered.text


@pytest.mark.asyncio
async def test_history_has_one_visible_heading_and_no_key_id_when_one_key(ds):
    await store_value(ds, "API_KEY", "first-value", note="first")
    await store_value(ds, "API_KEY", "second-value", note="second")
    for page, heading in (
        (await ds.client.get("/-/secrets/API_KEY/history", actor=ROOT), "h1"),
        (await ds.client.get("/-/secrets/API_KEY/history", actor=ROOT, headers=HX), "h2"),
    ):
        soup = parse(page)
        assert [h.get_text(" ", strip=True) for h in soup.select(heading)][:1] == ["History of API_KEY"]
        table = history_table(soup)
        # The caption names the table for screen readers; the heading is the one a reader sees.
        assert table.caption.get_text(" ", strip=True) == "Versions of API_KEY"
        assert "visually-hidden" in table.caption["class"]
        assert column_headers(table) == ["Version", "Stored", "Note", "Actions"]
        assert table.select('td[data-label="Key id"]') == []


@pytest.mark.asyncio
async def test_history_shows_the_key_id_when_versions_keys_differ(example_plugin, make_datasette, key, other_key):
    ds = make_datasette(key=key, settings={"previous_encryption_keys": [other_key]})
    await ds.invoke_startup()
    old, new = Key(other_key).id, Key(key).id
    # Version 1 under another key, written straight to the table first; version 2 through the plugin.
    await insert_row(ds, "API_KEY", Key(other_key).encrypt("API_KEY", 1, "old-value"), old)
    await store_value(ds, "API_KEY", "new-value")
    soup = parse(await ds.client.get("/-/secrets/API_KEY/history", actor=ROOT))
    table = history_table(soup)
    assert column_headers(table) == ["Version", "Stored", "Note", "Key id", "Actions"]
    assert [td.get_text(strip=True) for td in table.select('td[data-label="Key id"]')] == [new, old]


@pytest.mark.asyncio
async def test_restore_confirmation_button_is_the_filled_primary(ds):
    await store_value(ds, "API_KEY", "first-value")
    await store_value(ds, "API_KEY", "second-value")
    for headers in ({}, HX):
        page = await ds.client.get("/-/secrets/API_KEY/restore?version=1", actor=ROOT, headers=headers)
        assert page.status_code == 200
        form = parse(page).select_one("form.secret-confirm")
        yes = form.find("button", string="Restore version 1")
        assert "secret-primary" in yes["class"]
        # In the row the confirmation sits in the history table, spanning its four columns.
        if headers:
            assert form.find_parent("td")["colspan"] == "4"



def test_secrets_js_stays_under_150_lines():
    """Issue 21's JavaScript rule: new behaviour goes in htmx attributes and CSS."""
    path = Path(datasette_secrets.__file__).parent / "static" / "secrets.js"
    assert len(path.read_text().splitlines()) < 150
