"""The admin pages at /-/secrets, used the no-JS way and the htmx way."""

from datetime import datetime, timedelta, timezone

import pytest
from datasette import hookimpl

from datasette_secrets import Secret, flush_usage, get_secret
from datasette_secrets.crypto import Key
from secret_helpers import (
    HX,
    MANAGER,
    ROOT,
    audit_rows,
    flash_messages,
    follow,
    opener,
    row_feedback,
    insert_row,
    parse,
    plugin_module,
    row_of,
    secret_rows,
    secrets_plugin,
    store_value,
    usage_row,
)

MASK = "•" * 8


CELL_CLASSES = {
    "Value": "secret-value",
    "Note": "secret-note",
    "Version": "secret-version",
    "Last updated": "secret-updated",
    "Last used": "secret-used",
}


def cell(row, label):
    """The row's cell (or, for the version, its part of the Updated cell) called ``label``."""
    return row.find(class_=CELL_CLASSES[label])


def is_fragment(response):
    soup = parse(response)
    return soup.find("html") is None and soup.find("body") is None


# The list page


@pytest.mark.asyncio
async def test_list_page_shows_registered_secrets(ds):
    response = await ds.client.get("/-/secrets", actor=ROOT)
    assert response.status_code == 200
    page = parse(response)
    assert page.find("h1").get_text(strip=True) == "Secrets"
    names = [code.get_text() for code in page.select("tbody.secret th.secret-name code")]
    assert names == ["API_KEY", "ENV_KEY", "OTHER_KEY"]

    api = row_of(page, "API_KEY")
    description = api.select_one(".secret-description")
    assert description.find("strong").get_text() == "example", "plugin-author HTML is rendered"
    link = api.select_one("a.secret-obtain")
    assert link["href"] == "https://example.com/keys"
    assert "Get an example key" in link.get_text()
    assert "example-secrets-plugin" in api.select_one(".secret-plugin").get_text()
    assert cell(api, "Value").get_text(strip=True) == "Not set"
    set_link = opener(api, "/-/secrets/API_KEY")
    assert set_link is not None and set_link.get_text(strip=True).startswith("Set")
    # nothing stored, so nothing to delete or look back on
    assert opener(api, "/-/secrets/API_KEY/delete") is None
    assert opener(api, "/-/secrets/API_KEY/history") is None
    # the default obtain label
    assert row_of(page, "OTHER_KEY").select_one("a.secret-obtain") is None


@pytest.mark.asyncio
@pytest.mark.parametrize("url", ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,hi"])
async def test_unsafe_obtain_urls_are_not_linked(url, register_plugin, make_datasette):
    register_plugin(secrets_plugin(Secret("LINKED", obtain_url=url)), "linked-plugin")
    page = parse(await make_datasette().client.get("/-/secrets", actor=ROOT))
    row = row_of(page, "LINKED")
    assert row is not None
    assert all(a.get("href") != url for a in row.find_all("a"))


@pytest.mark.asyncio
async def test_list_shows_stored_secret(ds):
    await store_value(ds, "API_KEY", "a-long-enough-secret-value-WXYZ", note="prod key")
    await get_secret(ds, "API_KEY", actor_id="manager")
    api = row_of(parse(await ds.client.get("/-/secrets", actor=ROOT)), "API_KEY")
    assert api.select_one(".secret-mask [aria-hidden]").get_text() == MASK + "WXYZ"
    assert cell(api, "Note").get_text(strip=True) == "prod key"
    assert cell(api, "Version").get_text(strip=True) == "1"
    updated = cell(api, "Last updated")
    assert updated.find("time")["datetime"].endswith("Z")
    assert updated.select_one(".secret-actor").get_text() == "root"
    used = cell(api, "Last used")
    assert used.find("time") is not None
    assert used.select_one(".secret-actor").get_text() == "manager"
    assert opener(api, "/-/secrets/API_KEY").get_text(strip=True).startswith("Edit")
    assert opener(api, "/-/secrets/API_KEY/history") is not None
    assert opener(api, "/-/secrets/API_KEY/delete") is not None


@pytest.mark.asyncio
async def test_list_page_references_its_assets(ds):
    page = parse(await ds.client.get("/-/secrets", actor=ROOT))
    scripts = [s["src"] for s in page.find_all("script", src=True)]
    assert any("htmx-4.0.1.min.js" in src for src in scripts)
    assert any("secrets.js" in src for src in scripts)
    assert any("secrets.css" in link["href"] for link in page.find_all("link", rel="stylesheet"))
    assert page.select_one("#secrets-status") is not None
    assert page.select_one("div#secrets-results") is not None


@pytest.mark.asyncio
async def test_head_answers_like_get(ds):
    response = await ds.client.request("HEAD", "/-/secrets", actor=ROOT)
    assert response.status_code == 200
    anonymous = await ds.client.request("HEAD", "/-/secrets")
    assert anonymous.status_code == 403


@pytest.mark.asyncio
async def test_htmx_list_is_just_the_results(ds):
    response = await ds.client.get("/-/secrets", actor=ROOT, headers=HX)
    assert response.status_code == 200
    assert is_fragment(response)
    soup = parse(response)
    top = [tag for tag in soup.find_all(recursive=False)]
    assert [(t.name, t.get("id")) for t in top] == [("div", "secrets-results")]
    assert row_of(soup, "API_KEY") is not None
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "age_seconds,text",
    [
        (5, "just now"),
        (60, "1 minute ago"),
        (7200, "2 hours ago"),
        (3 * 86400 + 60, "3 days ago"),
        (75 * 86400, "2 months ago"),
        (400 * 86400, "1 year ago"),  # always words: the exact time is in the title
    ],
)
async def test_times_are_relative_with_exact_utc_on_hover(age_seconds, text, ds, key):
    moment = (datetime.now(timezone.utc) - timedelta(seconds=age_seconds)).replace(microsecond=0)
    stamp = moment.strftime("%Y-%m-%d %H:%M:%S")
    await insert_row(ds, "API_KEY", Key(key).encrypt("API_KEY", 1, "timed-value"), Key(key).id)
    await ds.get_internal_database().execute_write(
        "update datasette_secrets set updated_at = ?, updated_by = 'root'", [stamp]
    )
    page = parse(await ds.client.get("/-/secrets", actor=ROOT))
    time = cell(row_of(page, "API_KEY"), "Last updated").find("time")
    assert time["datetime"] == moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert time["title"] == stamp + " UTC"
    assert time.get_text(strip=True) == text


