"""htmx fragments and the guarantees every response keeps: Vary, error fragments,
escaping, values never shown outside a reveal, and cross-site POSTs refused."""

import re

import pytest
import pytest_asyncio
from markupsafe import Markup

from datasette_secrets import Secret
from datasette_secrets.crypto import Key
from secret_helpers import (
    CROSS_SITE,
    HX,
    ROOT,
    audit_rows,
    flash_messages,
    follow,
    insert_row,
    parse,
    row_of,
    secret_rows,
    secrets_plugin,
    store_value,
)

DISTINCTIVE = "sk-DISTINCTIVE-9f8e7d6c5b4a-TAIL"
EARLIER = "sk-EARLIERVALUE-0a1b2c3d4e5f-TAIL"


@pytest_asyncio.fixture
async def seeded(ds):
    await store_value(ds, "API_KEY", EARLIER, note="earlier")
    await store_value(ds, "API_KEY", DISTINCTIVE, note="current")
    return ds


def assert_fragment(response):
    soup = parse(response)
    assert soup.find("html") is None and soup.find("body") is None, response.text[:200]
    return soup


def assert_error_fragment(response, status):
    assert response.status_code == status
    assert response.headers["HX-Retarget"] == "#secrets-status"
    assert response.headers["HX-Reswap"] == "innerHTML"
    soup = assert_fragment(response)
    elements = soup.find_all(recursive=False)
    assert [(e.name, e.get("class")) for e in elements] == [("p", ["message-error"])]
    return elements[0].get_text()


# Each htmx request answers with the fragment htmx swaps in.
FRAGMENTS = [
    ("GET", "/-/secrets", None, "div#secrets-results"),
    ("GET", "/-/secrets/API_KEY", None, "tr.secret-editing form.secret-form"),
    ("POST", "/-/secrets/API_KEY", {"secret": "new-value", "note": "n"}, "tbody#secret-API_KEY"),
    ("GET", "/-/secrets/API_KEY/row", None, "tbody#secret-API_KEY"),
    ("GET", "/-/secrets/API_KEY/history", None, "tbody#secret-API_KEY table.secret-versions"),
    ("GET", "/-/secrets/API_KEY/restore?version=1", None, "tbody#secret-API_KEY table.secret-versions form.secret-confirm"),
    ("POST", "/-/secrets/API_KEY/restore", {"version": "1", "history": "1"}, "tbody#secret-API_KEY table.secret-versions"),
    ("POST", "/-/secrets/API_KEY/restore", {"version": "1", "history": "1"}, "tbody#secret-API_KEY tr.secret-feedback + tr.secret-history"),
    ("POST", "/-/secrets/API_KEY/restore", {"version": "1"}, "tbody#secret-API_KEY tr.secret-feedback"),
    ("GET", "/-/secrets/API_KEY/delete", None, "tbody#secret-API_KEY form.secret-confirm"),
    ("POST", "/-/secrets/API_KEY/delete", None, "tbody#secret-API_KEY"),
    ("POST", "/-/secrets/API_KEY/reveal", None, ".secret-revealed .secret-revealed-value"),
    ("GET", "/-/secrets/API_KEY/mask", None, ".secret-mask"),
    ("GET", "/-/secrets/API_KEY/mask", None, "hx-partial[hx-target='#secrets-status']"),
]


@pytest.mark.asyncio
@pytest.mark.parametrize("method,path,data,selector", FRAGMENTS, ids=[f"{m} {p} {s}" for m, p, _, s in FRAGMENTS])
async def test_htmx_requests_get_fragments(method, path, data, selector, seeded):
    response = await seeded.client.request(method, path, data=data, actor=ROOT, headers=HX)
    assert response.status_code == 200
    soup = assert_fragment(response)
    assert soup.select_one(selector) is not None
    assert "HX-Request" in response.headers["Vary"]


# URLs that serve a full page without htmx and a fragment with it.
PAGE_OR_FRAGMENT = [
    ("GET", "/-/secrets", None),
    ("GET", "/-/secrets/API_KEY", None),
    ("POST", "/-/secrets/API_KEY", {"secret": "", "note": "n" * 201}),  # 422 form
    ("GET", "/-/secrets/API_KEY/history", None),
    ("GET", "/-/secrets/API_KEY/delete", None),
    ("POST", "/-/secrets/API_KEY/reveal", None),
]


