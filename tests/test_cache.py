"""What get_secret caches, and that no cached answer is ever wrong for long.

- A change made through the plugin is served at once, deletes included.
- A change made by another process sharing the database file is served
  within a second (PRAGMA data_version, looked at most once a second).
- Plugins registered or unregistered at runtime are seen on the next call.
- "Last used" is buffered: many reads, of stored or environment values, at
  most one write a second.
"""

import asyncio
import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest
import pytest_asyncio
from datasette.plugins import pm

from datasette_secrets import Secret, flush_usage, get_secret, store, usage
from datasette_secrets.core import ready
from secret_helpers import ROOT, secrets_plugin, store_value, usage_row


@pytest_asyncio.fixture
async def on_disk(example_plugin, make_datasette, tmp_path):
    """A Datasette whose internal database is a file other processes can open."""
    path = str(tmp_path / "internal.db")
    ds = make_datasette(internal=path)
    await ds.invoke_startup()
    return ds, path


def count_writes(ds):
    """A list that grows by one for each write transaction on the internal database."""
    db = ds.get_internal_database()
    writes = []
    original = db.execute_write_fn

    async def counting(fn, *args, **kwargs):
        writes.append(fn)
        return await original(fn, *args, **kwargs)

    db.execute_write_fn = counting
    return writes


@pytest.mark.asyncio
async def test_changes_through_the_plugin_are_served_at_once(ds):
    await store_value(ds, "API_KEY", "first")
    assert await get_secret(ds, "API_KEY") == "first"  # now cached
    await store_value(ds, "API_KEY", "second")
    assert await get_secret(ds, "API_KEY") == "second"
    await store_value(ds, "API_KEY", "", note="only the note changes")
    assert await get_secret(ds, "API_KEY") == "second"

    response = await ds.client.post("/-/secrets/API_KEY/delete", actor=ROOT)
    assert response.status_code == 302
    assert await get_secret(ds, "API_KEY") is None

    response = await ds.client.post("/-/secrets/API_KEY/restore", data={"version": "1"}, actor=ROOT)
    assert response.status_code == 302
    assert await get_secret(ds, "API_KEY") == "first"


@pytest.mark.asyncio
async def test_htmx_changes_are_served_at_once(ds):
    await store_value(ds, "API_KEY", "before")
    assert await get_secret(ds, "API_KEY") == "before"
    headers = {"HX-Request": "true"}
    response = await ds.client.post(
        "/-/secrets/API_KEY", data={"secret": "after", "note": ""}, actor=ROOT, headers=headers
    )
    assert response.status_code == 200
    assert await get_secret(ds, "API_KEY") == "after"
    response = await ds.client.post("/-/secrets/API_KEY/delete", actor=ROOT, headers=headers)
    assert response.status_code == 200
    assert await get_secret(ds, "API_KEY") is None


@pytest.mark.asyncio
async def test_a_read_that_overlaps_a_delete_is_not_cached(ds):
    """A read that began before a delete may return the old value, but never caches it."""
    await store_value(ds, "API_KEY", "old-value")
    db = ds.get_internal_database()
    fetched, release = asyncio.Event(), asyncio.Event()
    original = db.execute

    async def held(sql, *args, **kwargs):
        result = await original(sql, *args, **kwargs)
        fetched.set()
        await release.wait()
        return result

    db.execute = held
    read = asyncio.ensure_future(get_secret(ds, "API_KEY"))
    await fetched.wait()  # the read holds the old row
    db.execute = original
    response = await ds.client.post("/-/secrets/API_KEY/delete", actor=ROOT)
    assert response.status_code == 302
    release.set()
    assert await read == "old-value"
    assert await get_secret(ds, "API_KEY") is None


@pytest.mark.asyncio
async def test_another_writer_is_seen_after_a_second_not_before(on_disk, make_datasette, clock):
    ds, path = on_disk
    await store_value(ds, "API_KEY", "original")
    assert await get_secret(ds, "API_KEY") == "original"

    other = make_datasette(internal=path)  # another Datasette on the same file
    await store_value(other, "API_KEY", "changed-elsewhere")

    clock.now += 0.5  # not looked again yet: the cached value is served
    assert await get_secret(ds, "API_KEY") == "original"
    clock.now += 0.6  # over a second since the last look
    assert await get_secret(ds, "API_KEY") == "changed-elsewhere"

    response = await other.client.post("/-/secrets/API_KEY/delete", actor=ROOT)
    assert response.status_code == 302
    clock.now += 1.1
    assert await get_secret(ds, "API_KEY") is None


