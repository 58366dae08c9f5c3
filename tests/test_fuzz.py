"""Any input, on every route: never a 5xx, and a refused request changes nothing.

Hypothesis draws names (any text, URL-encoded or raw: %2F, %00, dots, 10,000
characters, empty), query strings and form fields (any text httpx can send:
NUL, control characters, RTL marks, huge values; lone surrogates cannot be
sent) and raw bodies (bytes that are not UTF-8). Each route in
``views.ROUTES`` is enumerated by ``route_helpers``, never written out here,
and is tried with GET and POST, with and without ``HX-Request``, as root
(who may do everything, so nothing is refused for want of permission); HEAD,
which Datasette answers as GET, is tried on every route in one test.

Each test builds its Datasette once and runs every example in one event loop
(pytest-asyncio's fixtures would not be reset between Hypothesis examples);
a request's effect is judged by comparing the stored rows before and after it.
"""

import asyncio
from urllib.parse import quote

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from datasette_secrets import core, flush_usage, get_secret
from datasette_secrets.crypto import Key
from route_helpers import TEMPLATES, has_name, path
from secret_helpers import EXAMPLE_SECRETS, HX, ROOT, audit_rows, insert_row, parse, secret_rows, snapshot, store_value

REGISTERED = [secret.name for secret in EXAMPLE_SECRETS]
EDIT = "/-/secrets/{name}"
# Text httpx can send: anything but lone surrogates (which Hypothesis leaves out).
SMALL_TEXT = st.text(max_size=40)
CONTROL_TEXT = st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Zs", "Mn"]), max_size=20)
SPECIAL_TEXT = st.sampled_from(
    [
        "", " ", "\x00", "a\x00b", "\x00" * 50, "\u202e\u200fevil\u202c", "\r\n", "\t\x0b\x0c",
        "\x1b[31mred", "\ufeff", "\u2028\u2029", "﷽", "🔑" * 20, "%00", "%2F", "../..",
        "<script>alert(1)</script>", "'; drop table datasette_secrets; --", "{{ 7*7 }}",
        "a" * 16_384, "a" * 16_385, "é" * 16_384, "n" * 200, "n" * 201, " padded value \n",
    ]
)
HUGE_TEXT = st.builds(lambda piece, times: piece * times, st.text(min_size=1, max_size=4), st.integers(1_000, 8_000))
ANY_TEXT = st.one_of(SMALL_TEXT, CONTROL_TEXT, SPECIAL_TEXT, HUGE_TEXT)
NUMBER_TEXT = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["", " 1", "1 ", "1.0", "١", "²", "0x1", "1e3", "+1", "-0", "01", "9" * 400]),
)

# Path segments for the secret's name, encoded as a link would be, or sent raw.
NAMES = st.one_of(
    st.sampled_from(REGISTERED),
    SMALL_TEXT,
    CONTROL_TEXT,
    st.sampled_from(["", ".", "..", "...", "a/b", "/", "\x00", "API_KEY\x00", "API_KEY/", "-", "~"]),
    st.just("x" * 10_000),
)
RAW_SEGMENTS = st.sampled_from(
    [
        "%2F", "a%2Fb", "API_KEY%2F", "%2FAPI_KEY", "%00", "API_KEY%00", "%2E", "%2E%2E", ".", "..",
        "API%5FKEY", "api_key", "%", "%zz", "%FF", "%ED%A0%80", "%C0%AF", "~2F", "API~5FKEY",
        "%20API_KEY", "API_KEY%20", "%E2%80%AEAPI_KEY", "x" * 10_000, "%41PI_KEY",
    ]
)
SEGMENTS = st.one_of(
    NAMES.map(lambda name: quote(name, safe="")),
    RAW_SEGMENTS,
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdef0123456789%~.-!$&'()*+,;=:@", min_size=1, max_size=30),
)
QUERY_KEYS = st.one_of(
    st.sampled_from(["q", "page", "focus", "secret", "actor", "action", "before", "format", "_hash"]),
    SMALL_TEXT,
)
# httpx refuses a URL part over 64 KiB, so query values stay below that.
QUERY_VALUES = st.one_of(SMALL_TEXT, CONTROL_TEXT, NUMBER_TEXT, st.sampled_from(["", "\x00", "\u202e", "%", "x" * 5_000]))
QUERIES = st.dictionaries(QUERY_KEYS, QUERY_VALUES, max_size=3)
FORMS = st.fixed_dictionaries(
    {},
    optional={
        "secret": ANY_TEXT,
        "note": ANY_TEXT,
        "version": st.one_of(NUMBER_TEXT, SMALL_TEXT),
        "csrftoken": SMALL_TEXT,
    },
)
FORMS_WITH_EXTRAS = st.builds(lambda form, extra: {**extra, **form}, FORMS, st.dictionaries(SMALL_TEXT, SMALL_TEXT, max_size=2))