@pytest.mark.asyncio
@pytest.mark.parametrize("method,path,data", PAGE_OR_FRAGMENT, ids=[f"{m} {p}" for m, p, _ in PAGE_OR_FRAGMENT])
async def test_vary_on_hx_request(method, path, data, seeded):
    page = await seeded.client.request(method, path, data=data, actor=ROOT)
    fragment = await seeded.client.request(method, path, data=data, actor=ROOT, headers=HX)
    assert page.status_code == fragment.status_code
    assert parse(page).find("html") is not None
    assert_fragment(fragment)
    for response in (page, fragment):
        vary = [v.strip().lower() for v in response.headers["Vary"].split(",")]
        assert "hx-request" in vary


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/-/secrets", "/-/secrets/API_KEY/history"])
async def test_htmx_history_restore_gets_the_full_page(path, seeded):
    headers = {**HX, "HX-History-Restore-Request": "true"}
    response = await seeded.client.get(path, actor=ROOT, headers=headers)
    assert response.status_code == 200
    assert parse(response).find("html") is not None
    assert parse(response).find("h1") is not None


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "method,path,data,status",
    [
        ("GET", "/-/secrets/NO_SUCH", None, 404),
        ("GET", "/-/secrets/NO_SUCH/history", None, 404),
        ("POST", "/-/secrets/API_KEY/restore", {"version": "99"}, 404),
        ("POST", "/-/secrets/API_KEY/restore", {"version": "x"}, 400),
        ("POST", "/-/secrets/OTHER_KEY/delete", None, 404),
        ("POST", "/-/secrets/OTHER_KEY/reveal", None, 404),
    ],
)
async def test_htmx_errors_go_to_the_status_region(method, path, data, status, seeded):
    assert assert_error_fragment(
        await seeded.client.request(method, path, data=data, actor=ROOT, headers=HX), status
    ).strip()
    page = await seeded.client.request(method, path, data=data, actor=ROOT)
    assert page.status_code == status
    assert "HX-Retarget" not in page.headers


@pytest.mark.asyncio
async def test_htmx_conflict_goes_to_the_status_region(seeded):
    # An orphan can only be deleted: an edit of one is a conflict.
    await insert_row(seeded, "GONE_KEY", b"x", "default")
    message = assert_error_fragment(
        await seeded.client.post("/-/secrets/GONE_KEY", data={"secret": "v", "note": ""}, actor=ROOT, headers=HX),
        409,
    )
    assert "can only be deleted" in message


@pytest.mark.asyncio
async def test_forbidden_outside_the_plugin_is_not_retargeted(ds):
    """The htmx error fragment is only for the plugin's own URLs."""
    response = await ds.client.get("/-/permissions", headers=HX)
    assert response.status_code == 403
    assert "HX-Retarget" not in response.headers


# Escaping


SCRIPT_NOTE = '<script>alert("note")</script>'
ORPHAN_NAMES = ['<img src=x onerror=alert(1)>', "<script>alert(1)</script>", 'quote" onmouseover="alert(1)', "50% off"]


def assert_no_injection(soup):
    assert soup.find("img", onerror=True) is None
    assert not [s for s in soup.find_all("script") if "alert" in s.get_text()]
    assert soup.find(attrs={"onmouseover": True}) is None


@pytest.mark.asyncio
async def test_notes_are_escaped_everywhere(ds):
    await store_value(ds, "API_KEY", "value-one", note=SCRIPT_NOTE)
    await store_value(ds, "API_KEY", "value-two", note=SCRIPT_NOTE)
    requests = [
        ("GET", "/-/secrets", {}),
        ("GET", "/-/secrets", HX),
        ("GET", "/-/secrets/API_KEY", {}),
        ("GET", "/-/secrets/API_KEY", HX),
        ("GET", "/-/secrets/API_KEY/row", HX),
        ("GET", "/-/secrets/API_KEY/history", {}),
        ("GET", "/-/secrets/API_KEY/history", HX),
        ("GET", "/-/secrets/API_KEY/delete", HX),
    ]
    for method, path, headers in requests:
        response = await ds.client.request(method, path, actor=ROOT, headers=headers)
        assert response.status_code == 200
        soup = parse(response)
        assert_no_injection(soup)
        assert soup.find(string=lambda s: SCRIPT_NOTE in s) is not None, f"{path}: the note is shown as text"
    # kept exactly in the form
    form = parse(await ds.client.get("/-/secrets/API_KEY", actor=ROOT)).select_one("form.secret-form")
    assert form.find("textarea").get_text() == SCRIPT_NOTE


