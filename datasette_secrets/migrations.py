"""Migrations: creating the plugin's tables and upgrading them.

One ``sqlite_utils.Migrations`` set named "datasette-secrets", which
``store.migrate`` applies in ONE write transaction (``apply``), so a failure
anywhere leaves the database as it was, and the next start tries again. Each
migration is a function decorated ``@migrations()``, taking a
``sqlite_utils.Database``, named once and never renamed (the name is the
record), in order; a new one goes at the end.

sqlite-utils records what it applied in a table of its own format
(migration_set, name, applied_at); this set uses
``datasette_secrets_sqlite_migrations`` (``SET_TABLE``) rather than
sqlite-utils' shared ``_sqlite_migrations``, which Datasette itself uses in
its internal database (set "datasette_internal"). So every table of the
plugin keeps the ``datasette_secrets_`` prefix: ``store.TABLES`` closes them
all to Datasette's table pages and write API without hiding Datasette's or
another tool's records.

The first six migrations were once run by a hand-written runner that recorded
them in ``datasette_secrets_migrations`` (``OLD_TABLE``). No published release
wrote that table, and each of the six is idempotent (``if not exists``, a
column added only when missing, versions renumbered only when duplicated, last
uses copied with ``insert or ignore``), so a database made by that runner
simply runs them again once under this set, whatever it had applied. Its old
table is left as it is, never read or written, and stays closed to Datasette's
table pages (it is in ``store.TABLES``). A database made by the published
0.2/0.3 has neither table and runs every migration. Every migration runs
inside the one transaction, so ``@migrations(transactional=False)`` (for
``VACUUM``) cannot be used here.
"""

from sqlite_utils import Database, Migrations

# The hand-written runner's records: never read or written now, kept closed.
OLD_TABLE = "datasette_secrets_migrations"
SET_TABLE = "datasette_secrets_sqlite_migrations"

# The columns of datasette_secrets, with their types, in table order. Tables
# made by the published plugin have all of these (some also have "redacted",
# which is kept and ignored). last_used_at and last_used_by are the published
# plugin's per-version "last used": kept for what reads them, no longer written
# (datasette_secrets_usage holds each name's last use). A new column is a new
# migration, never a new entry here: add_missing_columns is already recorded.
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


class SecretsMigrations(Migrations):
    """A sqlite-utils migration set recorded in the plugin's own tracking table."""

    migrations_table = SET_TABLE


migrations = SecretsMigrations("datasette-secrets")


@migrations()
def create_secrets(db):
    db.execute(CREATE_SECRETS)


@migrations()
def add_missing_columns(db):
    existing = {row[1] for row in db.execute("pragma table_info(datasette_secrets)")}
    for column, kind in COLUMNS.items():
        if column not in existing:
            # "not null" needs a default when adding a column to a table with rows
            kind = kind.replace("integer not null default 1", "integer default 1")
            db.execute(f"alter table datasette_secrets add column {column} {kind}")


@migrations()
def unique_name_version(db):
    if db.execute(DUPLICATE_VERSIONS).fetchone():
        # Numbered before any update, so no row reads a number already changed.
        renumbered = db.execute(RENUMBERED_VERSIONS).fetchall()
        db.conn.executemany(SET_VERSION, [(version, id) for id, version in renumbered])
    db.execute(CREATE_UNIQUE_VERSION)


@migrations()
def create_audit(db):
    db.execute(CREATE_AUDIT)


@migrations()
def audit_index(db):
    db.execute(CREATE_AUDIT_INDEX)


@migrations()
def create_usage(db):
    db.execute(CREATE_USAGE)
    db.execute(COPY_VERSION_USES)


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


# Releases before 0.4 kept a Test's message in its audit row ("failed: ..."),
# which could quote the value: keep whether it passed, nothing of what it said.
FORGET_CHECK_MESSAGES = """
update datasette_secrets_audit
set detail = case when detail like 'passed%' then 'passed' when detail like 'failed%' then 'failed' end
where action = 'check' and detail is not null and detail not in ('passed', 'failed')
"""


@migrations()
def forget_check_messages(db):
    db.execute(FORGET_CHECK_MESSAGES)


