"""Tables made by the published datasette-secrets 0.2 / 0.3a0 are upgraded in place.

Each test builds the old table with plain SQL and Fernet tokens made with
``cryptography`` (as the published plugin did), then starts Datasette. A
database made by the hand-written migration runner of earlier development
versions (its own table, datasette_secrets_migrations) keeps working too.
"""

import sqlite3

import pytest
from cryptography.fernet import Fernet
from datasette.resources import TableResource
from sqlite_utils import Database

from datasette_secrets import flush_usage, get_secret, migrations
from secret_helpers import LEGACY_ROWS, ROOT, SCHEMA_0_2, build_legacy_db, parse, row_of, secret_rows, store_value


SCHEMA_0_3A0 = SCHEMA_0_2.replace("    redacted text,\n", "")
SCHEMAS = {"0.2": SCHEMA_0_2, "0.3a0": SCHEMA_0_3A0}

# newest live value per registered name
EXPECTED = {"API_KEY": "api-three", "OTHER_KEY": "other-one", "ENV_KEY": None}

# Every migration of the set, in order, each recorded once.
ALL_MIGRATIONS = [("datasette-secrets", migration.name) for migration in migrations.migrations._migrations]
SET_RECORDS_WITH_TIMES = f"select migration_set, name, applied_at from {migrations.SET_TABLE} order by id"


def set_records(conn):
    """The set's records, (set, name), in the order of the set's migrations."""
    order = [name for _, name in ALL_MIGRATIONS]
    rows = conn.execute(f"select migration_set, name from {migrations.SET_TABLE}").fetchall()
    return sorted(rows, key=lambda row: order.index(row[1]) if row[1] in order else len(order))


def unique_indexes(conn):
    found = []
    for index in conn.execute("pragma index_list('datasette_secrets')").fetchall():
        name, unique = index[1], index[2]
        if unique:
            found.append([info[2] for info in conn.execute(f"pragma index_info('{name}')")])
    return found


def assert_rows_kept(rows, key, legacy):
    """Every legacy row is still there, with its ciphertext and value."""
    assert len(rows) == len(legacy)
    fernet = Fernet(key)
    for row, (name, _version, value, deleted) in zip(rows, legacy):
        assert row["name"] == name
        assert fernet.decrypt(bytes(row["encrypted"])).decode() == value
        assert row["note"] == f"note for {value}"
        assert row["encryption_key_name"] == "default"
        assert row["created_by"] == "legacy-admin"
        assert bool(row["deleted_at"]) == deleted


@pytest.mark.asyncio
@pytest.mark.parametrize("schema", SCHEMAS.values(), ids=SCHEMAS.keys())
async def test_internal_database_is_upgraded(schema, example_plugin, make_datasette, key, tmp_path):
    path = str(tmp_path / "internal.db")
    build_legacy_db(path, key, LEGACY_ROWS, schema)
    ds = make_datasette(key=key, internal=path)
    await ds.invoke_startup()

    assert_rows_kept(await secret_rows(ds), key, LEGACY_ROWS)
    for name, value in EXPECTED.items():
        assert await get_secret(ds, name) == value

    conn = sqlite3.connect(path)
    assert ["name", "version"] in unique_indexes(conn)
    assert set_records(conn) == ALL_MIGRATIONS
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "insert into datasette_secrets (name, version, encryption_key_name) values ('API_KEY', 3, 'x')"
        )
    conn.close()