@pytest.mark.asyncio
async def test_another_process_is_seen_within_a_second(on_disk, clock):
    ds, path = on_disk
    await store_value(ds, "API_KEY", "original")
    assert await get_secret(ds, "API_KEY") == "original"
    # A separate process deletes it straight in the file, as another server would.
    script = textwrap.dedent(
        """
        import sqlite3, sys
        conn = sqlite3.connect(sys.argv[1])
        conn.execute("update datasette_secrets set deleted_at = datetime('now') where name = 'API_KEY'")
        conn.commit()
        """
    )
    subprocess.run([sys.executable, "-c", script, path], check=True, timeout=60)
    clock.now += 1.1  # over a second since the last look
    assert await get_secret(ds, "API_KEY") is None, "another process's delete not seen"


@pytest.fixture
def statements(monkeypatch):
    """Every SQL statement run on any SQLite connection opened from now on (Datasette's,
    the plugin's watch), as traced by SQLite: for a Datasette made after it."""
    run = []
    original = sqlite3.connect

    def connect(*args, **kwargs):
        conn = original(*args, **kwargs)
        conn.set_trace_callback(run.append)
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect)
    return run


def plugin_tables(statements):
    return [sql for sql in statements if "datasette_secrets" in sql]


@pytest.mark.asyncio
async def test_a_warm_get_secret_reads_nothing_after_a_usage_flush(
    example_plugin, make_datasette, tmp_path, clock, statements
):
    """A write of "last used" (once a second under traffic) forgets the uses alone, and the
    plugin's own commits are not taken for another writer's: a warm get_secret after a
    flush makes no query of the plugin's tables, each time the once-a-second look comes round."""
    from datasette_secrets import model
    from datasette_secrets.core import ready

    ds = make_datasette(internal=str(tmp_path / "internal.db"))
    await ds.invoke_startup()
    state = await ready(ds)
    await store_value(ds, "API_KEY", "warm-value")
    assert await get_secret(ds, "API_KEY", "reader") == "warm-value"  # cached now
    await model.listing(ds, state)  # the list's rows and uses cached too
    epoch = state.cache.epoch()
    for _ in range(3):
        await flush_usage(ds)
        clock.now += 1.1  # the look comes round
        statements.clear()
        assert await get_secret(ds, "API_KEY", "reader") == "warm-value"
        assert plugin_tables(statements) == []
        assert any("data_version" in sql for sql in statements)  # the look itself stays
        await flush_usage(ds)
        statements.clear()
        await model.listing(ds, state)  # the uses alone are read again
        assert plugin_tables(statements) == [store.SELECT_USES]
    assert state.cache.epoch() == epoch  # so the key-fit check is not made again either


@pytest.mark.asyncio
async def test_concurrent_changes_through_the_plugin_forget_only_what_they_change(
    example_plugin, make_datasette, tmp_path, clock, statements
):
    """Each of two overlapping saves is known for the plugin's own: neither is taken
    for another writer's change, which would forget every cached secret."""
    from datasette_secrets import core
    from datasette_secrets.core import ready

    ds = make_datasette(internal=str(tmp_path / "internal.db"))
    await ds.invoke_startup()
    state = await ready(ds)
    await store_value(ds, "API_KEY", "untouched")
    assert await get_secret(ds, "API_KEY") == "untouched"
    await flush_usage(ds)
    entries = [await core_entry(ds, state, name) for name in ("OTHER_KEY", "ENV_KEY")]
    # The second save commits before the first save's answer is read, as on a busy server.
    db = ds.get_internal_database()
    original, calls = db.execute_write_fn, []
    second_committed, first_answered = asyncio.Event(), asyncio.Event()

    async def overlapping(fn, **kwargs):
        calls.append(fn)
        first = len(calls) == 1
        result = await original(fn, **kwargs)
        if first:
            await second_committed.wait()
            first_answered.set()
        else:
            second_committed.set()
            await first_answered.wait()
        return result

    db.execute_write_fn = overlapping
    await asyncio.gather(*(
        core.save(ds, state, entry, f"new-{entry.name}", "", ROOT) for entry in entries
    ))
    db.execute_write_fn = original
    clock.now += 1.1
    statements.clear()
    assert await get_secret(ds, "API_KEY") == "untouched"
    assert plugin_tables(statements) == []
    assert await get_secret(ds, "OTHER_KEY") == "new-OTHER_KEY"


