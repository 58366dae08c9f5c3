"""The list as an admin works through it: feedback at the row, Undo, Copy without
showing, the count, real buttons, focus. (The browser side: playwright_tests.)"""

import pytest

from datasette_secrets import get_secret
from secret_helpers import (
    HX,
    MANAGER,
    ROOT,
    audit_rows,
    flash_messages,
    follow,
    insert_row,
    parse,
    row_feedback,
    row_of,
    store_value,
)

VALUE = "copied-but-never-shown-4242"


# Feedback at the row, with and without JavaScript


@pytest.mark.asyncio
async def test_without_javascript_the_message_is_at_the_row_once(ds):
    response = await store_value(ds, "OTHER_KEY", VALUE)
    assert response.headers["location"].endswith("#secret-OTHER_KEY")
    cookie = response.cookies["ds_secrets_done"]
    assert VALUE not in cookie
    page = await follow(ds, response)
    assert row_feedback(page, "OTHER_KEY") == "Saved OTHER_KEY: version 1."
    assert flash_messages(page) == ["Saved OTHER_KEY: version 1."], "and in the notice"
    assert row_feedback(page, "API_KEY") is None
    assert "ds_secrets_done" in page.headers.get("set-cookie", ""), "read once: the page clears it"
    again = await ds.client.get("/-/secrets", actor=ROOT)
    assert row_feedback(again, "OTHER_KEY") is None and flash_messages(again) == []


@pytest.mark.asyncio
async def test_a_forged_message_cookie_is_ignored(ds):
    forged = {"ds_secrets_done": "eyJuYW1lIjoiT1RIRVJfS0VZIn0.forged"}
    page = await ds.client.get("/-/secrets", actor=ROOT, cookies=forged)
    assert page.status_code == 200
    assert row_feedback(page, "OTHER_KEY") is None and flash_messages(page) == []


@pytest.mark.asyncio
async def test_without_javascript_a_delete_offers_undo_at_the_row(ds):
    await store_value(ds, "API_KEY", VALUE)
    response = await ds.client.post("/-/secrets/API_KEY/delete", actor=ROOT)
    page = await follow(ds, response)
    assert row_feedback(page, "API_KEY") == "Deleted API_KEY. Undo"
    undo = row_of(parse(page), "API_KEY").find("button", attrs={"aria-label": "Undo API_KEY"})
    form = undo.find_parent("form")
    data = {i["name"]: i["value"] for i in form.find_all("input")}
    restored = await ds.client.post(form["action"], data=data, actor=ROOT)
    assert await get_secret(ds, "API_KEY") == VALUE
    assert row_feedback(await follow(ds, restored), "API_KEY") == "Restored API_KEY."


# The editor


@pytest.mark.asyncio
async def test_the_editor_opens_under_the_row_and_counts_the_note(ds):
    await store_value(ds, "API_KEY", VALUE, note="twelve chars")
    response = await ds.client.get("/-/secrets/API_KEY", actor=ROOT, headers=HX)
    soup = parse(response)
    # Only the editor's own row: the secret's row, description and obtain link stay above it.
    assert [tr["class"] for tr in soup.find_all("tr")] == [["secret-open", "secret-editing"]]
    assert soup.tr["id"] == "edit-API_KEY"
    note = soup.find("textarea", attrs={"name": "note"})
    assert note["maxlength"] == "200"
    count = soup.find(id=note["aria-describedby"].split()[-1])
    assert count.get_text() == "12/200 characters"
    assert soup.form["aria-label"] == "Edit API_KEY"


@pytest.mark.asyncio
async def test_the_page_without_javascript_names_the_edit_once(ds):
    await store_value(ds, "API_KEY", VALUE)
    page = parse(await ds.client.get("/-/secrets/API_KEY", actor=ROOT))
    text = page.select_one("main").get_text(" ", strip=True)
    assert text.count("Edit API_KEY") == 1
    assert page.find("h1").get_text(strip=True) == "Edit API_KEY"