# Masking


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "value,shown",
    [
        ("x", MASK),
        ("fifteen-chars-1", MASK),
        ("sixteen-chars-12", MASK + "s-12"),
        ("sk-" + "a" * 60 + "TAIL", MASK + "TAIL"),
    ],
)
async def test_mask_shows_last_four_only_for_long_values(value, shown, ds):
    await store_value(ds, "API_KEY", value)
    response = await ds.client.get("/-/secrets", actor=ROOT)
    mask = row_of(parse(response), "API_KEY").select_one(".secret-mask")
    assert mask.select_one("[aria-hidden]").get_text() == shown
    if len(value) > 4:
        assert value not in response.text


@pytest.mark.asyncio
async def test_mask_does_not_reveal_length(ds):
    masks = []
    for value in ("ab", "abcdefghijklm"):
        await store_value(ds, "API_KEY", value)
        page = parse(await ds.client.get("/-/secrets", actor=ROOT))
        masks.append(row_of(page, "API_KEY").select_one(".secret-mask").get_text())
    assert masks[0] == masks[1]


# Filtering


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "q,expected",
    [
        # ENV_KEY's stored value is shadowed by its variable: it needs someone, so it comes first
        ("", ["ENV_KEY", "API_KEY", "OTHER_KEY"]),
        ("api_key", ["API_KEY"]),
        ("_KEY", ["ENV_KEY", "API_KEY", "OTHER_KEY"]),
        ("OTHER SERVICE", ["OTHER_KEY"]),
        ("example api", ["API_KEY"]),
        ("api example", ["API_KEY"]),  # words in any order
        ("key service other", ["OTHER_KEY"]),
        ("example-secrets-plugin other", ["OTHER_KEY"]),  # the plugin's name counts
        ("api billing", []),  # every word must match
        ("billing", ["ENV_KEY"]),
        ("  billing  ", ["ENV_KEY"]),
        ("nothing-matches-this", []),
    ],
)
async def test_filter(q, expected, ds):
    await store_value(ds, "ENV_KEY", "some-value", note="Used for Billing")
    for headers in ({}, HX):
        response = await ds.client.get("/-/secrets", params={"q": q}, actor=ROOT, headers=headers)
        assert response.status_code == 200
        soup = parse(response)
        assert [c.get_text() for c in soup.select("tbody.secret th.secret-name code")] == expected
        if not expected:
            assert soup.select_one("p.secrets-empty") is not None
    page = parse(await ds.client.get("/-/secrets", params={"q": q}, actor=ROOT))
    assert page.select_one("input#secrets-q")["value"] == q.strip()


@pytest.mark.asyncio
async def test_filter_does_not_search_markup(ds):
    response = await ds.client.get("/-/secrets", params={"q": "strong"}, actor=ROOT)
    assert parse(response).select("tbody.secret") == []


# Setting a value without JavaScript


@pytest.mark.asyncio
async def test_edit_page_without_javascript(ds):
    response = await ds.client.get("/-/secrets/API_KEY", actor=ROOT)
    assert response.status_code == 200
    page = parse(response)
    assert page.find("h1").get_text(strip=True) == "Set API_KEY"
    form = page.select_one("form.secret-form")
    assert form["method"] == "post"
    assert form["action"] == "/-/secrets/API_KEY"
    assert form.find("input", attrs={"name": "secret"})["type"] == "password"
    assert form.find("textarea", attrs={"name": "note"}) is not None
    # the description is on the page too
    assert page.select_one(".secret-description strong") is not None


@pytest.mark.asyncio
async def test_set_without_javascript_redirects_with_message(ds):
    response = await ds.client.post(
        "/-/secrets/API_KEY", data={"secret": "first-value", "note": "from the form"}, actor=ROOT
    )
    assert response.status_code == 302
    assert response.headers["location"] == "/-/secrets#secret-API_KEY"
    page = await follow(ds, response)
    assert flash_messages(page) == ["Saved API_KEY: version 1."]
    api = row_of(parse(page), "API_KEY")
    assert cell(api, "Version").get_text(strip=True) == "1"
    assert cell(api, "Note").get_text(strip=True) == "from the form"
    assert await get_secret(ds, "API_KEY") == "first-value"
    (row,) = await secret_rows(ds, "API_KEY")
    assert row["created_by"] == row["updated_by"] == "root"
    assert row["note"] == "from the form"

    page = await follow(ds, await store_value(ds, "API_KEY", "second-value"))
    assert flash_messages(page) == ["Saved API_KEY: version 2."]
    assert await get_secret(ds, "API_KEY") == "second-value"