@pytest.mark.asyncio
async def test_note_is_escaped_when_sent_back_with_an_error(ds):
    note = SCRIPT_NOTE + "x" * 200
    for headers in ({}, HX):
        response = await ds.client.post("/-/secrets/API_KEY", data={"secret": "v", "note": note}, actor=ROOT, headers=headers)
        assert response.status_code == 422
        soup = parse(response)
        assert_no_injection(soup)
        assert soup.find("textarea").get_text() == note


@pytest.mark.asyncio
@pytest.mark.parametrize("name", ORPHAN_NAMES)
async def test_orphan_names_are_escaped_and_usable(name, ds, key):
    await insert_row(ds, name, Key(key).encrypt(name, 1, "orphan-value"), Key(key).id, note="orphan")
    page = parse(await ds.client.get("/-/secrets", actor=ROOT))
    assert_no_injection(page)
    assert name in [c.get_text() for c in page.select("th.secret-name code")]
    tbody = next(t for t in page.select("tbody.secret") if t.select_one("th.secret-name code").get_text() == name)

    # its links work: history, delete confirmation (page and fragment), then delete
    history_button = tbody.find("button", string="History")
    history = await ds.client.get(history_button.find_parent("form")["action"], actor=ROOT)
    assert history.status_code == 200
    assert_no_injection(parse(history))
    delete_url = tbody.select_one("button.secret-danger")["formaction"]
    for headers in ({}, HX):
        confirm = await ds.client.get(delete_url, actor=ROOT, headers=headers)
        assert confirm.status_code == 200
        assert_no_injection(parse(confirm))
    form = parse(await ds.client.get(delete_url, actor=ROOT)).select_one("form.secret-form")
    for headers in (HX,):
        fragment = await ds.client.post(delete_url, actor=ROOT, headers=headers)
        assert fragment.status_code == 200
        assert_no_injection(parse(fragment))
    assert form["action"] == delete_url
    (row,) = await secret_rows(ds, name)
    assert row["deleted_at"] is not None
    after = parse(await ds.client.get("/-/secrets", actor=ROOT))
    assert name not in [c.get_text() for c in after.select("th.secret-name code")]


@pytest.mark.asyncio
async def test_flash_message_with_orphan_name_is_escaped(ds, key):
    name = ORPHAN_NAMES[0]
    await insert_row(ds, name, Key(key).encrypt(name, 1, "orphan-value"), Key(key).id)
    page = parse(await ds.client.get("/-/secrets", actor=ROOT))
    tbody = next(t for t in page.select("tbody.secret") if t.select_one("th.secret-name code").get_text() == name)
    response = await ds.client.post(tbody.select_one("button.secret-danger")["formaction"], actor=ROOT)
    assert response.status_code == 302
    after = await follow(ds, response)
    assert_no_injection(parse(after))
    assert any(name in message for message in flash_messages(after))


@pytest.mark.asyncio
async def test_filter_text_is_escaped(ds):
    q = '<img src=x onerror=alert(1)>'
    for headers in ({}, HX):
        soup = parse(await ds.client.get("/-/secrets", params={"q": q}, actor=ROOT, headers=headers))
        assert_no_injection(soup)
        assert q in soup.select_one("p.secrets-empty").get_text()


@pytest.mark.asyncio
async def test_error_message_with_name_from_the_url_is_escaped(ds):
    name = "x'><svg onload=alert(1)>"
    for headers in ({}, HX):
        response = await ds.client.get(f"/-/secrets/{name}", actor=ROOT, headers=headers, follow_redirects=True)
        assert response.status_code == 404
        soup = parse(response)
        assert_no_injection(soup)
        assert soup.find("svg", onload=True) is None


