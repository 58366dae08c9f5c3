"""Storage: the SQL of shared secrets' versions, their use and the audit log
(the schema and its migrations are in migrations.py; ``migrate`` runs them).
The key checks' and key rotation's SQL is in store_keys.py, actors' own
values' in store_personal.py, except what both share: ``current`` and
``reveal`` read the live version of a shared value or, given an owner, of
that actor's own value, so the cache and the reveals treat both alike.

One row of ``datasette_secrets`` is one version of one secret. The current value
of a secret is its newest version that is not deleted; deleting a secret marks
every live version deleted, so nothing is ever removed. Each change is a single
transaction on Datasette's write connection. Timestamps are UTC, in SQLite's
``datetime('now')`` form, as the published plugin wrote them.

One row of ``datasette_secrets_usage`` is the last use of one name, whether its
value came from the environment variable (``version`` null) or was stored.
"""

import json
import sqlite3
from dataclasses import dataclass

from . import migrations

TABLE = "datasette_secrets"
# Every table of the plugin (the old runner's too, if made), closed to Datasette's table pages and write API.
TABLES = [
    TABLE, "datasette_secrets_audit", "datasette_secrets_usage", "datasette_secrets_personal",
    migrations.OLD_TABLE, migrations.SET_TABLE, "datasette_secrets_wrapped_keys", "datasette_secrets_generation",
]

# The generation (migrations.create_generation): (secrets, uses), bumped by
# triggers in every transaction that changes the plugin's tables, and the
# schema's version, which any change of a table or trigger moves (cache.py).
SELECT_GENERATION = """
select secrets, uses, (select schema_version from pragma_schema_version)
from datasette_secrets_generation where id = 1
"""
# The generation's triggers as SQLite keeps them, to compare with migrations.GENERATION_TRIGGERS.
SELECT_TRIGGERS = """
select name, sql from sqlite_master where type = 'trigger' and name glob 'datasette_secrets_generation_*'
"""

SUMMARY_COLUMNS = (
    "id, name, note, version, encrypted, encryption_key_name, created_at, created_by, "
    "updated_at, updated_by, deleted_at, deleted_by"
)

# One row per stored name: its newest live version, or when every version is
# deleted, its newest version (deleted_at then says it is deleted).
_SUMMARY = f"""
select {SUMMARY_COLUMNS} from (
    select *, row_number() over (
        partition by name order by deleted_at is null desc, version desc
    ) as rank
    from datasette_secrets {{where}}
)
where rank = 1
order by name
"""
SELECT_SUMMARIES = _SUMMARY.format(where="")
SELECT_SUMMARY = _SUMMARY.format(where="where name = ?")

SELECT_CURRENT = """
select id, name, version, note, encrypted, encryption_key_name, null as owner
from datasette_secrets
where name = ? and deleted_at is null
order by version desc limit 1
"""

# The same for an actor's own value (store_personal's table, which has no
# note): one read of a live version, so the cache vets both alike.
SELECT_OWN_CURRENT = """
select id, name, version, null as note, encrypted, encryption_key_name, actor_id as owner
from datasette_secrets_personal
where name = ? and actor_id = ? and deleted_at is null
order by version desc limit 1
"""

SELECT_VERSION = """
select id, name, version, note, encrypted, encryption_key_name
from datasette_secrets where name = ? and version = ?
"""

SELECT_HISTORY = f"""
select {SUMMARY_COLUMNS} from datasette_secrets where name = ? order by version desc
"""

NEXT_VERSION = "select coalesce(max(version), 0) + 1 from datasette_secrets where name = ?"

INSERT_VERSION = """
insert into datasette_secrets (
    name, note, version, encrypted, encryption_key_name,
    created_at, created_by, updated_at, updated_by
) values (?, ?, ?, ?, ?, datetime('now'), ?, datetime('now'), ?)
"""

UPDATE_NOTE = """
update datasette_secrets set note = ?, updated_at = datetime('now'), updated_by = ?
where id = ?
"""

# Never moves a name's last use back in time: another process sharing the
# file may write an older use after a newer one.
RECORD_USE = """
insert into datasette_secrets_usage (name, last_used_at, last_used_by, version)
values (?, ?, ?, ?)
on conflict (name) do update set
    last_used_at = excluded.last_used_at,
    last_used_by = excluded.last_used_by,
    version = excluded.version
where excluded.last_used_at >= datasette_secrets_usage.last_used_at
"""

SELECT_USES = "select name, last_used_at, last_used_by from datasette_secrets_usage"
SELECT_USE = "select last_used_at, last_used_by from datasette_secrets_usage where name = ?"

SOFT_DELETE = """
update datasette_secrets set deleted_at = datetime('now'), deleted_by = ?
where name = ? and deleted_at is null
"""