@pytest.mark.asyncio
async def test_upgraded_secrets_work_in_the_admin_ui(example_plugin, make_datasette, key, tmp_path):
    path = str(tmp_path / "internal.db")
    build_legacy_db(path, key, LEGACY_ROWS)
    ds = make_datasette(key=key, internal=path)

    page = parse(await ds.client.get("/-/secrets", actor=ROOT))
    api = row_of(page, "API_KEY")
    assert api.select_one(".secret-version").get_text(strip=True) == "3"
    assert api.select_one(".secret-note").get_text(strip=True) == "note for api-three"
    assert api.select_one(".secret-mask") is not None
    assert api.select_one(".secret-field-error") is None
    # the orphan from an uninstalled plugin is listed
    assert "RETIRED_PLUGIN_KEY" in [code.get_text() for code in page.select("th.secret-name code")]

    history = parse(await ds.client.get("/-/secrets/API_KEY/history", actor=ROOT))
    versions = [tr.th.get_text(" ", strip=True) for tr in history.select("table.secret-versions > tbody > tr")]
    assert versions == ["3 current", "2", "1"]

    # a new version follows the old numbering and uses the new format
    await store_value(ds, "API_KEY", "api-four")
    newest = (await secret_rows(ds, "API_KEY"))[-1]
    assert newest["version"] == 4
    assert newest["encryption_key_name"] != "default"
    assert await get_secret(ds, "API_KEY") == "api-four"

    # rolling back to a legacy version re-encrypts its value
    response = await ds.client.post("/-/secrets/API_KEY/restore", data={"version": "1"}, actor=ROOT)
    assert response.status_code == 302
    newest = (await secret_rows(ds, "API_KEY"))[-1]
    assert newest["version"] == 5
    assert newest["encryption_key_name"] != "default"
    assert await get_secret(ds, "API_KEY") == "api-one"


DUPLICATES = {
    "two at version 1": [
        ("API_KEY", 1, "a", False),
        ("API_KEY", 1, "b", False),
        ("API_KEY", 2, "c", False),
    ],
    "three at version 1": [
        ("API_KEY", 1, "a", False),
        ("API_KEY", 1, "b", False),
        ("API_KEY", 1, "c", False),
        ("API_KEY", 2, "d", False),
    ],
    "tie at the newest version": [
        ("API_KEY", 1, "a", False),
        ("API_KEY", 2, "b", False),
        ("API_KEY", 2, "c", False),
    ],
    "out of id order": [
        ("API_KEY", 2, "b", False),
        ("API_KEY", 1, "a", False),
        ("API_KEY", 1, "a-again", False),
        ("API_KEY", 2, "c", False),
    ],
    "several names": [
        ("API_KEY", 1, "a", False),
        ("OTHER_KEY", 1, "x", False),
        ("API_KEY", 1, "b", False),
        ("OTHER_KEY", 1, "y", False),
        ("OTHER_KEY", 1, "z", False),
        ("API_KEY", 1, "c", False),
    ],
}


@pytest.mark.asyncio
@pytest.mark.parametrize("rows", DUPLICATES.values(), ids=DUPLICATES.keys())
async def test_duplicate_versions_are_upgraded_without_loss(rows, example_plugin, make_datasette, key, tmp_path):
    path = str(tmp_path / "internal.db")
    build_legacy_db(path, key, rows)
    ds = make_datasette(key=key, internal=path)
    await ds.invoke_startup()

    stored = await secret_rows(ds)
    assert_rows_kept(stored, key, rows)
    pairs = [(row["name"], row["version"]) for row in stored]
    assert len(set(pairs)) == len(pairs), f"duplicate versions remain: {pairs}"

    # the newest value of each name: highest version, later row on a tie
    newest = {}
    for name, version, value, _ in sorted(rows, key=lambda r: r[1]):
        newest[name] = value
    for name, value in newest.items():
        assert await get_secret(ds, name) == value
    # and within each name, versions keep the old order
    for name in newest:
        by_version = sorted((r for r in stored if r["name"] == name), key=lambda r: r["version"])
        expected_order = [v for n, _, v, _ in sorted(
            ((n, ver, val, i) for i, (n, ver, val, _) in enumerate(rows) if n == name),
            key=lambda r: (r[1], r[3]),
        )]
        fernet = Fernet(key)
        assert [fernet.decrypt(bytes(r["encrypted"])).decode() for r in by_version] == expected_order


@pytest.mark.asyncio
async def test_upgrade_of_a_configured_database(example_plugin, make_datasette, key, tmp_path):
    path = str(tmp_path / "secrets_store.db")
    build_legacy_db(path, key, LEGACY_ROWS)
    ds = make_datasette(key=key, files=[path], settings={"database": "secrets_store"})
    await ds.invoke_startup()
    assert_rows_kept(await secret_rows(ds, database="secrets_store"), key, LEGACY_ROWS)
    for name, value in EXPECTED.items():
        assert await get_secret(ds, name) == value
    conn = sqlite3.connect(path)
    assert ["name", "version"] in unique_indexes(conn)
    conn.close()