@pytest.mark.asyncio
async def test_plugin_description_markup_only_when_marked_safe(register_plugin, make_datasette):
    """A plain-string description is text (plugins build them from configuration);
    a markupsafe.Markup description is rendered as markup."""
    register_plugin(
        secrets_plugin(
            Secret("PLAIN_KEY", '<script>alert("x")</script> and <strong>bold</strong>'),
            Secret("MARKED_KEY", Markup("An <strong>example</strong> API key")),
        ),
        "described-plugin",
    )
    ds = make_datasette()
    for path, where in (("/-/secrets", "#secret-PLAIN_KEY"), ("/-/secrets/PLAIN_KEY", ".secret-page-summary")):
        page = parse(await ds.client.get(path, actor=ROOT))
        description = page.select_one(f"{where} .secret-description")
        assert description.get_text() == '<script>alert("x")</script> and <strong>bold</strong>', path
        assert page.find("script", string=re.compile("alert")) is None, path
        assert description.find("strong") is None, path
    marked = row_of(parse(await ds.client.get("/-/secrets", actor=ROOT)), "MARKED_KEY")
    assert marked.select_one(".secret-description strong").get_text() == "example"


# A stored value appears in no response but a reveal


async def every_non_reveal_response(ds):
    """(label, response) for every page and fragment an admin can load for a set secret."""
    out = []

    async def add(method, path, headers=None, **kwargs):
        response = await ds.client.request(method, path, actor=ROOT, headers=headers or {}, **kwargs)
        out.append((f"{method} {path} htmx={bool(headers)} -> {response.status_code}", response))
        return response

    await add("GET", "/")
    for headers in ({}, HX):
        await add("GET", "/-/secrets", headers)
        await add("GET", "/-/secrets?q=API", headers)
        await add("GET", "/-/secrets/API_KEY", headers)
        await add("GET", "/-/secrets/API_KEY/row", headers)
        await add("GET", "/-/secrets/API_KEY/history", headers)
        await add("GET", "/-/secrets/API_KEY/delete", headers)
        await add("GET", "/-/secrets/API_KEY/mask", headers)
        await add("GET", "/-/secrets/API_KEY/reveal", headers)  # wrong method
        await add("POST", "/-/secrets/API_KEY", headers, data={"secret": "", "note": "changed note"})
        await add("POST", "/-/secrets/API_KEY", headers, data={"secret": "", "note": "n" * 201})
        await add("POST", "/-/secrets/API_KEY/restore", headers, data={"version": "nope"})
    redirect = await add("POST", "/-/secrets/API_KEY/restore", data={"version": "2"})
    out.append(("list after restore", await follow(ds, redirect)))
    await add("POST", "/-/secrets/API_KEY/restore", HX, data={"version": "2"})
    return out


def assert_value_absent(label, response, value=DISTINCTIVE):
    secret_part = value[:-4]  # the last four characters are the documented hint
    assert secret_part not in response.text, label
    for header_value in response.headers.values():
        assert secret_part not in header_value, label


@pytest.mark.asyncio
async def test_value_only_in_reveal_responses(seeded):
    for label, response in await every_non_reveal_response(seeded):
        assert_value_absent(label, response)
        assert_value_absent(label, response, EARLIER)
    for headers in ({}, HX):
        revealed = await seeded.client.post("/-/secrets/API_KEY/reveal", actor=ROOT, headers=headers)
        assert revealed.status_code == 200
        assert parse(revealed).select_one(".secret-revealed-value").get_text() == DISTINCTIVE
    # and masking again hides it
    assert_value_absent("mask", await seeded.client.get("/-/secrets/API_KEY/mask", actor=ROOT, headers=HX))


@pytest.mark.asyncio
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
async def test_saving_does_not_echo_the_value(htmx, ds):
    headers = HX if htmx else {}
    response = await ds.client.post("/-/secrets/API_KEY", data={"secret": DISTINCTIVE, "note": ""}, actor=ROOT, headers=headers)
    assert response.status_code == (200 if htmx else 302)
    assert_value_absent("save", response)
    if not htmx:
        assert_value_absent("after redirect", await follow(ds, response))