# Copy without showing


@pytest.mark.asyncio
async def test_copy_answers_the_value_as_text_and_is_audited_as_a_reveal(ds, events):
    await store_value(ds, "API_KEY", VALUE)
    response = await ds.client.post("/-/secrets/API_KEY/copy", actor=ROOT, headers=HX)
    assert response.status_code == 200
    assert response.text == VALUE
    assert response.headers["content-type"].startswith("text/plain")
    assert "no-store" in response.headers["cache-control"]
    assert (await audit_rows(ds))[-1] | {"created_at": None} == {
        "name": "API_KEY", "version": 1, "action": "reveal", "detail": "copied to the clipboard",
        "actor_id": "root", "created_at": None,
    }
    assert [e.name for e in events][-1] == "reveal-secret"
    history = parse(await ds.client.get("/-/secrets/API_KEY/history", actor=ROOT))
    assert "copied version 1 to the clipboard" in history.select_one("ol.secret-events").get_text()


@pytest.mark.asyncio
async def test_copy_is_allowed_only_where_reveal_is(ds, monkeypatch):
    await store_value(ds, "API_KEY", VALUE)
    assert (await ds.client.post("/-/secrets/API_KEY/copy", actor=MANAGER)).status_code == 403
    assert (await ds.client.post("/-/secrets/API_KEY/copy")).status_code == 403
    assert (await ds.client.post("/-/secrets/OTHER_KEY/copy", actor=ROOT)).status_code == 404
    monkeypatch.setenv("DATASETTE_SECRETS_ENV_KEY", "from-env")
    assert (await ds.client.post("/-/secrets/ENV_KEY/copy", actor=ROOT)).status_code == 403
    cross = await ds.client.post("/-/secrets/API_KEY/copy", actor=ROOT, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    assert [r["action"] for r in await audit_rows(ds)] == ["set"], "nothing refused was recorded"


@pytest.mark.asyncio
async def test_copy_shares_the_reveal_limit(make_datasette, example_plugin):
    ds = make_datasette(settings={"reveals_per_minute": 2})
    await store_value(ds, "API_KEY", VALUE)
    statuses = [(await ds.client.post("/-/secrets/API_KEY/copy", actor=ROOT)).status_code for _ in range(2)]
    statuses.append((await ds.client.post("/-/secrets/API_KEY/reveal", actor=ROOT)).status_code)
    assert statuses == [200, 200, 429]


@pytest.mark.asyncio
async def test_the_copy_button_falls_back_to_reveal_and_only_for_revealers(ds):
    await store_value(ds, "API_KEY", VALUE)
    row = row_of(parse(await ds.client.get("/-/secrets", actor=ROOT)), "API_KEY")
    copy = row.find("button", attrs={"aria-label": "Copy API_KEY"})
    assert copy.has_attr("data-copy")  # secrets.js POSTs to .../copy, beside the form's .../reveal
    # Without JavaScript it submits the Reveal form.
    form = copy.find_parent("form")
    assert (form["method"], form["action"]) == ("post", "/-/secrets/API_KEY/reveal")
    assert VALUE not in str(row)
    manager_row = row_of(parse(await ds.client.get("/-/secrets", actor=MANAGER)), "API_KEY")
    assert manager_row.find("button", attrs={"aria-label": "Copy API_KEY"}) is None


# Masking again: said, and focus back on Reveal


@pytest.mark.asyncio
async def test_masking_again_is_announced(ds):
    await store_value(ds, "API_KEY", VALUE)
    soup = parse(await ds.client.get("/-/secrets/API_KEY/mask?focus=reveal", actor=ROOT, headers=HX))
    assert soup.find("hx-partial", attrs={"hx-target": "#secrets-status"}).get_text(strip=True) == "API_KEY is hidden again."
    assert soup.find("button", autofocus=True)["aria-label"] == "Reveal API_KEY"
    revealed = parse(await ds.client.post("/-/secrets/API_KEY/reveal", actor=ROOT, headers=HX))
    hide = revealed.find("button", attrs={"aria-label": "Hide API_KEY"})
    assert hide["hx-get"] == "/-/secrets/API_KEY/mask?focus=reveal"
    assert (hide["hx-target"], hide["hx-swap"]) == ("closest td", "innerHTML"), "only the value cell, not the row"


# The count, announced


@pytest.mark.asyncio
async def test_the_count_is_sent_to_its_status_region(ds):
    page = parse(await ds.client.get("/-/secrets", actor=ROOT))
    count = page.select_one("#secrets-count")
    assert count["role"] == "status"
    assert count.get_text(strip=True) == "3 secrets."
    assert count.find_parent(id="secrets-results") is None, "outside what a filter swaps"
    fragment = parse(await ds.client.get("/-/secrets?q=key+api", actor=ROOT, headers=HX))
    partial = fragment.find("hx-partial", attrs={"hx-target": "#secrets-count"})
    assert partial.get_text(strip=True) == "1 of 3 secrets shown matching “key api”."
    unset = parse(await ds.client.get("/-/secrets?status=unset", actor=ROOT))
    assert unset.select_one("#secrets-count").get_text(strip=True) == "3 of 3 secrets shown with status “Not set”."


# Real buttons, one vocabulary, row headers that are just names


@pytest.mark.asyncio
async def test_every_control_in_a_row_is_a_named_button(ds, key, monkeypatch):
    from datasette_secrets.crypto import Key

    # Written straight to the table (as an uninstalled plugin's secret stays), before the plugin reads it.
    await insert_row(ds, "GONE_PLUGIN_KEY", Key(key).encrypt("GONE_PLUGIN_KEY", 1, VALUE), Key(key).id)
    await store_value(ds, "API_KEY", VALUE)
    await store_value(ds, "OTHER_KEY", VALUE)
    await ds.client.post("/-/secrets/OTHER_KEY/delete", actor=ROOT)
    monkeypatch.setenv("DATASETTE_SECRETS_ENV_KEY", "from-env")
    page = parse(await ds.client.get("/-/secrets", actor=ROOT))
    # Links only navigate: to get a key (a new tab), and Set/Edit to the editor's page
    # (htmx opens it in place; a GET form would leave a stray "?" in its URL).
    links = {
        tbody.th.get_text(): [a["aria-label"] for a in tbody.find_all("a") if a["class"] != ["secret-obtain"]]
        for tbody in page.select("tbody.secret")
    }
    assert links == {
        "API_KEY": ["Edit API_KEY"], "ENV_KEY": ["Store a fallback value for ENV_KEY"], "GONE_PLUGIN_KEY": [], "OTHER_KEY": []
    }
    for tbody in page.select("tbody.secret"):
        name = tbody.th.get_text()
        assert [child.name for child in tbody.th.find_all(True, recursive=False)] == ["code"], "the row header is the name alone"
        assert tbody.select_one("tr.secret-about").get_text(strip=True), "what it is comes under the row"
        for control in tbody.find_all(["button", "a"], class_=lambda c: c != "secret-obtain"):
            label = control.get("aria-label") or ""
            assert label.startswith(control.get_text(strip=True)) and label.endswith(name), str(control)
    actions = {
        tbody.th.get_text(): [
            c["aria-label"].rsplit(" ", 1)[0] for c in tbody.select("td.secret-actions button, td.secret-actions a")
        ]
        for tbody in page.select("tbody.secret")
    }
    # "More about": a phone's card unfolds the rest on a tap (hidden at desktop widths)
    assert actions == {
        "API_KEY": ["Edit", "More about", "History of", "Delete"],
        "ENV_KEY": ["Store a fallback value for", "More about"],  # stored behind the variable, with a warning (rules.py)
        "GONE_PLUGIN_KEY": ["More about", "History of", "Delete"],
        "OTHER_KEY": ["Restore", "More about", "History of"],
    }
    # One primary action per row, the one its state calls for; an orphan can only be deleted, and
    # a value from the environment has one already (storing is a quiet fallback).
    primary = {
        tbody.th.get_text(): [c["aria-label"] for c in tbody.select("td.secret-actions .secret-primary")]
        for tbody in page.select("tbody.secret")
    }
    assert primary == {
        "API_KEY": ["Edit API_KEY"],
        "ENV_KEY": [],
        "GONE_PLUGIN_KEY": [],
        "OTHER_KEY": ["Restore OTHER_KEY"],
    }
    gone = row_of(page, "GONE_PLUGIN_KEY").select_one("tr.secret-about").get_text(" ", strip=True)
    assert gone == "No longer used: No plugin registers this name any more; it can only be deleted."


@pytest.mark.asyncio
async def test_history_tells_what_happened_in_order(ds):
    await store_value(ds, "API_KEY", "first-value", note="one")
    await store_value(ds, "API_KEY", "second-value", note="two")
    await store_value(ds, "API_KEY", "", note="two, amended")
    await ds.client.post("/-/secrets/API_KEY/reveal", actor=ROOT)
    await ds.client.post("/-/secrets/API_KEY/delete", actor=MANAGER)
    await ds.client.post("/-/secrets/API_KEY/restore", data={"version": "1"}, actor=ROOT)
    soup = parse(await ds.client.get("/-/secrets/API_KEY/history", actor=ROOT, headers=HX))
    events = [li.get_text(" ", strip=True).split(" : ", 1) for li in soup.select("ol.secret-events li")]
    assert events == [
        ["just now by root", "stored version 3, restored from version 1"],
        ["just now by manager", "deleted it"],
        ["just now by root", "revealed version 2"],
        ["just now by root", "changed the note of version 2"],
        ["just now by root", "stored version 2"],
        ["just now by root", "stored version 1"],
    ]
    # Versions say what they are, not "Deleted": only the current one is marked.
    versions = [tr.th.get_text(" ", strip=True) for tr in soup.select("table.secret-versions > tbody > tr")]
    assert versions == ["3 current", "2", "1"]
    assert "Deleted" not in soup.select_one("table.secret-versions").get_text()


@pytest.mark.asyncio
async def test_history_takes_focus_and_its_toggle_gets_it_back(ds):
    await store_value(ds, "API_KEY", VALUE)
    opened = parse(await ds.client.get("/-/secrets/API_KEY/history", actor=ROOT, headers=HX))
    toggle = opened.find("button", attrs={"aria-label": "History of API_KEY"})
    assert toggle["aria-expanded"] == "true" and not toggle.has_attr("autofocus")
    heading = opened.find(autofocus=True)
    assert (heading.name, heading.get_text(" ", strip=True), heading["tabindex"]) == ("h2", "History of API_KEY", "-1")
    closed = parse(await ds.client.get(toggle["hx-get"], actor=ROOT, headers=HX))
    toggle = closed.find("button", attrs={"aria-label": "History of API_KEY"})
    assert toggle["aria-expanded"] == "false" and toggle.has_attr("autofocus")
    assert closed.select_one("table.secret-versions") is None
    cancelled = parse(await ds.client.get("/-/secrets/API_KEY/row?focus=delete", actor=ROOT, headers=HX))
    assert cancelled.find("button", autofocus=True)["aria-label"] == "Delete API_KEY"
    odd = parse(await ds.client.get("/-/secrets/API_KEY/row?focus=x%22onfocus", actor=ROOT, headers=HX))
    assert odd.find("button", autofocus=True) is None


# Last used, environment variables included


@pytest.mark.asyncio
async def test_last_used_shows_for_environment_variable_secrets(ds, monkeypatch):
    from datasette_secrets import flush_usage

    monkeypatch.setenv("DATASETTE_SECRETS_ENV_KEY", "from-env")
    assert await get_secret(ds, "ENV_KEY", actor_id="manager") == "from-env"
    for flushed in (False, True):  # shown before the buffer is written, and after
        if flushed:
            await flush_usage(ds)
        used = row_of(parse(await ds.client.get("/-/secrets", actor=ROOT)), "ENV_KEY").select_one("td.secret-used")
        assert used.find("time") is not None
        assert used.select_one(".secret-actor").get_text() == "manager"


# Errors at the row


@pytest.mark.asyncio
async def test_a_stale_confirmation_shows_the_error_at_the_row_as_it_is_now(ds):
    await store_value(ds, "API_KEY", VALUE)
    await ds.client.post("/-/secrets/API_KEY/delete", actor=ROOT)  # from another tab
    headers = {**HX, "HX-Target": "tbody#secret-API_KEY"}
    response = await ds.client.post("/-/secrets/API_KEY/delete", actor=MANAGER, headers=headers)
    assert response.status_code == 404
    assert "hx-retarget" not in response.headers
    row = parse(response).find("tbody")
    assert row["id"] == "secret-API_KEY"
    assert row.select_one("td.secret-value").get_text(strip=True) == "Deleted", "what is true now"
    feedback = row.select_one("tr.secret-feedback.secret-failed")
    assert feedback.get_text(strip=True) == "API_KEY has no stored value to delete: it is already deleted"


@pytest.mark.asyncio
async def test_errors_elsewhere_still_go_to_the_notice(ds):
    headers = {**HX, "HX-Target": "tbody#secret-API_KEY"}
    # Someone without the permission learns nothing about the row.
    denied = await ds.client.post("/-/secrets/API_KEY/delete", actor={"id": "alice"}, headers=headers)
    assert denied.status_code == 403 and denied.headers["hx-retarget"] == "#secrets-status"
    assert parse(denied).find("tbody") is None
    unknown = await ds.client.get("/-/secrets/API_KEY/nothing-here", headers=headers)
    assert parse(unknown).find("tbody") is None
    # A secret that is not listed at all has no row to show.
    missing = await ds.client.post("/-/secrets/NO_SUCH/delete", actor=ROOT, headers={**HX, "HX-Target": "tbody#secret-NO_SUCH"})
    assert missing.status_code == 404 and missing.headers["hx-retarget"] == "#secrets-status"


# Counts stay true after a change made in place


def tallies(soup):
    """{id: text} of the status links' counts and the result line, on the page or in hx-partials."""
    found = {span["id"]: span.get_text() for span in soup.select("nav.secrets-statuses span[id]")}
    found.update({p["id"]: p.get_text(strip=True) for p in soup.find_all("hx-partial", id=True)})
    count = soup.select_one("#secrets-count")
    if count is not None and count.name == "p":
        found["secrets-count"] = count.get_text(strip=True)
    return found


@pytest.mark.asyncio
@pytest.mark.parametrize("query", ["", "?status=unset", "?q=api"])
async def test_a_change_in_place_sends_the_counts_a_reload_would_show(ds, query):
    headers = {**HX, "HX-Current-URL": "http://localhost/-/secrets" + query}
    changes = [
        ("/-/secrets/API_KEY", {"secret": VALUE, "note": ""}),  # not set -> set
        ("/-/secrets/API_KEY/delete", {}),  # set -> deleted
        ("/-/secrets/API_KEY/restore", {"version": "1"}),  # deleted -> set (Undo)
    ]
    for url, data in changes:
        response = await ds.client.post(url, data=data, actor=ROOT, headers=headers)
        assert response.status_code == 200
        reload = tallies(parse(await ds.client.get("/-/secrets" + query, actor=ROOT)))
        assert tallies(parse(response)) == reload, url
    assert reload["n-deleted"] == "0" and reload["n-set"] == "1"
    # A change that leaves every count as it was sends none (only its message, for the notice).
    response = await ds.client.post("/-/secrets/API_KEY", data={"secret": "", "note": "a note"}, actor=ROOT, headers=headers)
    assert [p.attrs for p in parse(response).find_all("hx-partial")] == [{"hx-target": "#secrets-status"}]