@pytest.mark.asyncio
async def test_edit_form_for_a_set_secret(ds):
    await store_value(ds, "API_KEY", "already-set-value", note="existing note")
    for headers in ({}, HX):
        response = await ds.client.get("/-/secrets/API_KEY", actor=ROOT, headers=headers)
        assert response.status_code == 200
        soup = parse(response)
        form = soup.select_one("form.secret-form")
        assert form.find("input", attrs={"name": "secret"}).get("value", "") == ""
        assert form.find("textarea", attrs={"name": "note"}).get_text() == "existing note"
        assert "version 1" in form.select_one(".secret-hint").get_text()
        if headers:
            assert is_fragment(response)
            # it takes the place of the row's <tr>; Save and Cancel swap the whole tbody
            assert soup.find("tbody") is None and soup.select_one("tr.secret-editing") is not None
            assert form["hx-post"] == "/-/secrets/API_KEY"
        else:
            assert soup.find("h1").get_text(strip=True) == "Edit API_KEY"


# Setting a value with htmx


@pytest.mark.asyncio
async def test_set_with_htmx_returns_row_and_status(ds):
    for version in (1, 2):
        response = await ds.client.post(
            "/-/secrets/API_KEY", data={"secret": f"htmx-value-{version}", "note": "n"}, actor=ROOT, headers=HX
        )
        assert response.status_code == 200
        assert is_fragment(response)
        soup = parse(response)
        row = soup.find("tbody")
        assert row["id"] == "secret-API_KEY"
        assert cell(row, "Version").get_text(strip=True) == str(version)
        # the result at the row (secrets.js repeats it in the page's notice)
        assert row_feedback(response, "API_KEY") == f"Saved API_KEY: version {version}."
    assert await get_secret(ds, "API_KEY") == "htmx-value-2"


# Validation


LONG_NOTE = "n" * 201
LONG_VALUE = "v" * 16385
INVALID_SUBMISSIONS = {
    "empty value, never set": ({"secret": "", "note": "kept note"}, "secret"),
    "whitespace value, never set": ({"secret": "   \n", "note": "kept note"}, "secret"),
    "note too long": ({"secret": "valid-value", "note": LONG_NOTE}, "note"),
    "value too long": ({"secret": LONG_VALUE, "note": "kept note"}, "secret"),
}


@pytest.mark.asyncio
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("form,field", INVALID_SUBMISSIONS.values(), ids=INVALID_SUBMISSIONS.keys())
async def test_validation_errors(form, field, htmx, ds):
    response = await ds.client.post("/-/secrets/API_KEY", data=form, actor=ROOT, headers=HX if htmx else {})
    assert response.status_code == 422
    soup = parse(response)
    if htmx:
        assert is_fragment(response)
        assert soup.find("tbody")["id"] == "secret-API_KEY"
    else:
        assert soup.find("html") is not None
    # the error sits next to the field it is about
    errors = soup.select(".secret-field-error")
    assert len(errors) == 1
    field_box = errors[0].find_parent(class_="secret-field")
    control = field_box.find(attrs={"name": field})
    assert control is not None
    assert control.get("aria-invalid") == "true"
    assert errors[0]["id"] in control["aria-describedby"].split()
    # the note the user typed is kept
    assert soup.find("textarea", attrs={"name": "note"}).get_text() == form["note"].strip()
    assert await secret_rows(ds) == []


@pytest.mark.asyncio
async def test_limits_are_inclusive(ds):
    response = await ds.client.post(
        "/-/secrets/API_KEY", data={"secret": "v" * 16384, "note": "n" * 200}, actor=ROOT
    )
    assert response.status_code == 302
    assert await get_secret(ds, "API_KEY") == "v" * 16384


@pytest.mark.asyncio
async def test_value_whitespace_is_stripped(ds):
    await store_value(ds, "API_KEY", "  \tpasted value with inner spaces\n")
    assert await get_secret(ds, "API_KEY") == "pasted value with inner spaces"


@pytest.mark.asyncio
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
async def test_blank_value_changes_only_the_note(htmx, ds):
    await store_value(ds, "API_KEY", "unchanged-value", note="old note")
    response = await ds.client.post(
        "/-/secrets/API_KEY", data={"secret": "", "note": "new note"}, actor=MANAGER, headers=HX if htmx else {}
    )
    message = "Updated the note for API_KEY; the value is unchanged."
    if htmx:
        assert response.status_code == 200
        assert row_feedback(response, "API_KEY") == message
    else:
        assert flash_messages(await follow(ds, response, MANAGER)) == [message]
    (row,) = await secret_rows(ds, "API_KEY")
    assert row["version"] == 1
    assert row["note"] == "new note"
    assert row["updated_by"] == "manager"
    assert row["created_by"] == "root"
    assert await get_secret(ds, "API_KEY") == "unchanged-value"
    assert [a["action"] for a in await audit_rows(ds)] == ["set", "note"]


@pytest.mark.asyncio
async def test_blank_value_same_note_changes_nothing(ds):
    await store_value(ds, "API_KEY", "unchanged-value", note="same")
    before = await secret_rows(ds)
    response = await ds.client.post("/-/secrets/API_KEY", data={"secret": "", "note": "same"}, actor=ROOT)
    assert response.status_code == 302
    assert await secret_rows(ds) == before
    assert [a["action"] for a in await audit_rows(ds)] == ["set"]