@pytest.mark.asyncio
async def test_migrations_run_once(example_plugin, make_datasette, key, tmp_path):
    path = str(tmp_path / "internal.db")
    build_legacy_db(path, key, LEGACY_ROWS)
    first = make_datasette(key=key, internal=path)
    await first.invoke_startup()
    await store_value(first, "API_KEY", "api-four")
    conn = sqlite3.connect(path)
    applied = conn.execute(SET_RECORDS_WITH_TIMES).fetchall()
    conn.close()

    second = make_datasette(key=key, internal=path)
    await second.invoke_startup()
    conn = sqlite3.connect(path)
    assert conn.execute(SET_RECORDS_WITH_TIMES).fetchall() == applied
    assert set_records(conn) == ALL_MIGRATIONS
    conn.close()
    assert len(await secret_rows(second)) == len(LEGACY_ROWS) + 1
    assert await get_secret(second, "API_KEY") == "api-four"


@pytest.mark.asyncio
async def test_fresh_install_creates_the_tables(ds):
    db = ds.get_internal_database()
    tables = set(await db.table_names())
    assert {
        "datasette_secrets", "datasette_secrets_audit", "datasette_secrets_usage", "datasette_secrets_sqlite_migrations",
    } <= tables
    assert migrations.OLD_TABLE not in tables  # the old runner's table is no longer made
    columns = set(await db.table_columns("datasette_secrets"))
    assert {
        "id", "name", "note", "version", "encrypted", "encryption_key_name", "created_at", "created_by",
        "updated_at", "updated_by", "deleted_at", "deleted_by", "last_used_at", "last_used_by",
    } <= columns
    audit_columns = set(await db.table_columns("datasette_secrets_audit"))
    assert {"id", "name", "version", "action", "detail", "actor_id", "created_at"} <= audit_columns
    names = [row[0] for row in (await db.execute(f"select name from {migrations.SET_TABLE} order by id")).rows]
    assert names == [name for _, name in ALL_MIGRATIONS]


@pytest.mark.asyncio
async def test_last_uses_are_kept_per_name(example_plugin, make_datasette, key, tmp_path):
    """0.3-era tables kept "last used" per version; each name keeps its newest."""
    path = str(tmp_path / "internal.db")
    build_legacy_db(path, key, LEGACY_ROWS, SCHEMA_0_3A0)
    conn = sqlite3.connect(path)
    conn.executemany(
        "update datasette_secrets set last_used_at = ?, last_used_by = ? where name = ? and version = ?",
        [
            ("2024-03-05 10:00:00", "newest-reader", "API_KEY", 2),
            ("2024-03-01 10:00:00", "older-reader", "API_KEY", 1),
            ("2024-03-02 10:00:00", None, "OTHER_KEY", 2),  # the version deleted since
            ("2024-03-03 10:00:00", "retired", "RETIRED_PLUGIN_KEY", 1),
        ],
    )
    conn.commit()
    conn.close()
    ds = make_datasette(key=key, internal=path)
    await ds.invoke_startup()

    db = ds.get_internal_database()
    usage = [tuple(row) for row in (await db.execute(
        "select name, last_used_at, last_used_by, version from datasette_secrets_usage order by name"
    )).rows]
    assert usage == [
        ("API_KEY", "2024-03-05 10:00:00", "newest-reader", 2),
        ("OTHER_KEY", "2024-03-02 10:00:00", None, 2),
        ("RETIRED_PLUGIN_KEY", "2024-03-03 10:00:00", "retired", 1),
    ]
    # the list shows them, although version 3 of API_KEY was never used itself
    page = parse(await ds.client.get("/-/secrets", actor=ROOT))
    assert "newest-reader" in row_of(page, "API_KEY").get_text()
    # and a use now replaces the copied one
    assert await get_secret(ds, "API_KEY", actor_id="new-reader") == "api-three"
    await flush_usage(ds)
    assert tuple((await db.execute(
        "select last_used_by, version from datasette_secrets_usage where name = 'API_KEY'"
    )).first()) == ("new-reader", 3)


