"""Migrations: creating the plugin's tables and upgrading them.

Two sets of migrations, applied in this order by ``apply`` (which
``store.migrate`` runs in ONE write transaction, so a failure anywhere leaves
the database as it was, and the next start tries again):

1. ``FROZEN``, the hand-written migrations of the releases before this one,
   each recorded by name in ``datasette_secrets_migrations`` (``FROZEN_TABLE``).
   Databases made or upgraded by those releases hold these records, so the
   list is frozen: its names, its order, its functions and the SQL and
   ``COLUMNS`` they use never change, and nothing is added to it. Being
   recorded where earlier releases recorded them, they never run twice, and a
   database made by the published 0.2/0.3 (no records at all) runs them all.

2. ``migrations``, a ``sqlite_utils.Migrations`` set named "datasette-secrets",
   for every migration from now on: a function decorated ``@migrations()``
   below the frozen list, taking a ``sqlite_utils.Database``, named once and
   never renamed (the name is the record). sqlite-utils records what it applied
   in a table of its own format (migration_set, name, applied_at); this set
   uses ``datasette_secrets_sqlite_migrations`` (``SET_TABLE``) rather than
   sqlite-utils' shared ``_sqlite_migrations``, which Datasette itself uses
   in its internal database (set "datasette_internal"). So every table of the
   plugin keeps the ``datasette_secrets_`` prefix: ``store.TABLES`` closes them
   all to Datasette's table pages and write API without hiding Datasette's or
   another tool's records, and nothing of the plugin is left in an admin's
   database but its prefixed tables.

The frozen records are not copied into the sqlite-utils table: two records of
one migration could disagree, and the old table stays what earlier releases
read. The tracking table is made at the first start of a release that has it,
and is empty until the first migration of the set. Every migration runs inside
the one transaction, so ``@migrations(transactional=False)`` (for ``VACUUM``)
cannot be used here.
"""

from sqlite_utils import Database, Migrations

FROZEN_TABLE = "datasette_secrets_migrations"
SET_TABLE = "datasette_secrets_sqlite_migrations"

# --- The frozen migrations and their SQL: never changed (see the docstring) ---

# The columns of datasette_secrets, with their types, in table order. Tables
# made by the published plugin have all of these (some also have "redacted",
# which is kept and ignored). last_used_at and last_used_by are the published
# plugin's per-version "last used": kept for what reads them, no longer written
# (datasette_secrets_usage holds each name's last use). A new column is a new
# migration of the set, never a new entry here.
COLUMNS = {
    "id": "integer primary key",
    "name": "text not null",
    "note": "text",
    "version": "integer not null default 1",
    "encrypted": "blob",
    "encryption_key_name": "text not null default 'default'",
    "created_at": "text",
    "created_by": "text",
    "updated_at": "text",
    "updated_by": "text",
    "deleted_at": "text",
    "deleted_by": "text",
    "last_used_at": "text",
    "last_used_by": "text",
}

CREATE_MIGRATIONS = """
create table if not exists datasette_secrets_migrations (
    name text primary key,
    applied_at text not null
)
"""

CREATE_SECRETS = "create table if not exists datasette_secrets (\n{}\n)".format(
    ",\n".join(f"    {column} {kind}" for column, kind in COLUMNS.items())
)

CREATE_AUDIT = """
create table if not exists datasette_secrets_audit (
    id integer primary key,
    name text not null,
    version integer,
    action text not null,
    detail text,
    actor_id text,
    created_at text not null
)
"""

CREATE_AUDIT_INDEX = """
create index if not exists datasette_secrets_audit_name on datasette_secrets_audit (name, id)
"""

# version: the stored version read, or null when the environment variable was.
CREATE_USAGE = """
create table if not exists datasette_secrets_usage (
    name text primary key,
    last_used_at text,
    last_used_by text,
    version integer
)
"""

# Each name's newest use recorded by earlier releases, which kept it per version.
COPY_VERSION_USES = """
insert or ignore into datasette_secrets_usage (name, last_used_at, last_used_by, version)
select name, last_used_at, last_used_by, version from (
    select name, last_used_at, last_used_by, version, row_number() over (
        partition by name order by last_used_at desc, version desc
    ) as rank
    from datasette_secrets where last_used_at is not null
)
where rank = 1
"""