BODIES = st.one_of(
    st.binary(max_size=300),
    st.sampled_from(
        [
            b"secret=\xff\xfe&note=x", b"secret=ok&note=\xc3", b"\x80", b"secret=%FF%FE&note=%C3",
            b"version=\xff", b"secret=\xed\xa0\x80", b"\x00\x00", b"secret=" + b"\xe9" * 100,
        ]
    ),
    ANY_TEXT.map(lambda text: text.encode("utf-8")),
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=latin-1",
        "multipart/form-data; boundary=xyz",
        "application/json",
        "text/plain",
        None,
    ]
)


def where(method, url, response):
    return f"{method} {url[:200]} -> {response.status_code}: {response.text[:300]!r}"


async def request_and_check(ds, method, url, headers, **kwargs):
    """One request as root, with every check that applies to any input."""
    rows, audit = before = await snapshot(ds)
    response = await ds.client.request(method, url, actor=ROOT, headers=headers, **kwargs)
    said = where(method, url, response)
    assert response.status_code < 500, said
    after = await snapshot(ds)
    if method != "POST" or 400 <= response.status_code < 500:
        assert after == before, f"refused or read-only, yet stored something: {said}"
    if 400 <= response.status_code < 500 and method != "HEAD":
        assert response.text.strip(), f"a refusal says why: {said}"
    # Whatever happened, it happened to secrets that exist: nothing is stored
    # under a name no plugin registered, no version is erased, and the audit
    # log is only ever appended to.
    known = set(REGISTERED) | {row["name"] for row in rows}
    assert {row["name"] for row in after[0]} <= known, said
    assert {row["id"] for row in rows} <= {row["id"] for row in after[0]}, said
    assert after[1][: len(audit)] == audit, said
    return response, before, after


async def check_saved_value(ds, form, before, after):
    """A save that stored a version stored exactly the value sent, cleaned as the form cleans it."""
    new = [row for row in after[0] if row["id"] not in {r["id"] for r in before[0]}]
    assert len(new) <= 1, f"one request, at most one new version: {new}"
    if new:
        # As the form stores it: whitespace trimmed, every line break made LF.
        assert await get_secret(ds, new[0]["name"]) == core.clean_value(form.get("secret", ""))
        await flush_usage(ds)  # now, not during a later example's request


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("route_template", TEMPLATES)
def test_any_name_query_and_form(route_template, method, htmx, example_plugin, make_datasette):
    headers = HX if htmx else {}
    with asyncio.Runner() as runner:
        ds = make_datasette()
        runner.run(ds.invoke_startup())
        # Something stored, so edits, rollbacks, reveals and deletes have work to do.
        runner.run(ds.client.post("/-/secrets/API_KEY", data={"secret": "stored value one"}, actor=ROOT))
        runner.run(ds.client.post("/-/secrets/API_KEY", data={"secret": "stored value two"}, actor=ROOT))

        @given(segment=SEGMENTS, query=QUERIES, form=FORMS_WITH_EXTRAS)
        # The shapes the issue names, tried every run whatever Hypothesis draws:
        @example(segment="%2F", query={}, form={"secret": "slash", "note": ""})
        @example(segment="a%2Fb", query={"q": "%2F"}, form={"secret": "slash"})
        @example(segment="API_KEY%00", query={"page": "\x00"}, form={"secret": "nul", "version": "1"})
        @example(segment="x" * 10_000, query={}, form={"secret": "long name"})
        @example(segment="", query={}, form={"secret": "empty name"})
        @example(segment="%2E%2E", query={}, form={"secret": "dots"})
        @example(segment="API%5FKEY", query={}, form={"secret": "encoded underscore", "version": "1"})
        @example(segment="API_KEY", query={}, form={"secret": "x" * 20_000, "note": "n" * 300, "version": "9" * 30})
        @example(segment="API_KEY", query={"focus": "\u202e"}, form={"secret": "a\x00b", "note": "\x00", "version": "١"})
        @example(segment="API_KEY", query={}, form={"secret": " \u202ertl\x1b\r\n ", "note": "\u200f\t"})
        @example(segment="API_KEY", query={}, form={"secret": "0\r0"})  # a lone CR inside is stored as LF
        def check(segment, query, form):
            url = path(route_template, segment) if has_name(route_template) else route_template

            async def run():
                response, before, after = await request_and_check(ds, method, url, headers, params=query, data=form)
                if route_template == EDIT and method == "POST":
                    await check_saved_value(ds, form, before, after)

            runner.run(run())

        check()