OLD_RUNNER_STEPS = [
    "create_secrets", "add_missing_columns", "unique_name_version", "create_audit", "audit_index", "create_usage",
]
CREATE_OLD_TABLE = f"create table {migrations.OLD_TABLE} (name text primary key, applied_at text not null)"


def build_runner_db(path, key, steps, personal):
    """A database as the old hand-written runner left it: a 0.3a0 table, then ``steps``
    applied and recorded in the runner's own table, and create_personal applied by
    the sqlite-utils set too when ``personal`` (the release before one set)."""
    build_legacy_db(path, key, LEGACY_ROWS, SCHEMA_0_3A0)
    conn = sqlite3.connect(path)
    conn.execute(
        "update datasette_secrets set last_used_at = '2024-03-05 10:00:00', last_used_by = 'reader' "
        "where name = 'API_KEY' and version = 3"
    )
    db = Database(conn, execute_plugins=False)
    conn.execute(CREATE_OLD_TABLE)
    for step in steps:
        getattr(migrations, step)(db)
        conn.execute(f"insert into {migrations.OLD_TABLE} values (?, '2025-01-01 00:00:00')", [step])
    if personal:
        earlier = migrations.SecretsMigrations("datasette-secrets")
        earlier()(migrations.create_personal)
        earlier.apply(db)
    conn.commit()
    conn.close()


RUNNER_DATABASES = {
    "the release before one set": (OLD_RUNNER_STEPS, True),
    "before sqlite-utils": (OLD_RUNNER_STEPS, False),
    "before the usage table": (OLD_RUNNER_STEPS[:5], False),
}


@pytest.mark.asyncio
@pytest.mark.parametrize("steps, personal", RUNNER_DATABASES.values(), ids=RUNNER_DATABASES.keys())
async def test_a_database_made_by_the_old_runner_keeps_working(
    steps, personal, example_plugin, make_datasette, key, tmp_path
):
    path = str(tmp_path / "vault.db")
    build_runner_db(path, key, steps, personal)
    conn = sqlite3.connect(path)
    old_records = conn.execute(f"select * from {migrations.OLD_TABLE} order by name").fetchall()
    conn.close()
    ds = make_datasette(key=key, files=[path], settings={"database": "vault"})
    ds.root_enabled = True
    await ds.invoke_startup()

    assert_rows_kept(await secret_rows(ds, database="vault"), key, LEGACY_ROWS)
    for name, value in EXPECTED.items():
        assert await get_secret(ds, name) == value
    conn = sqlite3.connect(path)
    # every migration recorded once in the set; the old table left exactly as it was
    assert set_records(conn) == ALL_MIGRATIONS
    assert conn.execute(f"select * from {migrations.OLD_TABLE} order by name").fetchall() == old_records
    assert ["name", "version"] in unique_indexes(conn)
    # the last use the old per-version column held is each name's, copied once
    assert conn.execute("select name, last_used_at, last_used_by, version from datasette_secrets_usage").fetchall() == [
        ("API_KEY", "2024-03-05 10:00:00", "reader", 3)
    ]
    conn.close()

    # the old table stays closed to Datasette's table pages and write API
    for url in (f"/vault/{migrations.OLD_TABLE}", f"/vault/{migrations.OLD_TABLE}.json"):
        assert (await ds.client.get(url, actor=ROOT)).status_code == 403, url
    resource = TableResource("vault", migrations.OLD_TABLE)
    for action in ("view-table", "insert-row", "delete-row", "drop-table"):
        assert not await ds.allowed(action=action, resource=resource, actor=ROOT), action

    # and the secrets keep working after a second start
    await store_value(ds, "API_KEY", "api-four")
    again = make_datasette(key=key, files=[path], settings={"database": "vault"})
    await again.invoke_startup()
    assert await get_secret(again, "API_KEY") == "api-four"
    conn = sqlite3.connect(path)
    assert set_records(conn) == ALL_MIGRATIONS
    conn.close()