@pytest.mark.asyncio
async def test_blank_value_for_a_deleted_secret_is_rejected(ds):
    await store_value(ds, "API_KEY", "to-be-deleted")
    await ds.client.post("/-/secrets/API_KEY/delete", actor=ROOT)
    response = await ds.client.post("/-/secrets/API_KEY", data={"secret": "", "note": "x"}, actor=ROOT)
    assert response.status_code == 422
    assert await get_secret(ds, "API_KEY") is None


# Secrets that cannot be edited here


@pytest.mark.asyncio
async def test_environment_secret_may_be_stored_behind_its_variable_with_a_warning(ds, monkeypatch):
    monkeypatch.setenv("DATASETTE_SECRETS_ENV_KEY", "env-value-not-shown")
    page = parse(await ds.client.get("/-/secrets", actor=ROOT))
    env = row_of(page, "ENV_KEY")
    value_cell = cell(env, "Value")
    assert "Set by environment" in value_cell.get_text()
    assert value_cell.find("code").get_text() == "DATASETTE_SECRETS_ENV_KEY"
    assert opener(env, "/-/secrets/ENV_KEY") is not None
    for headers in ({}, HX):
        form = await ds.client.get("/-/secrets/ENV_KEY", actor=ROOT, headers=headers)
        assert form.status_code == 200
        assert "takes precedence" in parse(form).select_one(".secret-shadowed").get_text()
        assert "env-value-not-shown" not in form.text
    response = await ds.client.post("/-/secrets/ENV_KEY", actor=ROOT, data={"secret": "x", "note": ""})
    assert response.status_code == 302
    assert [row["version"] for row in await secret_rows(ds)] == [1]


@pytest.mark.asyncio
async def test_environment_variable_shadowing_a_stored_value(ds, monkeypatch):
    await store_value(ds, "ENV_KEY", "stored-but-shadowed")
    monkeypatch.setenv("DATASETTE_SECRETS_ENV_KEY", "env-wins")
    env = row_of(parse(await ds.client.get("/-/secrets", actor=ROOT)), "ENV_KEY")
    assert "version 1" in env.select_one(".secret-shadowed").get_text()
    # Never revealed while the variable shadows it; restored or deleted like any stored value.
    assert (await ds.client.post("/-/secrets/ENV_KEY/reveal", actor=ROOT)).status_code == 403
    assert (await ds.client.post("/-/secrets/ENV_KEY/restore", data={"version": "1"}, actor=ROOT)).status_code == 302
    assert opener(env, "/-/secrets/ENV_KEY/delete") is not None
    assert (await ds.client.post("/-/secrets/ENV_KEY/delete", actor=ROOT)).status_code == 302
    assert [row["deleted_at"] is not None for row in await secret_rows(ds, "ENV_KEY")] == [True, True]


@pytest.mark.asyncio
async def test_without_a_key_the_page_explains_setup(example_plugin, make_datasette, key):
    ds = make_datasette(key=None)
    await ds.invoke_startup()
    await insert_row(ds, "API_KEY", Key(key).encrypt("API_KEY", 1, "unreadable"), Key(key).id)
    response = await ds.client.get("/-/secrets", actor=ROOT)
    assert response.status_code == 200
    page = parse(response)
    assert "datasette secrets generate-encryption-key" in page.select_one(".secrets-setup").get_text()
    assert "no encryption key" in cell(row_of(page, "API_KEY"), "Value").get_text()
    assert opener(row_of(page, "OTHER_KEY"), "/-/secrets/OTHER_KEY") is None
    for name in ("API_KEY", "OTHER_KEY"):
        assert (await ds.client.get(f"/-/secrets/{name}", actor=ROOT)).status_code == 409
        response = await ds.client.post(f"/-/secrets/{name}", data={"secret": "v", "note": ""}, actor=ROOT)
        assert response.status_code == 409
    assert len(await secret_rows(ds)) == 1


@pytest.mark.asyncio
async def test_undecryptable_value_is_reported_not_fatal(ds, key, other_key):
    await insert_row(ds, "OTHER_KEY", Key(key).encrypt("OTHER_KEY", 1, "y"), Key(key).id)  # the key fits
    await insert_row(ds, "API_KEY", Key(other_key).encrypt("API_KEY", 1, "x"), Key(other_key).id)
    response = await ds.client.get("/-/secrets", actor=ROOT)
    assert response.status_code == 200
    # A chip in words; the details, which name key ids, on hover.
    chip = cell(row_of(parse(response), "API_KEY"), "Value").select_one(".secret-unreadable")
    assert chip.get_text() == "Can't read: saved with a different key"
    assert "API_KEY" in chip["title"] and Key(other_key).id in chip["title"]
    assert (await ds.client.post("/-/secrets/API_KEY/reveal", actor=ROOT)).status_code == 409
    # a new value replaces it
    await store_value(ds, "API_KEY", "fresh-value")
    assert await get_secret(ds, "API_KEY") == "fresh-value"


# Orphans


