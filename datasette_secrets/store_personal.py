"""Storage of personal values: every SQL statement about ``datasette_secrets_personal``.

One row is one version of one actor's own value of a personal secret (the
table is made by ``migrations.create_personal``). As for shared values, a
delete marks rows deleted and removes nothing, each change is one
transaction with its audit row, and "last used" is written with the usage
buffer's once-a-second flush, never on a read.

Audit rows go in ``datasette_secrets_audit`` with actions ``personal-set``,
``personal-delete``, ``personal-reveal`` and ``personal-check``; their detail
names the owner (never a value, nor a test's result: an admin reading the
log learns only that an owner acted on their own value).
"""

from dataclasses import dataclass

from .store import INSERT_AUDIT
from .store_keys import NEEDS_ROTATION

TABLE = "datasette_secrets_personal"

SELECT_CURRENT = """
select id, version, encrypted, encryption_key_name from datasette_secrets_personal
where name = ? and actor_id = ? and deleted_at is null
order by version desc limit 1
"""

SELECT_HISTORY = """
select version, encryption_key_name, created_at, deleted_at, deleted_by, last_used_at
from datasette_secrets_personal where name = ? and actor_id = ? order by version desc
"""

NEXT_VERSION = """
select coalesce(max(version), 0) + 1 from datasette_secrets_personal where name = ? and actor_id = ?
"""

INSERT_VERSION = """
insert into datasette_secrets_personal (name, actor_id, version, encrypted, encryption_key_name, created_at)
values (?, ?, ?, ?, ?, datetime('now'))
"""

SOFT_DELETE = """
update datasette_secrets_personal set deleted_at = datetime('now'), deleted_by = ?
where name = ? and actor_id = ? and deleted_at is null
"""

# Each (name, actor) with a live value: its newest live version.
SELECT_LIVE = """
select name, actor_id, max(version) as version, max(created_at) as created_at, max(last_used_at) as last_used_at
from datasette_secrets_personal where deleted_at is null {where}
group by name, actor_id order by name, actor_id
"""

RECORD_USE = """
update datasette_secrets_personal set last_used_at = ?
where name = ? and actor_id = ? and version = ?
"""


@dataclass
class OwnVersion:
    """One actor's newest live version of a personal secret, with its ciphertext."""

    id: int
    version: int
    encrypted: bytes
    key_id: str


async def current(db, name, actor_id):
    """The newest live version of ``actor_id``'s own value of ``name``, or None."""
    row = (await db.execute(SELECT_CURRENT, [name, actor_id])).first()
    return OwnVersion(*row) if row else None


async def history(db, name, actor_id):
    """Every version of ``actor_id``'s own value of ``name``, newest first (no ciphertexts)."""
    return [dict(row) for row in (await db.execute(SELECT_HISTORY, [name, actor_id])).rows]


async def owners(db):
    """{name: [actor ids with a live value of their own]} for every personal secret."""
    found = {}
    for row in (await db.execute(SELECT_LIVE.format(where=""))).rows:
        found.setdefault(row["name"], []).append(row["actor_id"])
    return found


async def mine(db, actor_id):
    """{name: row with version, created_at, last_used_at} of ``actor_id``'s live values."""
    rows = (await db.execute(SELECT_LIVE.format(where="and actor_id = ?"), [actor_id])).rows
    return {row["name"]: dict(row) for row in rows}


async def add_version(db, name, actor_id, seal, by, detail=None):
    """Store a new version of ``actor_id``'s own value of ``name``; its number.

    ``seal(number)`` returns (key_id, ciphertext) for the number this
    transaction picks. ``by`` is who did it (the owner; an admin never sets
    someone else's value), ``detail`` more for the audit row.
    """

    def write(conn):
        number = conn.execute(NEXT_VERSION, [name, actor_id]).fetchone()[0]
        key_id, blob = seal(number)
        conn.execute(INSERT_VERSION, [name, actor_id, number, blob, key_id])
        conn.execute(INSERT_AUDIT, [name, number, "personal-set", _detail(actor_id, detail), by])
        return number

    return await db.execute_write_fn(write)


async def soft_delete(db, name, actor_id, by, detail=None):
    """Mark every live version of ``actor_id``'s own value deleted; how many were."""

    def write(conn):
        deleted = conn.execute(SOFT_DELETE, [by, name, actor_id]).rowcount
        if deleted:
            conn.execute(INSERT_AUDIT, [name, None, "personal-delete", _detail(actor_id, detail), by])
        return deleted

    return await db.execute_write_fn(write)


async def reveal(db, name, actor_id, decrypt, detail=None):
    """(version, ``decrypt(stored)``) of the owner's current value, audited in the
    same transaction; None when there is none. Only the owner ever asks."""

    def write(conn):
        row = conn.execute(SELECT_CURRENT, [name, actor_id]).fetchone()
        if row is None:
            return None
        stored = OwnVersion(*row)
        value = decrypt(stored)
        conn.execute(INSERT_AUDIT, [name, stored.version, "personal-reveal", _detail(actor_id, detail), actor_id])
        return stored.version, value

    return await db.execute_write_fn(write)


async def record_check(db, name, version, actor_id):
    """Audit that the owner tested their own value (not how it went)."""
    await db.execute_write(INSERT_AUDIT, [name, version, "personal-check", _detail(actor_id), actor_id])


def record_uses(conn, uses):
    """Inside the usage flush's transaction: (name, actor id, last_used_at, version) each."""
    conn.executemany(RECORD_USE, [(at, name, actor_id, version) for name, actor_id, at, version in uses])


def _detail(owner, more=None):
    return f"own value of {owner}" + (f"; {more}" if more else "")


# Key rotation: personal rows are re-encrypted like shared ones (rotation.py).

COUNT_BY_KEY = "select encryption_key_name, count(*) from datasette_secrets_personal group by encryption_key_name"

COUNT_TO_ROTATE = f"select count(*) from datasette_secrets_personal where {NEEDS_ROTATION}"
SELECT_TO_ROTATE = f"""
select id, name, actor_id, version, encrypted, encryption_key_name from datasette_secrets_personal
where id > :after and {NEEDS_ROTATION}
order by id limit :limit
"""
REWRITE_VERSION = """
update datasette_secrets_personal set encrypted = :new, encryption_key_name = :new_key_id
where id = :id and encrypted = :old and encryption_key_name = :old_key_id
"""


@dataclass
class PersonalVersion:
    """A personal row to re-encrypt (``owner`` goes into its associated data)."""

    id: int
    name: str
    owner: str
    version: int
    encrypted: bytes
    key_id: str


async def count_by_key(db):
    return {key_id: count for key_id, count in (await db.execute(COUNT_BY_KEY)).rows}


async def count_to_rotate(db, key_id, prefix):
    return (await db.execute(COUNT_TO_ROTATE, {"key_id": key_id, "prefix": prefix})).first()[0]


async def versions_to_rotate(db, key_id, prefix, after, limit):
    params = {"key_id": key_id, "prefix": prefix, "after": after, "limit": limit}
    return [PersonalVersion(*row) for row in (await db.execute(SELECT_TO_ROTATE, params)).rows]


async def rewrite_versions(db, rewrites):
    """As store_keys.rewrite_versions, for personal rows: the ids NOT rewritten."""

    def write(conn):
        return [r["id"] for r in rewrites if conn.execute(REWRITE_VERSION, r).rowcount == 0]

    return await db.execute_write_fn(write)
