"""Storage for the wrapped data keys (``datasette_secrets_wrapped_keys``): the
site's data keys as a key provider wrapped them, never in the clear.

A sibling of ``store`` (whose audit statement it shares), for ``envelope``;
each change is one transaction, with its audit row (name ``*``: it concerns
every stored value).
"""

from dataclasses import dataclass

from .store import INSERT_AUDIT
from .store_keys import ALL_SECRETS

COLUMNS = "key_id, wrapped, provider, provider_key, provider_version, wrapped_at, current"

# The current key first, then the newest wrapped.
SELECT_ALL = f"""
select {COLUMNS} from datasette_secrets_wrapped_keys
order by current desc, wrapped_at desc, key_id
"""

# The first data key, only if there is none yet: replicas starting together
# for the first time each try, and the first transaction wins.
INSERT_FIRST = f"""
insert into datasette_secrets_wrapped_keys ({COLUMNS})
select :key_id, :wrapped, :provider, :provider_key, :provider_version, datetime('now'), 1
where not exists (select 1 from datasette_secrets_wrapped_keys)
"""

INSERT_KEY = f"""
insert or ignore into datasette_secrets_wrapped_keys ({COLUMNS})
values (:key_id, :wrapped, :provider, :provider_key, :provider_version, datetime('now'), 0)
"""

MAKE_CURRENT = "update datasette_secrets_wrapped_keys set current = (key_id = :key_id)"

# Guarded: a key rewrapped meanwhile by another process is left as it is.
REWRAP = """
update datasette_secrets_wrapped_keys
set wrapped = :new, provider_version = :provider_version, wrapped_at = datetime('now')
where key_id = :key_id and wrapped = :old
"""


@dataclass(frozen=True)
class WrappedKey:
    """One data key as stored: its id, the provider's wrapped form, and which
    provider key (and version) wrapped it when."""

    key_id: str
    wrapped: object  # bytes or str, as the provider returned it
    provider: str
    provider_key: str | None
    provider_version: str | None
    wrapped_at: str
    current: bool


def _wrapped_key(row):
    return WrappedKey(row[0], row[1], row[2], row[3], row[4], row[5], bool(row[6]))


async def wrapped_keys(db):
    """Every stored WrappedKey, the current one first."""
    return [_wrapped_key(row) for row in (await db.execute(SELECT_ALL)).rows]


async def add_first(db, row):
    """Store ``row`` (a dict of the columns but the time and current) as the
    current data key if no data key is stored yet, in ONE transaction; then
    every stored WrappedKey, read in that transaction: whichever process
    stored first, all of them read the same one."""

    def write(conn):
        if conn.execute(INSERT_FIRST, row).rowcount:
            conn.execute(INSERT_AUDIT, [ALL_SECRETS, None, "new-data-key", f"made data key {row['key_id']}", None])
        return [_wrapped_key(found) for found in conn.execute(SELECT_ALL).fetchall()]

    return await db.execute_write_fn(write)


async def add(db, row, current, action, detail, actor_id=None):
    """Store ``row`` unless its key id is stored already, and with ``current``
    make it the current key; one transaction with its audit row. Returns
    whether a row was added."""

    def write(conn):
        added = conn.execute(INSERT_KEY, row).rowcount > 0
        if current:
            conn.execute(MAKE_CURRENT, {"key_id": row["key_id"]})
        conn.execute(INSERT_AUDIT, [ALL_SECRETS, None, action, detail, actor_id])
        return added

    return await db.execute_write_fn(write)


async def rewrap(db, rewraps, detail):
    """Replace wrapped forms (dicts of key_id, old, new, provider_version) in
    one transaction with one audit row; returns the key ids NOT replaced
    (changed meanwhile)."""

    def write(conn):
        left = [r["key_id"] for r in rewraps if conn.execute(REWRAP, r).rowcount == 0]
        conn.execute(INSERT_AUDIT, [ALL_SECRETS, None, "rewrap-key", detail, None])
        return left

    return await db.execute_write_fn(write)


async def record(db, action, detail):
    """An audit row about the data keys (e.g. one written to a file)."""
    await db.execute_write(INSERT_AUDIT, [ALL_SECRETS, None, action, detail, None])
