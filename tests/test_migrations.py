"""Migrations after the frozen list run through sqlite-utils, once each.

Each test registers a temporary ``@migrations()`` function, as the next real
migration will be written, and starts Datasette on a database file.
The upgrades of databases made by the published 0.2/0.3 are in test_upgrade.py.
"""

import sqlite3

import pytest

from datasette_secrets import get_secret, migrations
from secret_helpers import store_value

SET = "datasette-secrets"
# The set's real migrations, applied before any a test adds.
EXISTING = [(SET, "create_personal")]


@pytest.fixture
def later(monkeypatch):
    """The plugin's migration set, with room for migrations that go when the test ends."""
    monkeypatch.setattr(migrations.migrations, "_migrations", list(migrations.migrations._migrations))
    return migrations.migrations


def query(path, sql):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def columns(path):
    return [row[1] for row in query(path, "pragma table_info(datasette_secrets)")]


def frozen_records(path):
    return query(path, f"select name, applied_at from {migrations.FROZEN_TABLE} order by name")


def set_records(path):
    return query(path, f"select migration_set, name from {migrations.SET_TABLE} order by id")


@pytest.mark.asyncio
async def test_a_new_migration_is_applied_once(later, example_plugin, make_datasette, tmp_path):
    path = str(tmp_path / "vault.db")
    sqlite3.connect(path).close()
    applied = []

    @later()
    def add_rotated_by(db):
        applied.append(db)
        db["datasette_secrets"].add_column("rotated_by", str)

    first = make_datasette(files=[path], settings={"database": "vault"})
    await first.invoke_startup()
    await store_value(first, "API_KEY", "kept")
    assert len(applied) == 1
    assert columns(path)[-1] == "rotated_by"
    assert set_records(path) == EXISTING + [(SET, "add_rotated_by")]
    # recorded in the plugin's own table: nothing of sqlite-utils' shared one in the admin's database
    assert not query(path, "select 1 from sqlite_master where name = '_sqlite_migrations'")
    frozen = frozen_records(path)
    assert [name for name, _ in frozen] == sorted(name for name, _ in migrations.FROZEN)

    second = make_datasette(files=[path], settings={"database": "vault"})
    await second.invoke_startup()
    assert len(applied) == 1
    assert set_records(path) == EXISTING + [(SET, "add_rotated_by")]
    assert frozen_records(path) == frozen
    assert await get_secret(second, "API_KEY") == "kept"


@pytest.mark.asyncio
async def test_a_database_of_an_earlier_release_gets_only_the_new_migration(
    later, example_plugin, make_datasette, tmp_path
):
    path = str(tmp_path / "internal.db")
    earlier = make_datasette(internal=path)
    await earlier.invoke_startup()
    await store_value(earlier, "API_KEY", "from-before")
    # As releases before sqlite-utils' Migrations left it: the frozen records only.
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(f"drop table {migrations.SET_TABLE}")
        conn.execute(f"update {migrations.FROZEN_TABLE} set applied_at = '2025-01-01 00:00:00'")
    conn.close()
    frozen = frozen_records(path)

    applied = []

    @later()
    def add_rotated_by(db):
        applied.append(db)
        db["datasette_secrets"].add_column("rotated_by", str)

    upgraded = make_datasette(internal=path)
    await upgraded.invoke_startup()
    assert len(applied) == 1
    assert frozen_records(path) == frozen  # none of them ran again
    assert set_records(path) == EXISTING + [(SET, "add_rotated_by")]
    assert await get_secret(upgraded, "API_KEY") == "from-before"


@pytest.mark.asyncio
async def test_a_failing_migration_changes_nothing_and_runs_at_the_next_start(
    later, example_plugin, make_datasette, tmp_path
):
    path = str(tmp_path / "internal.db")
    failures = ["the disk is full"]

    @later()
    def add_rotated_by(db):
        db["datasette_secrets"].add_column("rotated_by", str)
        if failures:
            raise RuntimeError(failures.pop())

    failed = make_datasette(internal=path)
    with pytest.raises(RuntimeError, match="the disk is full"):
        await failed.invoke_startup()
    # one transaction: not even the frozen migrations before it are kept
    tables = [name for (name,) in query(path, "select name from sqlite_master where type = 'table'")]
    assert not [name for name in tables if name.startswith("datasette_secrets")]

    retried = make_datasette(internal=path)
    await retried.invoke_startup()
    assert columns(path)[-1] == "rotated_by"
    assert set_records(path) == EXISTING + [(SET, "add_rotated_by")]
    await store_value(retried, "API_KEY", "after-the-retry")
    assert await get_secret(retried, "API_KEY") == "after-the-retry"
