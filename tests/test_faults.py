"""When the storage misbehaves under a running Datasette: clear messages, never a 500.

(a) the configured database turns read-only, (b) the secrets table is dropped,
(c) a stored ciphertext is corrupted, (d) a ciphertext is moved into another
row. Each time the admin page says what is wrong, get_secret raises a
documented exception (or, where none is documented, at least not a bare
sqlite3 error), and nothing stored is overwritten.
"""

import sqlite3

import pytest
import pytest_asyncio

from datasette_secrets import SecretDecryptionError, get_secret
from datasette_secrets.crypto import Key
from secret_helpers import HX, ROOT, audit_rows, insert_row, parse, row_of, snapshot, store_value


def message_of(response):
    """The error text a person sees: the htmx error fragment, or the page."""
    if response.request.headers.get("hx-request") == "true":
        assert response.headers.get("HX-Retarget") == "#secrets-status", "an htmx error goes to the status region"
        soup = parse(response)
        assert soup.find("html") is None, "a fragment, not a page"
        error = soup.select_one(".message-error")
        assert error is not None, response.text[:300]
        return error.get_text(" ", strip=True)
    return parse(response).get_text(" ", strip=True)


def assert_refused_clearly(response, message, where):
    """A 409 (the request was fine, the storage is not) saying ``message``: not a 500."""
    said = f"{where} -> {response.status_code}: {response.text[:300]!r}"
    assert response.status_code == 409, said
    shown = message_of(response)
    assert message in shown, f"{said}\nmessage: {shown[:300]!r}"


# (a) The configured database becomes read-only.


@pytest_asyncio.fixture
async def read_only(example_plugin, make_datasette, tmp_path):
    """API_KEY stored twice in vault.db, which then refuses every write.

    Tests run as root, whom a chmod does not stop, and Datasette's write
    connection is open already; so SQLite itself is told to refuse writes on
    that connection (``PRAGMA query_only``), which fails exactly as a read-only
    file does: "attempt to write a readonly database".
    """
    path = str(tmp_path / "vault.db")
    sqlite3.connect(path).close()
    ds = make_datasette(files=[path], settings={"database": "vault"})
    await ds.invoke_startup()
    await store_value(ds, "API_KEY", "first stored value", note="first")
    await store_value(ds, "API_KEY", "second stored value", note="second")
    await ds.get_database("vault").execute_write_fn(lambda conn: conn.execute("pragma query_only = 1"))
    return ds


READ_ONLY = (
    "The database that holds the secrets is read-only (attempt to write a readonly database), so nothing was changed."
)
READ_ONLY_CHANGES = {
    "save a value": ("/-/secrets/API_KEY", {"secret": "must not be stored", "note": "new"}),
    "change only the note": ("/-/secrets/API_KEY", {"secret": "", "note": "a new note"}),
    "roll back": ("/-/secrets/API_KEY/restore", {"version": "1"}),
    "delete": ("/-/secrets/API_KEY/delete", {}),
    "reveal": ("/-/secrets/API_KEY/reveal", {}),  # every reveal is audited: unrecorded, unshown
}


@pytest.mark.asyncio
@pytest.mark.parametrize("change", READ_ONLY_CHANGES)
async def test_read_only_database_refuses_changes_clearly(change, read_only):
    url, data = READ_ONLY_CHANGES[change]
    before = await snapshot(read_only, "vault")
    for headers in ({}, HX):
        response = await read_only.client.post(url, data=data, actor=ROOT, headers=headers)
        assert_refused_clearly(response, READ_ONLY, f"{change}, htmx={bool(headers)}")
        assert "second stored value" not in response.text
    assert await snapshot(read_only, "vault") == before, "nothing overwritten"
    assert await get_secret(read_only, "API_KEY") == "second stored value"