@pytest.mark.asyncio
async def test_orphan_is_listed_and_can_only_be_deleted(ds, key):
    await insert_row(ds, "RETIRED_KEY", Key(key).encrypt("RETIRED_KEY", 1, "old"), Key(key).id, note="from a removed plugin")
    page = parse(await ds.client.get("/-/secrets", actor=ROOT))
    orphan = row_of(page, "RETIRED_KEY")
    assert orphan.select_one(".secret-orphan-note") is not None
    assert opener(orphan, "/-/secrets/RETIRED_KEY") is None
    assert opener(orphan, "/-/secrets/RETIRED_KEY/delete") is not None
    assert (await ds.client.get("/-/secrets/RETIRED_KEY", actor=ROOT)).status_code == 409
    response = await ds.client.post("/-/secrets/RETIRED_KEY", data={"secret": "new", "note": ""}, actor=ROOT)
    assert response.status_code == 409
    assert await get_secret(ds, "RETIRED_KEY") is None, "orphans are not readable by plugins"

    response = await ds.client.post("/-/secrets/RETIRED_KEY/delete", actor=ROOT)
    assert response.status_code == 302
    page = parse(await follow(ds, response))
    assert row_of(page, "RETIRED_KEY") is None
    assert any("Deleted RETIRED_KEY." in m for m in flash_messages(page))
    (row,) = await secret_rows(ds, "RETIRED_KEY")
    assert row["deleted_at"] and row["deleted_by"] == "root"
    assert (await ds.client.get("/-/secrets/RETIRED_KEY/history", actor=ROOT)).status_code == 404


@pytest.mark.asyncio
async def test_orphan_cannot_be_rolled_back(ds, key):
    """An orphan can only be deleted: no new versions, not even by rolling back."""
    k = Key(key)
    await insert_row(ds, "RETIRED_KEY", k.encrypt("RETIRED_KEY", 1, "old-1"), k.id, version=1)
    await insert_row(ds, "RETIRED_KEY", k.encrypt("RETIRED_KEY", 2, "old-2"), k.id, version=2)
    history = parse(await ds.client.get("/-/secrets/RETIRED_KEY/history", actor=ROOT))
    assert history.find("form", action="/-/secrets/RETIRED_KEY/restore") is None
    before = await secret_rows(ds)
    for headers in ({}, HX):
        response = await ds.client.post(
            "/-/secrets/RETIRED_KEY/restore", data={"version": "1"}, actor=ROOT, headers=headers
        )
        assert response.status_code == 409
    assert await secret_rows(ds) == before


@pytest.mark.asyncio
async def test_deleting_an_orphan_with_htmx_removes_its_row(ds, key):
    await insert_row(ds, "RETIRED_KEY", Key(key).encrypt("RETIRED_KEY", 1, "old"), Key(key).id)
    response = await ds.client.post("/-/secrets/RETIRED_KEY/delete", actor=ROOT, headers=HX)
    assert response.status_code == 200
    soup = parse(response)
    tbody = soup.find("tbody")
    assert tbody is not None and tbody.get_text(strip=True) == ""
    assert "Deleted RETIRED_KEY." in soup.find("hx-partial").get_text()


@pytest.mark.asyncio
async def test_already_deleted_orphan_is_not_listed(ds, key):
    await insert_row(
        ds, "GONE_KEY", Key(key).encrypt("GONE_KEY", 1, "old"), Key(key).id, deleted_at="2024-01-01 00:00:00"
    )
    page = parse(await ds.client.get("/-/secrets", actor=ROOT))
    assert row_of(page, "GONE_KEY") is None
    assert page.find(string=lambda s: "GONE_KEY" in s) is None


# History and restore


@pytest.mark.asyncio
async def test_history_page_and_fragment(ds):
    for i in (1, 2, 3):
        await store_value(ds, "API_KEY", f"history-value-{i}", note=f"note {i}")
    page_response = await ds.client.get("/-/secrets/API_KEY/history", actor=ROOT)
    fragment_response = await ds.client.get("/-/secrets/API_KEY/history", actor=ROOT, headers=HX)
    assert page_response.status_code == fragment_response.status_code == 200
    assert parse(page_response).find("h1").get_text(strip=True) == "History of API_KEY"
    assert is_fragment(fragment_response)
    assert parse(fragment_response).find("tbody")["id"] == "secret-API_KEY"
    for response in (page_response, fragment_response):
        soup = parse(response)
        table = soup.select_one("table.secret-versions")
        rows = table.select(":scope > tbody > tr")
        assert [tr.th.get_text(" ", strip=True) for tr in rows] == ["3 current", "2", "1"]
        assert [tr.select_one("td[data-label=Note]").get_text(strip=True) for tr in rows] == ["note 3", "note 2", "note 1"]
        # One verb for putting an old version back; it asks first (a GET of the confirmation).
        buttons = [b.get_text(strip=True) for b in table.find_all("button")]
        assert buttons == ["Restore version 2", "Restore version 1"]
        for form in table.find_all("form"):
            assert form.get("method", "get") == "get" and form["action"] == "/-/secrets/API_KEY/restore"
        # What happened, newest first, by whom.
        events = [li.get_text(" ", strip=True) for li in soup.select("ol.secret-events li")]
        assert events == [f"just now by root : stored version {n}" for n in (3, 2, 1)]