INSERT_AUDIT = """
insert into datasette_secrets_audit (name, version, action, detail, actor_id, created_at)
values (?, ?, ?, ?, ?, datetime('now'))
"""

# Newest first; each filter applies when given. :before is the keyset cursor.
SELECT_AUDIT = """
select id, name, version, action, detail, actor_id, created_at
from datasette_secrets_audit
where (:name is null or name = :name)
  and (:actor is null or actor_id = :actor)
  and (:action is null or action = :action)
  and (:before is null or id < :before)
  and (:within is null or name in (select value from json_each(:within)))
order by id desc
limit :limit
"""


class SecretStoreError(Exception):
    """The database holding the secrets refused a read or a write.

    Raised by ``get_secret`` when the table cannot be read (dropped, locked,
    the file gone); the message says what SQLite reported. Nothing is changed.
    """


def describe(error):
    """What an admin should read about a database error from the secrets store."""
    text = str(error)
    if "readonly" in text or "read-only" in text:
        return f"The database that holds the secrets is read-only ({text}), so nothing was changed."
    if "no such table" in text or "no such column" in text:
        return (
            f"The {TABLE} table is missing or damaged ({text}). Restart Datasette to "
            "create it again; nothing was changed."
        )
    return f"The database that holds the secrets refused this ({text}); nothing was changed."


def generation(conn):
    """The generation (secrets, uses, schema version) on a sqlite3 connection, or
    None when it cannot be read (no table or row: made by a migration, or removed)."""
    try:
        row = conn.execute(SELECT_GENERATION).fetchone()
    except sqlite3.Error:
        return None
    return None if row is None else tuple(row)


def generation_triggers(conn):
    """{name: sql} of the generation's triggers on a sqlite3 connection."""
    return dict(conn.execute(SELECT_TRIGGERS).fetchall())


async def migrate(db):
    """Create or upgrade the tables (see migrations.py), in one transaction. Existing rows are kept."""
    await db.execute_write_fn(migrations.apply)


@dataclass
class StoredVersion:
    """A stored version with its ciphertext, for decrypting: of the shared
    value (``owner`` None), or of ``owner``'s own value of a personal secret."""

    id: int
    name: str
    version: int
    note: str | None
    encrypted: bytes
    key_id: str
    owner: str | None = None


def stored_version(row):
    """The StoredVersion of a row of datasette_secrets (store_keys reads them too)."""
    return StoredVersion(
        id=row["id"],
        name=row["name"],
        version=row["version"],
        note=row["note"],
        encrypted=row["encrypted"],
        key_id=row["encryption_key_name"],
    )


async def summaries(db):
    """{name: row} for every stored name; see SELECT_SUMMARIES."""
    return {row["name"]: dict(row) for row in (await db.execute(SELECT_SUMMARIES)).rows}


async def summary(db, name):
    """The summary row of one name, or None if nothing was ever stored for it."""
    row = (await db.execute(SELECT_SUMMARY, [name])).first()
    return dict(row) if row else None


async def uses(db):
    """{name: (last_used_at, last_used_by)} for every name ever used."""
    return {name: (at, by) for name, at, by in (await db.execute(SELECT_USES)).rows}


async def use(db, name):
    """(last_used_at, last_used_by) of the last use of ``name``, or None if never used."""
    row = (await db.execute(SELECT_USE, [name])).first()
    return (row[0], row[1]) if row else None


def _current_query(name, owner):
    """The SQL and parameters reading the live version of ``name`` (``owner``'s own, or shared)."""
    return (SELECT_CURRENT, [name]) if owner is None else (SELECT_OWN_CURRENT, [name, owner])


async def current(db, name, owner=None):
    """The newest live version of ``name`` with its ciphertext, or None; with
    ``owner``, of that actor's own value of the personal secret ``name``."""
    row = (await db.execute(*_current_query(name, owner))).first()
    return StoredVersion(*row) if row else None


async def version(db, name, version_number):
    row = (await db.execute(SELECT_VERSION, [name, version_number])).first()
    return stored_version(row) if row else None


async def history(db, name):
    return [dict(row) for row in (await db.execute(SELECT_HISTORY, [name])).rows]


def _insert_version(conn, name, seal, note, actor_id, action, detail):
    number = conn.execute(NEXT_VERSION, [name]).fetchone()[0]
    key_id, blob = seal(number)
    conn.execute(INSERT_VERSION, [name, note, number, blob, key_id, actor_id, actor_id])
    conn.execute(INSERT_AUDIT, [name, number, action, detail, actor_id])
    return number