@pytest.mark.asyncio
async def test_read_only_database_still_lists_and_reads(read_only):
    for headers in ({}, HX):
        assert (await read_only.client.get("/-/secrets", actor=ROOT, headers=headers)).status_code == 200
    assert (await read_only.client.get("/-/secrets/API_KEY/history", actor=ROOT)).status_code == 200
    assert await get_secret(read_only, "API_KEY") == "second stored value"


# (b) The secrets table is dropped under a running instance.
#
# Rows are written behind the plugin's back before each fault, so nothing the
# plugin cached answers for it: these tests are about the fault, not about how
# soon a cache notices a change no plugin code made.

MISSING_TABLE = (
    "The datasette_secrets table is missing or damaged (no such table: datasette_secrets). "
    "Restart Datasette to create it again; nothing was changed."
)


@pytest_asyncio.fixture
async def dropped(ds, key):
    k = Key(key)
    await insert_row(ds, "API_KEY", k.encrypt("API_KEY", 1, "stored before the drop"), k.id)
    await ds.get_internal_database().execute_write("drop table datasette_secrets")
    return ds


@pytest.mark.asyncio
async def test_dropped_table_list_page_says_so(dropped):
    for headers in ({}, HX):
        response = await dropped.client.get("/-/secrets", actor=ROOT, headers=headers)
        said = f"htmx={bool(headers)} -> {response.status_code}: {response.text[:300]!r}"
        assert response.status_code == 409, said
        assert MISSING_TABLE in message_of(response), f"the page names the missing table: {said}"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "url,data",
    [("/-/secrets/API_KEY", {"secret": "after the drop", "note": ""}), ("/-/secrets/API_KEY/reveal", {})],
    ids=["save", "reveal"],
)
async def test_dropped_table_changes_say_so(url, data, dropped):
    audit = await audit_rows(dropped)
    for headers in ({}, HX):
        response = await dropped.client.post(url, data=data, actor=ROOT, headers=headers)
        assert_refused_clearly(response, MISSING_TABLE, f"{url}, htmx={bool(headers)}")
    assert "datasette_secrets" not in await dropped.get_internal_database().table_names(), "not silently re-made"
    assert await audit_rows(dropped) == audit


@pytest.mark.asyncio
async def test_dropped_table_get_secret_is_not_a_bare_sqlite_error(dropped):
    """The README documents no exception for this; a bare sqlite3 error is not one."""
    try:
        value = await get_secret(dropped, "API_KEY")
    except Exception as e:  # noqa: BLE001 - which exception is the question
        assert type(e).__module__ != "sqlite3", f"get_secret raised a bare {type(e).__name__}: {e}"
        assert MISSING_TABLE in str(e)
    else:
        assert value is None, "never a value the table no longer holds"


# (c) A corrupted ciphertext and (d) a ciphertext moved into another row.


def flip_a_byte(blob):
    blob = bytearray(blob)
    blob[-1] ^= 0x01
    return bytes(blob)


# How a good row (name, version, value, sealed with the key) is spoiled:
# each returns the (encrypted, key id) to store instead.
CORRUPTIONS = {
    "a flipped byte": lambda k, blob: (flip_a_byte(blob), k.id),
    "truncated": lambda k, blob: (blob[:10], k.id),
    "empty": lambda k, blob: (b"", k.id),
    "NULL": lambda k, blob: (None, k.id),
    "text, not a blob": lambda k, blob: ("not a ciphertext", k.id),
    "a negative integer": lambda k, blob: (-1, k.id),
    "an unknown key id": lambda k, blob: (blob, "0123456789ab"),
    "the legacy key name": lambda k, blob: (blob, "default"),
}