@pytest.mark.asyncio
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
async def test_restore_asks_first(htmx, ds):
    await store_value(ds, "API_KEY", "value-one", note="one")
    await store_value(ds, "API_KEY", "value-two", note="two")
    response = await ds.client.get("/-/secrets/API_KEY/restore?version=1", actor=ROOT, headers=HX if htmx else {})
    assert response.status_code == 200
    soup = parse(response)
    confirm = soup.select_one("form.secret-confirm")
    assert confirm["method"] == "post" and confirm["action"] == "/-/secrets/API_KEY/restore"
    assert "Restore version 1 of API_KEY ? Its value and note are stored again as version 3" in confirm.get_text(" ", strip=True)
    assert confirm.find("button", autofocus=True).get_text(strip=True) == "Restore version 1"
    if htmx:  # under that version in the row's history; confirming keeps the history open
        assert soup.find("tbody")["id"] == "secret-API_KEY"
        assert confirm.find_parent("table", class_="secret-versions") is not None
        assert confirm.find("input", attrs={"name": "history"})["value"] == "1"
    else:
        assert soup.find("h1").get_text(strip=True) == "Restore version 1 of API_KEY?"
    assert await get_secret(ds, "API_KEY") == "value-two", "asking changes nothing"
    missing = await ds.client.get("/-/secrets/API_KEY/restore?version=9", actor=ROOT)
    assert missing.status_code == 404


@pytest.mark.asyncio
async def test_history_of_a_secret_never_set(ds):
    response = await ds.client.get("/-/secrets/API_KEY/history", actor=ROOT)
    assert response.status_code == 200
    assert parse(response).select("table.secret-versions > tbody > tr") == []


@pytest.mark.asyncio
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
async def test_roll_back(htmx, ds):
    await store_value(ds, "API_KEY", "value-one", note="one")
    await store_value(ds, "API_KEY", "value-two", note="two")
    response = await ds.client.post(
        "/-/secrets/API_KEY/restore", data={"version": "1"}, actor=MANAGER, headers=HX if htmx else {}
    )
    message = "Restored API_KEY version 1 as version 3."
    if htmx:
        assert response.status_code == 200
        soup = parse(response)
        assert soup.find("tbody")["id"] == "secret-API_KEY"
        assert soup.select_one("table.secret-versions") is None, "history was not open"
        assert row_feedback(response, "API_KEY") == message
    else:
        assert flash_messages(await follow(ds, response, MANAGER)) == [message]
    assert await get_secret(ds, "API_KEY") == "value-one"
    rows = await secret_rows(ds, "API_KEY")
    assert [(r["version"], r["note"], r["created_by"]) for r in rows] == [
        (1, "one", "root"), (2, "two", "root"), (3, "one", "manager"),
    ]
    assert (await audit_rows(ds))[-1] | {"created_at": None} == {
        "name": "API_KEY", "version": 3, "action": "restore", "detail": "from version 1",
        "actor_id": "manager", "created_at": None,
    }


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "data,status",
    [
        ({"version": "7"}, 404),
        ({"version": "0"}, 404),
        ({"version": "-1"}, 404),
        ({"version": "99999999999999999999999"}, 404),
        ({}, 400),
        ({"version": ""}, 400),
        ({"version": "two"}, 400),
        ({"version": "1.5"}, 400),
    ],
    ids=["no-such-version", "zero", "negative", "huge", "missing", "empty", "words", "decimal"],
)
async def test_restore_errors(data, status, ds):
    await store_value(ds, "API_KEY", "value-one")
    await store_value(ds, "API_KEY", "value-two")
    before = await secret_rows(ds)
    for headers in ({}, HX):
        response = await ds.client.post("/-/secrets/API_KEY/restore", data=data, actor=ROOT, headers=headers)
        assert response.status_code == status
    assert await secret_rows(ds) == before


@pytest.mark.asyncio
async def test_restoring_a_version_no_key_can_read_is_refused(ds, key, other_key):
    await insert_row(ds, "OTHER_KEY", Key(key).encrypt("OTHER_KEY", 1, "y"), Key(key).id)  # the key fits
    await insert_row(ds, "API_KEY", Key(other_key).encrypt("API_KEY", 1, "old-key-value"), Key(other_key).id)
    await store_value(ds, "API_KEY", "current-key-value")
    before = await secret_rows(ds)
    for headers in ({}, HX):
        response = await ds.client.post("/-/secrets/API_KEY/restore", data={"version": "1"}, actor=ROOT, headers=headers)
        assert response.status_code == 409
        assert "old-key-value" not in response.text
    assert await secret_rows(ds) == before
    assert await get_secret(ds, "API_KEY") == "current-key-value"


# Delete


@pytest.mark.asyncio
async def test_delete_asks_first(ds):
    await store_value(ds, "API_KEY", "keep-me-for-now")
    page = await ds.client.get("/-/secrets/API_KEY/delete", actor=ROOT)
    assert page.status_code == 200
    soup = parse(page)
    assert soup.find("h1").get_text(strip=True) == "Delete API_KEY?"
    form = soup.find("form", action="/-/secrets/API_KEY/delete")
    assert form["method"] == "post"
    fragment = await ds.client.get("/-/secrets/API_KEY/delete", actor=ROOT, headers=HX)
    assert fragment.status_code == 200 and is_fragment(fragment)
    confirm = parse(fragment).select_one("tbody#secret-API_KEY form.secret-confirm")
    assert confirm["hx-post"] == "/-/secrets/API_KEY/delete"
    # asking deleted nothing
    assert await get_secret(ds, "API_KEY") == "keep-me-for-now"
    assert [a["action"] for a in await audit_rows(ds)] == ["set"]