async def core_entry(ds, state, name):
    from datasette_secrets import model

    return await model.entry(ds, state, name, shown=False)


@pytest.mark.asyncio
async def test_another_plugins_writes_to_its_own_tables_forget_nothing(
    example_plugin, make_datasette, tmp_path, clock, statements
):
    """Datasette's write connection is shared by every plugin: a commit to another
    table moves PRAGMA data_version, but not the generation, so nothing is read again."""
    ds = make_datasette(internal=str(tmp_path / "internal.db"))
    await ds.invoke_startup()
    db = ds.get_internal_database()
    await db.execute_write("create table other_plugin (n integer)")
    await store_value(ds, "API_KEY", "warm-value")
    assert await get_secret(ds, "API_KEY") == "warm-value"
    for n in range(3):
        await flush_usage(ds)  # now, not when the clock moves
        await db.execute_write("insert into other_plugin (n) values (?)", [n])
        clock.now += 1.1
        statements.clear()
        assert await get_secret(ds, "API_KEY") == "warm-value"
        assert plugin_tables(statements) == [store.SELECT_GENERATION]  # one row, read once


@pytest.mark.asyncio
async def test_another_process_writing_last_used_is_seen_on_the_list(on_disk, make_datasette, clock):
    ds, path = on_disk
    await store_value(ds, "API_KEY", "value")
    from datasette_secrets import model
    from datasette_secrets.core import ready

    state = await ready(ds)
    assert (await model.listing(ds, state)).uses == {}
    other = make_datasette(internal=path)
    assert await get_secret(other, "API_KEY", "elsewhere") == "value"
    await flush_usage(other)
    clock.now += 1.1
    assert (await model.listing(ds, state)).uses["API_KEY"][1] == "elsewhere"
    assert await get_secret(ds, "API_KEY") == "value"


@pytest.mark.asyncio
async def test_a_look_that_finds_a_commit_under_way_looks_again_at_the_next_call(on_disk, clock):
    """A file locked for a moment by a writer is not taken for a change of everything."""
    ds, path = on_disk
    await store_value(ds, "API_KEY", "original")
    assert await get_secret(ds, "API_KEY") == "original"
    await flush_usage(ds)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("update datasette_secrets set deleted_at = datetime('now') where name = 'API_KEY'")
        other.execute("begin exclusive")  # another writer's commit under way
        clock.now += 1.1
        assert await get_secret(ds, "API_KEY") == "original"  # served from the cache, nothing forgotten
        other.execute("rollback")
        assert await get_secret(ds, "API_KEY") is None  # looked again at once, not a second later
    finally:
        other.close()


@pytest.mark.asyncio
async def test_plugins_registered_at_runtime_are_seen_on_the_next_call(ds, monkeypatch):
    monkeypatch.setenv("DATASETTE_SECRETS_LATE_KEY", "late-value")
    assert await get_secret(ds, "LATE_KEY") is None
    pm.register(secrets_plugin(Secret("LATE_KEY")), name="late-plugin")
    try:
        assert await get_secret(ds, "LATE_KEY") == "late-value"
    finally:
        pm.unregister(name="late-plugin")
    assert await get_secret(ds, "LATE_KEY") is None


async def written_when_due(ds, clock, writes):
    """Nothing is written until the usage write is due on the clock; then it is."""
    state = await ready(ds)
    await asyncio.sleep(0.01)  # many looks at the clock (conftest's clock fixture), which has not moved
    assert writes == [], "written before it was due"
    clock.now += usage.FLUSH_EVERY
    await state.usage.scheduled()