async def assert_undecryptable_everywhere(ds, name, version):
    """What an admin and a plugin see of a secret whose ciphertext is bad."""
    with pytest.raises(SecretDecryptionError) as info:
        await get_secret(ds, name)
    assert name in str(info.value)
    for headers in ({}, HX):
        page = await ds.client.get("/-/secrets", actor=ROOT, headers=headers)
        assert page.status_code == 200, page.text[:300]
        row = row_of(parse(page), name)
        # The row's chip says it in a few words, and the whole reason on hover.
        chip = row.select_one(".secret-unreadable") if row is not None else None
        assert chip is not None, f"the row of {name} says what is wrong (htmx={bool(headers)})"
        assert chip.get_text().startswith("Can't read: ")
        assert name in chip["title"] and "decrypt" in chip["title"].lower()
    fragment = await ds.client.get(f"/-/secrets/{name}/row", actor=ROOT, headers=HX)
    assert fragment.status_code == 200 and row_of(parse(fragment), name).select_one(".secret-unreadable")
    # The way out stays open: history, a new value, or a delete.
    for page in ("history", "", "delete"):
        url = f"/-/secrets/{name}" + (f"/{page}" if page else "")
        assert (await ds.client.get(url, actor=ROOT)).status_code == 200, url
    for headers in ({}, HX):
        response = await ds.client.post(f"/-/secrets/{name}/reveal", actor=ROOT, headers=headers)
        assert response.status_code == 409, f"htmx={bool(headers)}: {response.text[:300]!r}"
        message = message_of(response)
        assert name in message and "decrypt" in message.lower(), message[:300]
        response = await ds.client.post(
            f"/-/secrets/{name}/restore", data={"version": str(version)}, actor=ROOT, headers=headers
        )
        assert response.status_code == 409, f"roll back, htmx={bool(headers)}: {response.text[:300]!r}"


@pytest.mark.asyncio
@pytest.mark.parametrize("corruption", CORRUPTIONS)
async def test_corrupted_ciphertext(corruption, ds, key):
    k = Key(key)
    encrypted, key_id = CORRUPTIONS[corruption](k, k.encrypt("API_KEY", 1, "the stored value"))
    await insert_row(ds, "API_KEY", encrypted, key_id)
    await insert_row(ds, "OTHER_KEY", k.encrypt("OTHER_KEY", 1, "an untouched value"), k.id)
    before = await snapshot(ds)
    await assert_undecryptable_everywhere(ds, "API_KEY", 1)
    assert await snapshot(ds) == before, "nothing overwritten, no reveal recorded"
    assert await get_secret(ds, "OTHER_KEY") == "an untouched value"


@pytest.mark.asyncio
async def test_ciphertext_moved_to_another_secret(ds, key):
    """Same version number, same key: only the name tells the two apart."""
    k = Key(key)
    await insert_row(ds, "API_KEY", k.encrypt("API_KEY", 1, "the api value"), k.id)
    await insert_row(ds, "OTHER_KEY", k.encrypt("API_KEY", 1, "the api value"), k.id)
    before = await snapshot(ds)
    await assert_undecryptable_everywhere(ds, "OTHER_KEY", 1)
    assert await snapshot(ds) == before, "nothing overwritten, no reveal recorded"
    assert await get_secret(ds, "API_KEY") == "the api value"


@pytest.mark.asyncio
async def test_old_version_ciphertext_moved_into_the_newest_row(ds, key):
    k = Key(key)
    old = k.encrypt("API_KEY", 1, "the old value")
    await insert_row(ds, "API_KEY", old, k.id, version=1)
    await insert_row(ds, "API_KEY", old, k.id, version=2)
    before = await snapshot(ds)
    await assert_undecryptable_everywhere(ds, "API_KEY", 2)
    assert await snapshot(ds) == before, "nothing overwritten, no reveal recorded"


@pytest.mark.asyncio
async def test_a_query_past_the_time_limit_is_a_clear_409(ds, monkeypatch):
    """Under a burst of requests a read can pass Datasette's time limit."""
    from datasette.database import QueryInterrupted

    from datasette_secrets import store

    async def interrupted(db):
        raise QueryInterrupted(None, "select ...", [])

    monkeypatch.setattr(store, "summaries", interrupted)
    for headers in ({}, HX):
        response = await ds.client.get("/-/secrets", actor=ROOT, headers=headers)
        assert response.status_code == 409, response.text[:300]
        assert "too busy to answer in time" in parse(response).get_text()