@pytest.mark.asyncio
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
async def test_delete_and_restore(htmx, ds):
    await store_value(ds, "API_KEY", "value-one")
    await store_value(ds, "API_KEY", "value-two")
    response = await ds.client.post("/-/secrets/API_KEY/delete", actor=MANAGER, headers=HX if htmx else {})
    if htmx:
        assert response.status_code == 200
        row = parse(response).find("tbody")
    else:
        page = await follow(ds, response, MANAGER)
        assert flash_messages(page) == ["Deleted API_KEY."]
        row = row_of(parse(page), "API_KEY")
    # The message at the row offers Undo; the deleted row itself offers Restore: both put version 2 back.
    feedback = row.select_one("tr.secret-feedback")
    assert feedback.get_text(" ", strip=True) == "Deleted API_KEY. Undo"
    for label in ("Undo API_KEY", "Restore API_KEY"):
        form = row.find("button", attrs={"aria-label": label}).find_parent("form")
        assert (form["method"], form["action"]) == ("post", "/-/secrets/API_KEY/restore")
        assert form.find("input", attrs={"name": "version"})["value"] == "2"
    assert row.find("button", attrs={"aria-label": "Undo API_KEY"}).has_attr("autofocus")
    assert "Deleted" in cell(row, "Value").get_text()
    assert cell(row, "Version").get_text(strip=True) == ""
    assert await get_secret(ds, "API_KEY") is None
    rows = await secret_rows(ds, "API_KEY")
    assert len(rows) == 2
    assert all(r["deleted_at"] and r["deleted_by"] == "manager" for r in rows)
    assert (await audit_rows(ds))[-1]["action"] == "delete"
    # nothing left to delete
    assert (await ds.client.post("/-/secrets/API_KEY/delete", actor=ROOT)).status_code == 404
    assert (await ds.client.get("/-/secrets/API_KEY/delete", actor=ROOT)).status_code == 404
    assert (await ds.client.post("/-/secrets/API_KEY/reveal", actor=ROOT)).status_code == 404
    # history offers to restore
    history = parse(await ds.client.get("/-/secrets/API_KEY/history", actor=ROOT))
    assert "Restore version 2" in [b.get_text(strip=True) for b in history.find_all("button")]
    response = await ds.client.post("/-/secrets/API_KEY/restore", data={"version": "2"}, actor=ROOT)
    assert response.status_code == 302
    assert await get_secret(ds, "API_KEY") == "value-two"
    # Its newest version back: a delete undone, said as such (no version arithmetic).
    assert row_feedback(await follow(ds, response), "API_KEY") == "Restored API_KEY."


@pytest.mark.asyncio
async def test_setting_after_delete_starts_a_new_version(ds):
    await store_value(ds, "API_KEY", "before-delete")
    await ds.client.post("/-/secrets/API_KEY/delete", actor=ROOT)
    page = await follow(ds, await store_value(ds, "API_KEY", "after-delete"))
    assert flash_messages(page) == ["Saved API_KEY: version 2."]
    assert await get_secret(ds, "API_KEY") == "after-delete"
    old, new = await secret_rows(ds, "API_KEY")
    assert old["deleted_at"] and new["deleted_at"] is None


@pytest.mark.asyncio
async def test_delete_of_a_secret_never_set_is_404(ds):
    assert (await ds.client.post("/-/secrets/API_KEY/delete", actor=ROOT)).status_code == 404


# Reveal and mask


@pytest.mark.asyncio
async def test_reveal_page_and_fragment(ds):
    await store_value(ds, "API_KEY", "old-value")
    await store_value(ds, "API_KEY", "reveal-me-<&>-value")
    page = await ds.client.post("/-/secrets/API_KEY/reveal", actor=ROOT)
    assert page.status_code == 200
    assert parse(page).find("html") is not None
    assert parse(page).select_one(".secret-revealed-value").get_text() == "reveal-me-<&>-value"
    fragment = await ds.client.post("/-/secrets/API_KEY/reveal", actor=ROOT, headers=HX)
    assert fragment.status_code == 200 and is_fragment(fragment)
    revealed = parse(fragment).select_one(".secret-revealed")
    assert revealed.select_one(".secret-revealed-value").get_text() == "reveal-me-<&>-value"
    assert revealed["hx-get"] == "/-/secrets/API_KEY/mask"
    assert "HX-Request" in fragment.headers["Vary"]
    reveals = [a for a in await audit_rows(ds) if a["action"] == "reveal"]
    assert [(a["name"], a["version"], a["actor_id"]) for a in reveals] == [("API_KEY", 2, "root")] * 2
    # revealing is not "use" by a plugin
    await flush_usage(ds)
    assert await usage_row(ds, "API_KEY") is None


@pytest.mark.asyncio
async def test_reveal_of_an_unset_secret_is_404(ds):
    assert (await ds.client.post("/-/secrets/API_KEY/reveal", actor=ROOT)).status_code == 404
    assert await audit_rows(ds) == []


@pytest.mark.asyncio
async def test_mask_fragment(ds):
    await store_value(ds, "API_KEY", "masked-again-value-ABCD")
    response = await ds.client.get("/-/secrets/API_KEY/mask", actor=ROOT, headers=HX)
    assert response.status_code == 200 and is_fragment(response)
    assert parse(response).select_one(".secret-mask [aria-hidden]").get_text() == MASK + "ABCD"
    assert parse(response).find("form", action="/-/secrets/API_KEY/reveal") is not None
    redirect = await ds.client.get("/-/secrets/API_KEY/mask", actor=ROOT)
    assert redirect.status_code == 302
    assert redirect.headers["location"] == "/-/secrets#secret-API_KEY"