# The site's data keys, kept only wrapped by a key provider (store_wrapped.py,
# envelope.py): one row per data key, by its key id; ``current`` marks the one
# new values are encrypted with. ``wrapped`` is the provider's ciphertext as
# it returned it (text or bytes); ``provider_key`` and ``provider_version`` say
# which of the provider's keys wrapped it, for the key panel.
CREATE_WRAPPED_KEYS = """
create table if not exists datasette_secrets_wrapped_keys (
    key_id text primary key,
    wrapped blob not null,
    provider text not null,
    provider_key text,
    provider_version text,
    wrapped_at text not null,
    current integer not null default 0
)
"""


@migrations()
def create_wrapped_keys(db):
    db.execute(CREATE_WRAPPED_KEYS)


# The generation: two counters the cache reads to tell this process's own
# writes from anyone else's (cache.py). Triggers bump them in the transaction
# of every change to the plugin's tables, whoever makes it (this plugin, an
# older release, another process, SQL from another plugin): ``secrets`` for a
# stored value's rows (shared or own; an own value's "last used" excepted),
# ``uses`` for the shared values' "last used". One row, made here.
CREATE_GENERATION = """
create table if not exists datasette_secrets_generation (
    id integer primary key check (id = 1),
    secrets integer not null,
    uses integer not null
)
"""
INSERT_GENERATION = "insert or ignore into datasette_secrets_generation (id, secrets, uses) values (1, 0, 0)"

# Every column of datasette_secrets_personal but last_used_at, which the usage
# flush writes each second and nothing cached reads. A column added later that
# the cache reads needs a migration replacing the personal update trigger.
_PERSONAL_COLUMNS = "name, actor_id, version, encrypted, encryption_key_name, created_at, deleted_at, deleted_by"

# name -> its statement, exactly as SQLite keeps it in sqlite_master: the cache
# compares them to tell that none was dropped or replaced. Never changed: a
# new trigger is a new migration. A migration that rebuilds one of these
# tables (sqlite-utils' transform) drops its triggers, so it must create them again.
GENERATION_TRIGGERS = {}


def _trigger(name, event, table, counter, when=""):
    GENERATION_TRIGGERS[name] = (
        f"CREATE TRIGGER {name} AFTER {event} ON {table} {when}"
        f"BEGIN UPDATE datasette_secrets_generation SET {counter} = {counter} + 1; END"
    )


# A write of "last used" that changes nothing (the same second, by the same
# actor) is no change: SQLite then writes no page, and the commit costs nothing.
_USE_CHANGED = (
    "WHEN old.name IS NOT new.name OR old.last_used_at IS NOT new.last_used_at "
    "OR old.last_used_by IS NOT new.last_used_by OR old.version IS NOT new.version "
)

_trigger("datasette_secrets_generation_secrets_insert", "INSERT", "datasette_secrets", "secrets")
_trigger("datasette_secrets_generation_secrets_update", "UPDATE", "datasette_secrets", "secrets")
_trigger("datasette_secrets_generation_secrets_delete", "DELETE", "datasette_secrets", "secrets")
_trigger("datasette_secrets_generation_personal_insert", "INSERT", "datasette_secrets_personal", "secrets")
_trigger(
    "datasette_secrets_generation_personal_update", f"UPDATE OF {_PERSONAL_COLUMNS}",
    "datasette_secrets_personal", "secrets",
)
_trigger("datasette_secrets_generation_personal_delete", "DELETE", "datasette_secrets_personal", "secrets")
_trigger("datasette_secrets_generation_usage_insert", "INSERT", "datasette_secrets_usage", "uses")
_trigger("datasette_secrets_generation_usage_update", "UPDATE", "datasette_secrets_usage", "uses", _USE_CHANGED)
_trigger("datasette_secrets_generation_usage_delete", "DELETE", "datasette_secrets_usage", "uses")


@migrations()
def create_generation(db):
    db.execute(CREATE_GENERATION)
    db.execute(INSERT_GENERATION)
    for trigger in GENERATION_TRIGGERS.values():
        db.execute(trigger)


# Every migration from now on goes here, at the end, as:
#
#     @migrations()
#     def add_something(db):  # db: a sqlite_utils.Database, inside the transaction
#         db["datasette_secrets"].add_column("something", str)


def apply(conn):
    """Apply every pending migration of the set on ``conn``.

    ``conn`` is Datasette's write connection inside its transaction (sqlite-utils
    nests each migration in a savepoint), so nothing is committed here.
    """
    # No PRAGMA and no sqlite-utils plugin hooks on Datasette's own connection.
    migrations.apply(Database(conn, recursive_triggers=False, execute_plugins=False))