def test_head_on_any_route_with_any_input_writes_nothing(example_plugin, make_datasette):
    """HEAD is answered as GET is (the cross product above tries GET): each input
    drawn is sent by HEAD to every route, with and without htmx, and never
    writes anything or fails."""
    with asyncio.Runner() as runner:
        ds = make_datasette()
        runner.run(ds.invoke_startup())
        runner.run(ds.client.post("/-/secrets/API_KEY", data={"secret": "stored value one"}, actor=ROOT))
        runner.run(ds.client.post("/-/secrets/API_KEY", data={"secret": "stored value two"}, actor=ROOT))

        @given(segment=SEGMENTS, query=QUERIES, form=FORMS_WITH_EXTRAS)
        @example(segment="API_KEY", query={}, form={"secret": "head value", "version": "1"})
        def check(segment, query, form):
            async def run():
                for route_template in TEMPLATES:
                    url = path(route_template, segment) if has_name(route_template) else route_template
                    for headers in ({}, HX):
                        await request_and_check(ds, "HEAD", url, headers, params=query, data=form)

            runner.run(run())

        check()


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("route_template", TEMPLATES)
def test_any_body(route_template, htmx, example_plugin, make_datasette):
    """A POST body of any bytes and content type: not UTF-8 is a 4xx, never a 500."""
    with asyncio.Runner() as runner:
        ds = make_datasette()
        runner.run(ds.invoke_startup())
        runner.run(ds.client.post("/-/secrets/API_KEY", data={"secret": "stored value"}, actor=ROOT))

        @given(segment=st.sampled_from(REGISTERED), body=BODIES, content_type=CONTENT_TYPES)
        @example(segment="API_KEY", body=b"secret=\xff\xfe&note=x&version=1", content_type="application/x-www-form-urlencoded")
        @example(segment="API_KEY", body=b"secret=ok&note=\xc3&version=\xff", content_type=None)
        def check(segment, body, content_type):
            url = path(route_template, segment) if has_name(route_template) else route_template
            headers = {**(HX if htmx else {}), **({"content-type": content_type} if content_type else {})}
            runner.run(request_and_check(ds, "POST", url, headers, content=body))

        check()


# Orphans: rows stored under a name no installed plugin registers. They can
# hold any name (another tool, or an old plugin, wrote them), and the list page
# offers to delete each: following its links, as a browser would, must work.


def as_a_browser_would(href):
    """The path a browser requests for ``href``: dot segments removed, as the
    WHATWG URL standard says (``%2e`` counts as a dot there)."""
    path_part, _, query = href.partition("?")
    output = []
    segments = path_part.split("/")[1:]
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment.lower() in ("..", ".%2e", "%2e.", "%2e%2e"):
            if output:
                output.pop()
            if last:
                output.append("")
        elif segment.lower() in (".", "%2e"):
            if last:
                output.append("")
        else:
            output.append(segment)
    return "/" + "/".join(output) + (f"?{query}" if query else "")