@pytest.mark.asyncio
async def test_concurrent_reads_write_usage_once(on_disk, clock):
    ds, path = on_disk
    await store_value(ds, "API_KEY", "busy-value")
    writes = count_writes(ds)
    values = await asyncio.gather(*(get_secret(ds, "API_KEY", "reader") for _ in range(1000)))
    assert set(values) == {"busy-value"}
    assert writes == []  # nothing written on the read path
    await written_when_due(ds, clock, writes)  # a second after the first read
    assert len(writes) == 1
    assert (await usage_row(ds, "API_KEY"))["last_used_by"] == "reader"


@pytest.mark.asyncio
async def test_concurrent_environment_and_stored_reads_write_usage_once(on_disk, monkeypatch, clock):
    ds, path = on_disk
    await store_value(ds, "API_KEY", "stored-value")
    monkeypatch.setenv("DATASETTE_SECRETS_ENV_KEY", "env-value")
    writes = count_writes(ds)
    names = ["ENV_KEY", "API_KEY"] * 500
    values = await asyncio.gather(*(get_secret(ds, name, "reader") for name in names))
    assert set(values) == {"env-value", "stored-value"}
    assert writes == []  # nothing written on the read path

    await written_when_due(ds, clock, writes)  # a second after the first read
    assert len(writes) == 1
    sql = "select count(*) from datasette_secrets_usage where last_used_by = 'reader'"
    assert (await ds.get_internal_database().execute(sql)).single_value() == 2


@pytest.mark.asyncio
async def test_concurrent_cold_reads_share_one_query(ds):
    await store_value(ds, "API_KEY", "cold-value")
    db = ds.get_internal_database()
    queries = []
    original = db.execute

    async def counting(sql, *args, **kwargs):
        queries.append(sql)
        return await original(sql, *args, **kwargs)

    db.execute = counting
    values = await asyncio.gather(*(get_secret(ds, "API_KEY") for _ in range(100)))
    assert set(values) == {"cold-value"}
    assert len(queries) == 1


@pytest.mark.asyncio
async def test_the_admin_page_shows_uses_not_yet_written(ds):
    await store_value(ds, "API_KEY", "value")
    await get_secret(ds, "API_KEY", actor_id="reader")
    assert await usage_row(ds, "API_KEY") is None  # still buffered
    page = await ds.client.get("/-/secrets", actor=ROOT)
    assert "reader" in page.text
    await flush_usage(ds)
    assert (await usage_row(ds, "API_KEY"))["last_used_by"] == "reader"


@pytest.mark.asyncio
async def test_shutdown_writes_buffered_uses(on_disk):
    ds, path = on_disk
    await store_value(ds, "API_KEY", "value")
    await get_secret(ds, "API_KEY", actor_id="last-reader")
    await ds.invoke_shutdown()
    conn = sqlite3.connect(path)
    (used_by,) = conn.execute(
        "select last_used_by from datasette_secrets_usage where name = 'API_KEY'"
    ).fetchone()
    conn.close()
    assert used_by == "last-reader"


@pytest.mark.asyncio
async def test_usage_write_failure_is_logged_not_raised(on_disk, caplog):
    ds, path = on_disk
    await store_value(ds, "API_KEY", "value")
    await ds.get_internal_database().execute_write(
        "alter table datasette_secrets_usage rename column last_used_by to gone"
    )
    assert await get_secret(ds, "API_KEY", actor_id="reader") == "value"
    await flush_usage(ds)
    assert "could not record when secrets were used" in caplog.text


@pytest.mark.parametrize("value", ["plain", "", "ünïcödé ✓", "with=equals and spaces"])
def test_environment_reader_agrees_with_os_environ(value, monkeypatch):
    from datasette_secrets.core import read_environment

    monkeypatch.setenv("DATASETTE_SECRETS_READER_TEST", value)
    assert read_environment("DATASETTE_SECRETS_READER_TEST") == os.environ.get("DATASETTE_SECRETS_READER_TEST")
    monkeypatch.delenv("DATASETTE_SECRETS_READER_TEST")
    assert read_environment("DATASETTE_SECRETS_READER_TEST") is None
