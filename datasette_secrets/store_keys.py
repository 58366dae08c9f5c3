"""Storage for the keys: the SQL that counts stored versions by key, finds and
rewrites the versions a key rotation re-encrypts, tells whether a configured
key fits what is stored, and whether a secret has a version in the current
format (the cache's check for a planted old-format row).

A sibling of ``store`` (whose rows and audit statement it shares), for
``rotation`` and ``cache``; as there, each change is one transaction.
"""

import json

from .store import INSERT_AUDIT, stored_version

# Key rotation (rotation.py): re-encrypting stored versions under the current key.

# The audit row of a rotation names no one secret: it covers every stored version.
ALL_SECRETS = "*"

COUNT_BY_KEY = """
select encryption_key_name, count(*) from datasette_secrets
group by encryption_key_name order by encryption_key_name
"""

# A version needs rotating unless it is under the current key (:key_id) and in
# the format written now (its ciphertext starts with :prefix, crypto.WRITTEN):
# an unpadded row under the current key is re-padded too. Every version
# counts, deleted ones too.
NEEDS_ROTATION = "(encryption_key_name is not :key_id or substr(encrypted, 1, 1) is not :prefix)"

COUNT_TO_ROTATE = f"select count(*) from datasette_secrets where {NEEDS_ROTATION}"

# Walked in id order from :after, so a version that cannot be rotated is read once a run.
SELECT_TO_ROTATE = f"""
select id, name, version, note, encrypted, encryption_key_name from datasette_secrets
where id > :after and {NEEDS_ROTATION}
order by id limit :limit
"""

# Guarded: a version whose ciphertext or key changed since it was read is left
# alone (for the next run) rather than overwritten with what was read before.
REWRITE_VERSION = """
update datasette_secrets set encrypted = :new, encryption_key_name = :new_key_id
where id = :id and encrypted = :old and encryption_key_name = :old_key_id
"""

# Lower than any rowid, for the first batch.
FIRST_ID = -(2**63)


async def count_by_key(db):
    """{key id: number of stored versions}, deleted versions included."""
    return {key_id: count for key_id, count in (await db.execute(COUNT_BY_KEY)).rows}


async def count_to_rotate(db, key_id, prefix):
    """How many versions are not under key ``key_id`` in the format starting ``prefix``."""
    params = {"key_id": key_id, "prefix": prefix}
    return (await db.execute(COUNT_TO_ROTATE, params)).first()[0]


async def versions_to_rotate(db, key_id, prefix, after, limit):
    """Up to ``limit`` StoredVersions with ids above ``after`` that need rotating."""
    params = {"key_id": key_id, "prefix": prefix, "after": after, "limit": limit}
    return [stored_version(row) for row in (await db.execute(SELECT_TO_ROTATE, params)).rows]


async def rewrite_versions(db, rewrites):
    """Replace ciphertexts in one transaction; returns the ids NOT rewritten.

    ``rewrites`` are dicts with ``id``, ``old``, ``old_key_id``, ``new`` and
    ``new_key_id``. A row whose stored ciphertext or key id is no longer
    ``old``/``old_key_id`` (changed meanwhile, or gone) is left as it is.
    """

    def write(conn):
        return [r["id"] for r in rewrites if conn.execute(REWRITE_VERSION, r).rowcount == 0]

    return await db.execute_write_fn(write)


async def record_rotation(db, detail, actor_id):
    await db.execute_write(INSERT_AUDIT, [ALL_SECRETS, None, "rotate", detail, actor_id])


# --- Wrong-key check (key_fit.key_problem): does a configured key fit what is stored? ---

# (does any version, deleted ones too, have one of the key ids in the JSON list
# :key_ids; is anything stored at all): both stop at the first matching row. A
# personal row without ciphertext (a pruned deleted value's last) counts for neither.
KEY_FITS = """
select
    exists (
        select 1 from datasette_secrets
        where encryption_key_name in (select value from json_each(:key_ids))
    ) or exists (
        select 1 from datasette_secrets_personal
        where encrypted is not null and encryption_key_name in (select value from json_each(:key_ids))
    ),
    exists (select 1 from datasette_secrets)
    or exists (select 1 from datasette_secrets_personal where encrypted is not null)
"""

# The newest legacy Fernet rows: 0.2/0.3 wrote every row with the key configured
# then, so the newest are under the key an admin would configure now.
NEWEST_LEGACY = """
select id, name, version, note, encrypted, encryption_key_name from datasette_secrets
where encryption_key_name = :legacy order by id desc limit :limit
"""


async def key_fits(db, key_ids):
    """(whether any stored version has one of ``key_ids``, whether any version is stored)."""
    row = (await db.execute(KEY_FITS, {"key_ids": json.dumps(list(key_ids))})).first()
    return bool(row[0]), bool(row[1])


async def newest_legacy(db, legacy_key_id, limit):
    """Up to ``limit`` of the newest StoredVersions with the legacy key id."""
    params = {"legacy": legacy_key_id, "limit": limit}
    return [stored_version(row) for row in (await db.execute(NEWEST_LEGACY, params)).rows]


# --- end of the wrong-key check ---


# --- Tamper checks (cache.Cache): a planted old-format row on top of current-format ones ---

# Does any version of :name, deleted ones too, hold a current format (0x02 or
# 0x03, under a key id other than the legacy one)? Stops at the first such row.
HAS_VERSION_BOUND = """
select exists (
    select 1 from datasette_secrets
    where name = :name and encryption_key_name is not :legacy
      and substr(encrypted, 1, 1) in (:bound, :padded)
)
"""


async def has_version_bound(db, name, legacy_key_id, formats):
    """Whether any version of ``name`` is in a current format: its ciphertext
    starts with one of ``formats`` (crypto.CURRENT_FORMATS, unpadded and padded)."""
    bound, padded = formats
    params = {"name": name, "legacy": legacy_key_id, "bound": bound, "padded": padded}
    return bool((await db.execute(HAS_VERSION_BOUND, params)).first()[0])


# --- end of the tamper checks ---