async def delete_orphan_from_the_list_page(ds, key, name):
    """Store an orphan called ``name``, then delete it by following the page's links."""
    k = Key(key)
    await insert_row(ds, name, k.encrypt(name, 1, "orphaned value"), k.id, note="left behind")
    page = await ds.client.get("/-/secrets", actor=ROOT)
    assert page.status_code == 200, page.text[:300]
    # Nothing registered is set, so the orphan's is the only Delete button (its formaction, without JavaScript).
    links = [b["formaction"] for b in parse(page).find_all("button", formaction=True) if b["formaction"].endswith("/delete")]
    assert len(links) == 1, f"the orphan {name[:40]!r} is listed with a Delete button: {links}"
    confirm = await ds.client.get(as_a_browser_would(links[0]), actor=ROOT)
    assert confirm.status_code == 200, f"{links[0][:80]!r} -> {confirm.status_code}"
    (form,) = [f for f in parse(confirm).find_all("form") if (f.get("action") or "").endswith("/delete")]
    deleted = await ds.client.post(as_a_browser_would(form["action"]), actor=ROOT)
    assert deleted.status_code == 302, f"{form['action'][:80]!r} -> {deleted.status_code}"
    (row,) = await secret_rows(ds, name)
    assert row["deleted_at"] and row["deleted_by"] == "root"
    assert [(a["name"], a["action"]) for a in await audit_rows(ds)] == [(name, "delete")]


ORPHAN_NAMES = ["", ".", "..", "a/b", "/", "\x00", "%2F", "~2F", "x" * 10_000, "\u202eevil", "a.b", "-", " ", "é" * 1_000]


@pytest.mark.asyncio
@pytest.mark.parametrize("name", ORPHAN_NAMES, ids=[repr(n[:12]) for n in ORPHAN_NAMES])
async def test_orphan_with_an_odd_name_can_be_deleted_from_the_list(name, example_plugin, make_datasette, key):
    ds = make_datasette()
    await ds.invoke_startup()
    await delete_orphan_from_the_list_page(ds, key, name)


# httpx refuses a URL over 64 KiB: a name's encoded form stays below that.
ORPHAN_TEXT = st.one_of(
    SMALL_TEXT,
    CONTROL_TEXT,
    st.builds(lambda piece, times: piece * times, st.text(min_size=1, max_size=3), st.integers(100, 1_000)),
)


def test_orphan_with_any_name_can_be_deleted_from_the_list(example_plugin, make_datasette, key):
    """Any name but the empty and all-dot ones (the cases above)."""
    with asyncio.Runner() as runner:

        @given(name=ORPHAN_TEXT.filter(lambda n: n.strip(".") and n not in REGISTERED))
        def check(name):
            ds = make_datasette()  # a fresh one: rows written behind the plugin's back are not in its cache
            runner.run(ds.invoke_startup())
            runner.run(delete_orphan_from_the_list_page(ds, key, name))

        check()


@pytest.mark.asyncio
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
async def test_multipart_form_is_refused_with_415_and_changes_nothing(htmx, ds):
    """A form sent as multipart/form-data (enctype, or a script) is refused as an
    unsupported media type, never misread as an empty urlencoded one, which would
    wipe the note and drop the value."""
    await store_value(ds, "API_KEY", "the stored value", note="an important note")
    before = await snapshot(ds)
    response = await ds.client.post(
        "/-/secrets/API_KEY",
        files={"secret": (None, "a multipart value"), "note": (None, "a multipart note")},
        actor=ROOT,
        headers=HX if htmx else {},
    )
    assert response.status_code == 415, f"{response.status_code}: {response.text[:300]!r}"
    assert response.text.strip(), "the refusal says why"
    assert await snapshot(ds) == before
    assert await get_secret(ds, "API_KEY") == "the stored value"