async def add_version(db, name, seal, note, actor_id, action="set", detail=None):
    """Store a new version of ``name``; returns its version number.

    ``seal(number)`` returns (key_id, ciphertext) for the version number this
    transaction picks, since the ciphertext is bound to it. ``detail`` goes
    into the audit row (for example "command line").
    """
    return await db.execute_write_fn(
        lambda conn: _insert_version(conn, name, seal, note, actor_id, action, detail)
    )


async def add_versions(db, versions, actor_id, action="set", detail=None):
    """Store a new version of several secrets in ONE transaction: all of them, or none.

    ``versions`` are (name, seal, note, expected) tuples, each written as
    ``add_version`` writes one. ``expected`` is the version number of the
    live version the caller decided against (None: nothing live). Returns
    ({name: new version number}, []), or when any secret's live version is
    no longer its expected one, ({}, [those names]) with nothing written.
    """

    def write(conn):
        moved = [
            name for name, _, _, expected in versions
            if getattr(_current(conn, name), "version", None) != expected
        ]
        if moved:
            return {}, moved
        return {
            name: _insert_version(conn, name, seal, note, actor_id, action, detail)
            for name, seal, note, _ in versions
        }, []

    return await db.execute_write_fn(write)


async def record_check(db, name, version, detail, actor_id):
    await db.execute_write(INSERT_AUDIT, [name, version, "check", detail, actor_id])


async def record_comparisons(db, compared, detail, actor_id):
    """Audit each (name, version) whose value an import compared with a pasted one."""
    await db.execute_write_many(
        INSERT_AUDIT, [(name, version, "compare", detail, actor_id) for name, version in compared]
    )


async def audit_log(db, name=None, actor=None, action=None, before=None, limit=50, within=None):
    """(rows, cursor): up to ``limit`` audit rows, newest first, and the ``before``
    cursor of the next (older) page, or None when there is none.
    ``within``: only rows of these names (None: every name)."""
    params = {"name": name, "actor": actor, "action": action, "before": before, "limit": limit + 1}
    params["within"] = None if within is None else json.dumps(sorted(within))
    rows = [dict(row) for row in (await db.execute(SELECT_AUDIT, params)).rows]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1]["id"] if more else None)


# What a change found when it looked inside its own transaction.
GONE = "gone"  # no live version any more (deleted meanwhile)
UNCHANGED = "unchanged"


def _current(conn, name, owner=None):
    row = conn.execute(*_current_query(name, owner)).fetchone()
    return None if row is None else StoredVersion(*row)


async def update_note(db, name, note, actor_id):
    """Change the note of the current version without making a new version.

    Decided inside the write transaction: returns the version changed,
    UNCHANGED when it already had this note, or GONE when nothing is live.
    """

    def write(conn):
        current = _current(conn, name)
        if current is None:
            return GONE
        if (current.note or "") == note:
            return UNCHANGED
        conn.execute(UPDATE_NOTE, [note, actor_id, current.id])
        conn.execute(INSERT_AUDIT, [name, current.version, "note", None, actor_id])
        return current.version

    return await db.execute_write_fn(write)


async def soft_delete(db, name, actor_id, detail=None):
    """Mark every live version deleted; returns how many were (0: already deleted)."""

    def write(conn):
        deleted = conn.execute(SOFT_DELETE, [actor_id, name]).rowcount
        if deleted:
            conn.execute(INSERT_AUDIT, [name, None, "delete", detail, actor_id])
        return deleted

    return await db.execute_write_fn(write)


async def record_uses(db, uses, also=None):
    """Write buffered uses, (name, last_used_at, last_used_by, version) each, in
    one transaction; ``version`` is None for a value read from the environment.
    ``also(conn)`` writes more in the same transaction (actors' own values' uses)."""

    def write(conn):
        conn.executemany(RECORD_USE, uses)
        if also is not None:
            also(conn)

    await db.execute_write_fn(write)


async def reveal(db, name, actor_id, decrypt, detail=None, owner=None):
    """The current version's value, ``decrypt(stored)``, with the reveal audited;
    with ``owner``, of that actor's own value (only the owner ever asks).

    In one write transaction, so a reveal racing a delete either sees the value
    (and is audited) or finds nothing (GONE); a value that fails to decrypt
    raises before anything is recorded.
    """
    action = "reveal" if owner is None else "personal-reveal"
    if owner is not None:
        detail = own_detail(owner, detail)

    def write(conn):
        current = _current(conn, name, owner)
        if current is None:
            return GONE
        value = decrypt(current)
        conn.execute(INSERT_AUDIT, [name, current.version, action, detail, actor_id])
        return current.version, value

    return await db.execute_write_fn(write)


def own_detail(owner, more=None):
    """An audit row's detail for an act on ``owner``'s own value: who, never what."""
    return f"own value of {owner}" + (f"; {more}" if more else "")
