"""Storage of personal values: the SQL about ``datasette_secrets_personal``.

One row is one version of one actor's own value of a personal secret (the
table is made by ``migrations.create_personal``). Its live version is read,
and revealed, by ``store.current`` and ``store.reveal`` given the owner,
beside the shared value's statement, so the cache vets both alike. As for
shared values, a delete marks rows deleted and removes nothing, each change is one
transaction with its audit row, and "last used" is written with the usage
buffer's once-a-second flush, never on a read.

Audit rows go in ``datasette_secrets_audit`` with actions ``personal-set``,
``personal-delete``, ``personal-reveal`` and ``personal-check``; their detail
names the owner (never a value, nor a test's result: an admin reading the
log learns only that an owner acted on their own value).

Unlike a shared value's, an own value's history is bounded, since every
signed-in actor may write here (``Limits``, numbers in ``personal.LIMITS``):
a save prunes its value's older versions and stores nothing when the site's
own values are full, and every own write prunes the versions of values deleted
long enough ago, keeping each value's newest row without its ciphertext.
"""

from dataclasses import dataclass

from . import store
from .store import INSERT_AUDIT, own_detail as _detail
from .store_keys import NEEDS_ROTATION

TABLE = "datasette_secrets_personal"

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


async def current(db, name, actor_id):
    """The newest live version of ``actor_id``'s own value of ``name`` (a
    store.StoredVersion), or None: read by ``store.current``, as a shared one is."""
    return await store.current(db, name, actor_id)


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


async def add_version(db, name, actor_id, seal, by, detail=None, *, limits):
    """Store a new version of ``actor_id``'s own value of ``name``; its number,
    or None when the site's own values are full (``limits``): nothing stored.

    ``seal(number)`` returns (key_id, ciphertext) for the number this
    transaction picks. ``by`` is who did it (the owner; an admin never sets
    someone else's value), ``detail`` more for the audit row. The same
    transaction prunes what ``limits`` says (``prune_deleted``, and this
    value's versions older than the newest ``limits.versions``).
    """

    def write(conn):
        number = conn.execute(NEXT_VERSION, [name, actor_id]).fetchone()[0]
        key_id, blob = seal(number)
        prune_deleted(conn, limits)  # committed even when the save is refused: it frees room
        older = {"name": name, "actor_id": actor_id, "number": number, "keep": limits.versions}
        if not _room(conn, older, len(blob), limits):
            return None
        conn.execute(PRUNE_OLDER, older)
        conn.execute(INSERT_VERSION, [name, actor_id, number, blob, key_id])
        conn.execute(INSERT_AUDIT, [name, number, "personal-set", _detail(actor_id, detail), by])
        return number

    return await db.execute_write_fn(write)


async def soft_delete(db, name, actor_id, by, detail=None, *, limits):
    """Mark every live version of ``actor_id``'s own value deleted; how many were.
    (The same transaction prunes values deleted long ago: ``prune_deleted``.)"""

    def write(conn):
        prune_deleted(conn, limits)
        deleted = conn.execute(SOFT_DELETE, [by, name, actor_id]).rowcount
        if deleted:
            conn.execute(INSERT_AUDIT, [name, None, "personal-delete", _detail(actor_id, detail), by])
        return deleted

    return await db.execute_write_fn(write)


async def record_check(db, name, version, actor_id):
    """Audit that the owner tested their own value (not how it went)."""
    await db.execute_write(INSERT_AUDIT, [name, version, "personal-check", _detail(actor_id), actor_id])


def record_uses(conn, uses):
    """Inside the usage flush's transaction: (name, actor id, last_used_at, version) each."""
    conn.executemany(RECORD_USE, [(at, name, actor_id, version) for name, actor_id, at, version in uses])


# --- Limits: every signed-in actor may write own values, so what is kept is bounded ---


@dataclass(frozen=True)
class Limits:
    """How much of the actors' own values is kept (``personal.LIMITS`` has the numbers)."""

    versions: int  # kept per own value, deleted ones included: a save prunes the older
    deleted_days: int  # a deleted value's versions are pruned this many days after its delete
    site_versions: int  # versions holding a ciphertext, every actor's and name's together
    site_bytes: int  # bytes of ciphertext, every actor's and name's together


# One value's versions at or below :number - :keep: what a save of version :number prunes.
OLDER = """
from datasette_secrets_personal
where name = :name and actor_id = :actor_id and version <= :number - :keep
"""
PRUNE_OLDER = "delete " + OLDER
SIZE_OLDER = "select count(encrypted), coalesce(sum(length(encrypted)), 0) " + OLDER

# What all own values hold (a pruned deleted value's last row holds no ciphertext).
SIZE_ALL = "select count(encrypted), coalesce(sum(length(encrypted)), 0) from datasette_secrets_personal"

# Worked out once a prune: datetime('now', ...) in a WHERE clause is computed row by row.
CUTOFF = "select datetime('now', :age)"

# Versions deleted before :cutoff go, except each value's newest row...
PRUNE_DELETED = """
delete from datasette_secrets_personal
where deleted_at < :cutoff and exists (
    select 1 from datasette_secrets_personal as newer
    where newer.name = datasette_secrets_personal.name
      and newer.actor_id = datasette_secrets_personal.actor_id
      and newer.version > datasette_secrets_personal.version
)
"""
# ...which keeps its number and dates, not its ciphertext: the value set again is
# numbered after it, so a process never sees an own value's number go down (the
# cache would refuse that as a rollback).
EMPTY_DELETED = """
update datasette_secrets_personal set encrypted = null
where deleted_at < :cutoff and encrypted is not null
"""


def prune_deleted(conn, limits):
    """In an own write's transaction: prune every value deleted more than
    ``limits.deleted_days`` ago down to its newest row, without its ciphertext."""
    cutoff = {"cutoff": conn.execute(CUTOFF, {"age": f"-{int(limits.deleted_days)} days"}).fetchone()[0]}
    conn.execute(PRUNE_DELETED, cutoff)
    conn.execute(EMPTY_DELETED, cutoff)


def _room(conn, older, size, limits):
    """Whether a new version of ``size`` bytes keeps all own values within
    ``limits``, once the versions it prunes (``older``, SIZE_OLDER's parameters) are gone."""
    count, total = conn.execute(SIZE_ALL).fetchone()
    pruned, freed = conn.execute(SIZE_OLDER, older).fetchone()
    return count - pruned + 1 <= limits.site_versions and total - freed + size <= limits.site_bytes


# Key rotation: personal rows are re-encrypted like shared ones (rotation.py). A
# pruned deleted value's last row holds no ciphertext: no key counts it, none rotates it.

COUNT_BY_KEY = """
select encryption_key_name, count(*) from datasette_secrets_personal
where encrypted is not null group by encryption_key_name
"""

COUNT_TO_ROTATE = f"select count(*) from datasette_secrets_personal where encrypted is not null and {NEEDS_ROTATION}"
SELECT_TO_ROTATE = f"""
select id, name, actor_id, version, encrypted, encryption_key_name from datasette_secrets_personal
where id > :after and encrypted is not null and {NEEDS_ROTATION}
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
