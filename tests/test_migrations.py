"""Every migration runs through one sqlite-utils set, once each.

Each test registers a temporary ``@migrations()`` function, as the next real
migration will be written, and starts Datasette on a database file.
The upgrades of databases made by the published 0.2/0.3, and by the hand-written
runner of earlier development versions, are in test_upgrade.py.
"""

import sqlite3

import pytest

from datasette_secrets import get_secret, migrations
from secret_helpers import store_value

SET = "datasette-secrets"
# The six steps the old hand-written runner recorded, first in the set, in its order.
OLD_RUNNER_STEPS = [
    "create_secrets", "add_missing_columns", "unique_name_version", "create_audit", "audit_index", "create_usage",
]
# The set's real migrations, in order, applied before any a test adds.
EXISTING = [(SET, migration.name) for migration in migrations.migrations._migrations]


def test_the_set_begins_with_the_old_runners_steps_in_their_order():
    assert [name for _, name in EXISTING[:7]] == OLD_RUNNER_STEPS + ["create_personal"]


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


def tables(path):
    return {name for (name,) in query(path, "select name from sqlite_master where type = 'table'")}


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
    # recorded in the plugin's own table: nothing of sqlite-utils' shared one in the admin's database,
    # and no table of the old hand-written runner
    assert "_sqlite_migrations" not in tables(path)
    assert migrations.OLD_TABLE not in tables(path)

    second = make_datasette(files=[path], settings={"database": "vault"})
    await second.invoke_startup()
    assert len(applied) == 1
    assert set_records(path) == EXISTING + [(SET, "add_rotated_by")]
    assert await get_secret(second, "API_KEY") == "kept"


@pytest.mark.asyncio
async def test_a_database_of_an_earlier_release_gets_only_the_new_migration(
    later, example_plugin, make_datasette, tmp_path
):
    path = str(tmp_path / "internal.db")
    earlier = make_datasette(internal=path)
    await earlier.invoke_startup()
    await store_value(earlier, "API_KEY", "from-before")
    records = query(path, f"select migration_set, name, applied_at from {migrations.SET_TABLE} order by id")

    applied = []

    @later()
    def add_rotated_by(db):
        applied.append(db)
        db["datasette_secrets"].add_column("rotated_by", str)

    upgraded = make_datasette(internal=path)
    await upgraded.invoke_startup()
    assert len(applied) == 1
    new_records = query(path, f"select migration_set, name, applied_at from {migrations.SET_TABLE} order by id")
    assert new_records[:-1] == records  # none of them ran again
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
    # one transaction: not even the migrations before it are kept
    assert not [name for name in tables(path) if name.startswith("datasette_secrets")]

    retried = make_datasette(internal=path)
    await retried.invoke_startup()
    assert columns(path)[-1] == "rotated_by"
    assert set_records(path) == EXISTING + [(SET, "add_rotated_by")]
    await store_value(retried, "API_KEY", "after-the-retry")
    assert await get_secret(retried, "API_KEY") == "after-the-retry"