@pytest.mark.asyncio
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
async def test_validation_error_does_not_echo_the_value(htmx, ds):
    """A value typed into a form rejected for its note is not sent back in the page."""
    headers = HX if htmx else {}
    response = await ds.client.post(
        "/-/secrets/API_KEY", data={"secret": DISTINCTIVE, "note": "n" * 201}, actor=ROOT, headers=headers
    )
    assert response.status_code == 422
    assert_value_absent("422", response)
    assert parse(response).find("input", attrs={"name": "secret"}).get("value", "") == ""
    assert parse(response).find("textarea", attrs={"name": "note"}).get_text() == "n" * 201


# Cross-site requests and unsafe GETs


POSTS = [
    ("/-/secrets/API_KEY", {"secret": "cross-site-value", "note": "cross"}),
    ("/-/secrets/API_KEY/restore", {"version": "1"}),
    ("/-/secrets/API_KEY/delete", None),
    ("/-/secrets/API_KEY/reveal", None),
]
# Each from the same origin: a change redirects back to the list; a reveal is its page.
SAME_ORIGIN_STATUS = {"/-/secrets/API_KEY/reveal": 200}


@pytest.mark.asyncio
@pytest.mark.parametrize("path,data", POSTS, ids=[p for p, _ in POSTS])
async def test_cross_site_posts_are_refused(path, data, seeded):
    before = await secret_rows(seeded), await audit_rows(seeded)
    for headers in (CROSS_SITE, {**CROSS_SITE, **HX}):
        response = await seeded.client.post(path, data=data, actor=ROOT, headers=headers)
        assert response.status_code == 403
        assert DISTINCTIVE not in response.text
    assert (await secret_rows(seeded), await audit_rows(seeded)) == before
    # the same request from the same origin goes through
    response = await seeded.client.post(path, data=data, actor=ROOT, headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == SAME_ORIGIN_STATUS.get(path, 302)


@pytest.mark.asyncio
async def test_gets_change_nothing(seeded):
    before = await secret_rows(seeded), await audit_rows(seeded)
    # path: (status without htmx, with htmx). A form page is shown, never acted on;
    # a reveal is POST only; a row's fragments send a page load back to the list.
    gets = {
        "/-/secrets/API_KEY?secret=changed&note=changed": (200, 200),
        "/-/secrets/API_KEY/restore?version=1": (200, 200),
        "/-/secrets/API_KEY/delete": (200, 200),
        "/-/secrets/API_KEY/reveal": (405, 405),
        "/-/secrets/API_KEY/history": (200, 200),
        "/-/secrets/API_KEY/row": (302, 200),
        "/-/secrets/API_KEY/mask": (302, 200),
    }
    for path, statuses in gets.items():
        for headers, status in zip(({}, HX), statuses):
            response = await seeded.client.get(path, actor=ROOT, headers=headers)
            assert response.status_code == status, (path, headers)
            assert DISTINCTIVE not in response.text
    assert (await secret_rows(seeded), await audit_rows(seeded)) == before


@pytest.mark.asyncio
async def test_every_response_refuses_framing(ds):
    """So a same-site page cannot frame /-/secrets and get Reveal clicked."""
    await store_value(ds, "API_KEY", DISTINCTIVE)
    reveal = await ds.client.post("/-/secrets/API_KEY/reveal", actor=ROOT)
    assert reveal.status_code == 200 and reveal.headers["x-frame-options"] == "DENY"
    paths = ["/-/secrets", "/-/secrets?page=zero"] + [
        f"/-/secrets/{name}{suffix}"
        for name in ("API_KEY", "NO_SUCH_SECRET")
        for suffix in ("", "/row", "/history", "/delete", "/mask")
    ]
    for path in paths:
        for actor in (ROOT, None):
            for headers in ({}, HX):
                for method in ("GET", "POST"):
                    response = await ds.client.request(method, path, actor=actor, headers=headers)
                    where = f"{method} {path} {actor} {headers}"
                    assert response.headers["x-frame-options"] == "DENY", where
                    assert response.headers["content-security-policy"] == "frame-ancestors 'none'", where
    # Datasette's own pages are left as they are.
    assert "x-frame-options" not in (await ds.client.get("/", actor=ROOT)).headers


# The row's fragments after secrets.js went back to glue (issue 20): the server says
# what each answer holds, its notice and where focus goes.


@pytest.mark.asyncio
async def test_edit_adds_the_editor_and_the_switch_and_an_error_send_the_whole_row(seeded):
    table = parse(await seeded.client.get("/-/secrets", actor=ROOT)).select_one("table.secrets-table")
    # A request from inside a row swaps that row (its tbody) by a morph: what was typed stays.
    assert (table["hx-target:inherited"], table["hx-swap:inherited"]) == ("closest tbody.secret", "outerMorph")
    editor = parse(await seeded.client.get("/-/secrets/API_KEY", actor=ROOT, headers=HX))
    assert editor.find("tbody") is None, "Edit adds only the editor under the row"
    assert [tr["class"] for tr in editor.find_all("tr", recursive=False)] == [["secret-open", "secret-editing"]]
    cancel = editor.find("button", string="Cancel")
    assert (cancel["hx-get"], cancel.has_attr("data-close")) == ("/-/secrets/API_KEY/row", True)
    switch = editor.select_one("button[data-lines]")
    assert switch["hx-get"] == "/-/secrets/API_KEY?multiline=1" and not switch.has_attr("hx-target")
    for response in (
        await seeded.client.get(switch["hx-get"], actor=ROOT, headers=HX),
        await seeded.client.post("/-/secrets/API_KEY", data={"secret": "", "note": "n" * 201}, actor=ROOT, headers=HX),
    ):
        row = parse(response).select_one("tbody#secret-API_KEY")
        assert not row.has_attr("hx-swap:inherited"), "the list's table says how every row is swapped"
        assert row.select_one("tr.secret-editing form.secret-form") is not None
        assert DISTINCTIVE not in response.text


@pytest.mark.asyncio
async def test_cancel_gets_the_row_with_focus_on_edit(seeded):
    row = parse(await seeded.client.get("/-/secrets/API_KEY/row", actor=ROOT, headers=HX))
    assert [a["aria-label"] for a in row.select("[autofocus]")] == ["Edit API_KEY"]
    assert row.select_one("tr.secret-editing") is None
    delete_cancelled = parse(await seeded.client.get("/-/secrets/API_KEY/row?focus=delete", actor=ROOT, headers=HX))
    assert [b["aria-label"] for b in delete_cancelled.select("[autofocus]")] == ["Delete API_KEY"]


@pytest.mark.asyncio
async def test_a_change_sends_its_notice_and_leaves_what_the_secret_is(seeded):
    response = await seeded.client.post("/-/secrets/API_KEY", data={"secret": "", "note": "noted"}, actor=ROOT, headers=HX)
    soup = parse(response)
    message = "Updated the note for API_KEY; the value is unchanged."
    assert soup.select_one("tbody#secret-API_KEY tr.secret-feedback").get_text(strip=True) == message
    notice = soup.find("hx-partial", attrs={"hx-target": "#secrets-status"})
    assert notice.get_text(strip=True) == message and notice.find_parent("tbody") is None
    about = soup.select_one("tbody#secret-API_KEY tr.secret-about")
    assert about["id"] == "about-API_KEY" and about.has_attr("hx-preserve") and about.get_text() == ""
    # Opening the row again shows what the secret is.
    row = parse(await seeded.client.get("/-/secrets/API_KEY/row", actor=ROOT, headers=HX))
    assert row.find("hx-partial") is None
    assert not row.select_one("tr.secret-about").has_attr("hx-preserve")
    assert row.select_one("tr.secret-about").get_text(strip=True)


@pytest.mark.asyncio
async def test_an_error_at_the_row_is_said_in_red_in_the_notice(seeded):
    await seeded.client.post("/-/secrets/API_KEY/delete", actor=ROOT)
    headers = {**HX, "HX-Target": "tbody#secret-API_KEY"}
    response = await seeded.client.post("/-/secrets/API_KEY/delete", actor=ROOT, headers=headers)
    notice = parse(response).find("hx-partial", attrs={"hx-target": "#secrets-status"})
    assert notice.select_one("p.message-error").get_text().startswith("API_KEY has no stored value to delete")


ALICE = {"id": "alice"}
OWN_VALUE = "sk-OWNVALUE-1f2e3d4c5b6a-TAIL"


async def says_ok(datasette, value):
    return True, "Looks fine"


@pytest_asyncio.fixture
async def own(register_plugin, make_datasette):
    """A Datasette with a personal secret, AI_KEY, where alice keeps a value of her own."""
    register_plugin(secrets_plugin(Secret("AI_KEY", "Your AI key", personal=True, check=says_ok)), "own-plugin")
    datasette = make_datasette()
    await datasette.invoke_startup()
    response = await datasette.client.post("/-/secrets/-/mine/AI_KEY", data={"secret": OWN_VALUE}, actor=ALICE)
    assert response.status_code == 302
    return datasette


@pytest.mark.asyncio
async def test_my_secrets_rows_are_the_list_rows(own):
    page = parse(await own.client.get("/-/secrets/-/mine", actor=ALICE))
    headers = [th.get_text(strip=True) for th in page.select("table.secrets-table thead th")]
    assert headers == ["Secret", "Value", "Updated", "Last used", "Actions"]  # no note
    row = page.select_one("tbody#mine-AI_KEY")
    assert len(row.select_one("tr").find_all(["th", "td"], recursive=False)) == len(headers)
    table = page.select_one("table.secrets-table")  # says how each of its rows is swapped, as the list's does
    assert (table["hx-target:inherited"], table["hx-swap:inherited"]) == ("closest tbody.secret", "outerMorph")
    assert [e["aria-label"] for e in row.select("[aria-label]")] == [
        "Reveal your AI_KEY", "Copy your AI_KEY", "Edit your AI_KEY", "History of your AI_KEY",
        "Delete your AI_KEY", "Test your AI_KEY",
    ]
    assert OWN_VALUE not in str(page)
    # Someone who never stored a value gets no History.
    bob = parse(await own.client.get("/-/secrets/-/mine", actor={"id": "bob"}))
    assert [e["aria-label"] for e in bob.select("tbody#mine-AI_KEY [aria-label]")] == ["Set your AI_KEY"]


@pytest.mark.asyncio
async def test_an_own_value_answers_with_the_same_fragments(own):
    editor = parse(await own.client.get("/-/secrets/-/mine/AI_KEY", actor=ALICE, headers=HX))
    assert editor.find("form", attrs={"aria-label": "Edit your AI_KEY"}).find("textarea", attrs={"name": "note"}) is None
    assert editor.select_one("button[data-lines]")["hx-get"] == "/-/secrets/-/mine/AI_KEY?multiline=1"
    lines = parse(await own.client.get("/-/secrets/-/mine/AI_KEY?multiline=1", actor=ALICE, headers=HX))
    assert lines.select_one("tbody#mine-AI_KEY textarea[name=secret]") is not None
    history = parse(await own.client.get("/-/secrets/-/mine/AI_KEY/history", actor=ALICE, headers=HX))
    assert history.select_one("tbody#mine-AI_KEY h2.secret-history-title").has_attr("autofocus")
    assert history.find("button", attrs={"aria-label": "History of your AI_KEY"})["aria-expanded"] == "true"
    revealed = await own.client.post("/-/secrets/-/mine/AI_KEY/reveal", actor=ALICE, headers=HX)
    div = parse(revealed).select_one(".secret-revealed")
    assert div["hx-get"] == "/-/secrets/-/mine/AI_KEY/mask" and OWN_VALUE in revealed.text
    masked = await own.client.get("/-/secrets/-/mine/AI_KEY/mask?focus=reveal", actor=ALICE, headers=HX)
    soup = parse(masked)
    assert soup.find("button", attrs={"aria-label": "Reveal your AI_KEY"}).has_attr("autofocus")
    assert soup.find("hx-partial").get_text() == "Your AI_KEY is hidden again."
    assert OWN_VALUE not in masked.text
    assert (await own.client.get("/-/secrets/-/mine/AI_KEY/mask", actor=ALICE)).status_code == 302
    tested = parse(await own.client.post("/-/secrets/-/mine/AI_KEY/test", actor=ALICE, headers=HX))
    assert tested.select_one("tbody#mine-AI_KEY tr.secret-feedback").get_text(" ", strip=True) == "Test of your AI_KEY: ✓ Looks fine"
    assert tested.find("hx-partial").get_text() == "Test of your AI_KEY: ✓ Looks fine"
    # Nobody else reaches alice's value through them.
    for path in ("reveal", "copy", "test"):
        response = await own.client.post(f"/-/secrets/-/mine/AI_KEY/{path}", actor=ROOT, headers=HX)
        assert response.status_code == 404 and OWN_VALUE not in response.text