DUPLICATE_VERSIONS = """
select 1 from datasette_secrets group by name, version having count(*) > 1 limit 1
"""

# Every secret's versions renumbered 1..n in (version, id) order: used only when an
# old table holds duplicate (name, version) pairs, so the unique index can be made.
RENUMBERED_VERSIONS = """
select id, row_number() over (partition by name order by version, id) as version
from datasette_secrets
"""
SET_VERSION = "update datasette_secrets set version = ? where id = ?"

CREATE_UNIQUE_VERSION = """
create unique index if not exists datasette_secrets_name_version
on datasette_secrets (name, version)
"""

APPLIED_MIGRATIONS = "select name from datasette_secrets_migrations"
RECORD_MIGRATION = (
    "insert into datasette_secrets_migrations (name, applied_at) values (?, datetime('now'))"
)


def _add_missing_columns(conn):
    existing = {row[1] for row in conn.execute("pragma table_info(datasette_secrets)")}
    for column, kind in COLUMNS.items():
        if column not in existing:
            # "not null" needs a default when adding a column to a table with rows
            kind = kind.replace("integer not null default 1", "integer default 1")
            conn.execute(f"alter table datasette_secrets add column {column} {kind}")


def _unique_versions(conn):
    if conn.execute(DUPLICATE_VERSIONS).fetchone():
        # Numbered before any update, so no row reads a number already changed.
        renumbered = conn.execute(RENUMBERED_VERSIONS).fetchall()
        conn.executemany(SET_VERSION, [(version, id) for id, version in renumbered])
    conn.execute(CREATE_UNIQUE_VERSION)


def _create_usage(conn):
    conn.execute(CREATE_USAGE)
    conn.execute(COPY_VERSION_USES)


# (name, function of a sqlite3 connection): applied in order, each once.
FROZEN = [
    ("create_secrets", lambda conn: conn.execute(CREATE_SECRETS)),
    ("add_missing_columns", _add_missing_columns),
    ("unique_name_version", _unique_versions),
    ("create_audit", lambda conn: conn.execute(CREATE_AUDIT)),
    ("audit_index", lambda conn: conn.execute(CREATE_AUDIT_INDEX)),
    ("create_usage", _create_usage),
]

# --- end of the frozen migrations ---


class SecretsMigrations(Migrations):
    """A sqlite-utils migration set recorded in the plugin's own tracking table."""

    migrations_table = SET_TABLE


migrations = SecretsMigrations("datasette-secrets")

# Every migration from now on goes here, in order, as:
#
#     @migrations()
#     def add_something(db):  # db: a sqlite_utils.Database, inside the transaction
#         db["datasette_secrets"].add_column("something", str)


# One row per version of one actor's own value of a personal secret; the same
# shape as datasette_secrets, plus the owner, and "last used" on the row.
CREATE_PERSONAL = """
create table if not exists datasette_secrets_personal (
    id integer primary key,
    name text not null,
    actor_id text not null,
    version integer not null,
    encrypted blob,
    encryption_key_name text not null,
    created_at text not null,
    deleted_at text,
    deleted_by text,
    last_used_at text,
    unique (name, actor_id, version)
)
"""


@migrations()
def create_personal(db):
    db.execute(CREATE_PERSONAL)


def apply(conn):
    """Apply every pending migration on ``conn``, the frozen list first, then the set.

    ``conn`` is Datasette's write connection inside its transaction (sqlite-utils
    nests each migration of the set in a savepoint), so nothing is committed here.
    """
    conn.execute(CREATE_MIGRATIONS)
    applied = {row[0] for row in conn.execute(APPLIED_MIGRATIONS)}
    for name, migration in FROZEN:
        if name not in applied:
            migration(conn)
            conn.execute(RECORD_MIGRATION, [name])
    # No PRAGMA and no sqlite-utils plugin hooks on Datasette's own connection.
    migrations.apply(Database(conn, recursive_triggers=False, execute_plugins=False))