@pytest.mark.asyncio
async def test_row_fragment(ds):
    await store_value(ds, "API_KEY", "row-value")
    response = await ds.client.get("/-/secrets/API_KEY/row", actor=ROOT, headers=HX)
    assert response.status_code == 200 and is_fragment(response)
    row = parse(response).find("tbody")
    assert row["id"] == "secret-API_KEY"
    assert cell(row, "Version").get_text(strip=True) == "1"
    redirect = await ds.client.get("/-/secrets/API_KEY/row", actor=ROOT)
    assert redirect.status_code == 302
    assert redirect.headers["location"] == "/-/secrets#secret-API_KEY"


# Audit trail


@pytest.mark.asyncio
async def test_audit_trail(ds):
    await store_value(ds, "API_KEY", "audit-one", note="a")
    await ds.client.post("/-/secrets/API_KEY", data={"secret": "", "note": "b"}, actor=MANAGER)
    await ds.client.post("/-/secrets/API_KEY/reveal", actor=ROOT)
    await ds.client.post("/-/secrets/API_KEY/delete", actor=MANAGER)
    await ds.client.post("/-/secrets/API_KEY/restore", data={"version": "1"}, actor=ROOT)
    trail = [(a["name"], a["version"], a["action"], a["detail"], a["actor_id"]) for a in await audit_rows(ds)]
    assert trail == [
        ("API_KEY", 1, "set", None, "root"),
        ("API_KEY", 1, "note", None, "manager"),
        ("API_KEY", 1, "reveal", None, "root"),
        ("API_KEY", None, "delete", None, "manager"),
        ("API_KEY", 2, "restore", "from version 1", "root"),
    ]
    for row in await audit_rows(ds):
        assert "audit-one" not in repr(row)


# Actors shown by name, resolved in one call


@pytest.fixture
def actor_lookups(register_plugin):
    calls = []

    @hookimpl
    def actors_from_ids(datasette, actor_ids):
        calls.append(list(actor_ids))
        return {actor_id: {"id": actor_id, "username": "user-" + str(actor_id)} for actor_id in actor_ids}

    register_plugin(plugin_module("actor_names", actors_from_ids=actors_from_ids), "actor-names")
    return calls


@pytest.mark.asyncio
async def test_actors_resolved_with_one_call_per_page(ds, actor_lookups):
    await store_value(ds, "API_KEY", "by-root")
    await store_value(ds, "OTHER_KEY", "by-manager", actor=MANAGER)
    await get_secret(ds, "API_KEY", actor_id="carol")
    await store_value(ds, "ENV_KEY", "to-delete")
    await ds.client.post("/-/secrets/ENV_KEY/delete", actor=MANAGER)

    actor_lookups.clear()
    page = parse(await ds.client.get("/-/secrets", actor=ROOT))
    assert len(actor_lookups) == 1
    assert set(actor_lookups[0]) == {"root", "manager", "carol"}
    api, other, env = (row_of(page, n) for n in ("API_KEY", "OTHER_KEY", "ENV_KEY"))
    assert cell(api, "Last updated").select_one(".secret-actor").get_text() == "user-root"
    assert cell(api, "Last used").select_one(".secret-actor").get_text() == "user-carol"
    assert cell(other, "Last updated").select_one(".secret-actor").get_text() == "user-manager"
    assert cell(env, "Last updated").select_one(".secret-actor").get_text() == "user-manager"

    await store_value(ds, "API_KEY", "by-manager-now", actor=MANAGER)
    await ds.client.post("/-/secrets/API_KEY/delete", actor=ROOT)
    await ds.client.post("/-/secrets/API_KEY/restore", data={"version": "1"}, actor=MANAGER)
    for headers in ({}, HX):
        actor_lookups.clear()
        history = parse(await ds.client.get("/-/secrets/API_KEY/history", actor=ROOT, headers=headers))
        assert len(actor_lookups) == 1
        names = {span.get_text() for span in history.select("table.secret-versions .secret-actor")}
        assert names == {"user-root", "user-manager"}


@pytest.mark.asyncio
async def test_actors_are_named_as_datasette_names_them(ds, register_plugin):
    """Datasette's display_actor: "display" first, then name, username, login, id."""

    @hookimpl
    def actors_from_ids(datasette, actor_ids):
        return {
            "root": {"id": "root", "username": "rooty", "display": "Root Display"},
            "manager": {"id": "manager", "username": "mgr", "name": "Manager Name"},
        }

    register_plugin(plugin_module("display_names", actors_from_ids=actors_from_ids), "display-names")
    await store_value(ds, "API_KEY", "by-root")
    await store_value(ds, "OTHER_KEY", "by-manager", actor=MANAGER)
    await get_secret(ds, "OTHER_KEY", actor_id="carol")  # unknown to the plugin: shown by id
    await flush_usage(ds)

    page = parse(await ds.client.get("/-/secrets", actor=ROOT))
    assert cell(row_of(page, "API_KEY"), "Last updated").select_one(".secret-actor").get_text() == "Root Display"
    other = row_of(page, "OTHER_KEY")
    assert cell(other, "Last updated").select_one(".secret-actor").get_text() == "Manager Name"
    assert cell(other, "Last used").select_one(".secret-actor").get_text() == "carol"
    history = parse(await ds.client.get("/-/secrets/API_KEY/history", actor=ROOT))
    assert {span.get_text() for span in history.select("table.secret-versions .secret-actor")} == {"Root Display"}
    audit = parse(await ds.client.get("/-/secrets/-/audit", actor=ROOT))
    assert {span.get_text() for span in audit.select(".secrets-audit .secret-actor")} == {
        "Root Display", "Manager Name",
    }
