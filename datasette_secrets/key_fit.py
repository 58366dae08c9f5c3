"""Whether the configured keys fit what is stored, and the stored versions by key.

``key_problem`` words the wrong-key warning the pages, the key panel and the
command line show (and the rules refuse changes by), ``count_by_key`` the
key panel's table and a rotation's counts. Reads only: re-encrypting is
``rotation``'s job.
"""

from . import store_keys, store_personal
from .crypto import LEGACY_KEY_NAME, SecretDecryptionError

# Legacy rows tried when only legacy rows could show that a configured key fits.
LEGACY_SAMPLE = 2
# Key ids the wrong-key message names one by one, at most.
SHOWN_KEY_IDS = 3


async def count_by_key(db):
    """{key id: stored versions}, deleted versions and actors' own values included.

    Every key id in the tables appears, ``default`` (legacy Fernet rows) and
    ids no configured key has among them.
    """
    counts = await store_keys.count_by_key(db)
    for key_id, count in (await store_personal.count_by_key(db)).items():
        counts[key_id] = counts.get(key_id, 0) + count
    return dict(sorted(counts.items()))


async def key_problem(state):
    """A message when the configured keys fit none of the stored versions, else None.

    A well-formed but wrong key would otherwise store new versions that the
    right key cannot read. None when nothing is stored, when no key is
    configured (that is reported elsewhere), when any stored version (deleted
    ones too) has the key id of a configured key (ids are derived from the
    key, so equal ids mean the key fits), or when one of the newest legacy
    0.2/0.3 rows decrypts with a configured key. The message names key ids,
    never keys. One query when a key fits, two for legacy rows; a third only
    to word the message. The answer is kept in the State until everything
    cached is forgotten (another writer changed stored values, or a key
    rotation ran), not at this process's own writes ("last used" included).
    """
    epoch = state.cache.epoch()
    if state.key_problem is not None and state.key_problem[0] == epoch:
        return state.key_problem[1]
    found = await _key_problem(state)
    # Kept until another process writes: this process's own writes use a configured key.
    state.key_problem = (epoch, found)
    return found


async def _key_problem(state):
    keyring = state.settings.keyring
    if keyring.primary is None:
        return None
    configured = [key.id for key in keyring.keys]
    fits, anything = await store_keys.key_fits(state.db, configured)
    if fits or not anything:
        return None
    for stored in await store_keys.newest_legacy(state.db, LEGACY_KEY_NAME, LEGACY_SAMPLE):
        if _legacy_decrypts(keyring, stored):
            return None
    return _wrong_key_message(await count_by_key(state.db), configured)


def _legacy_decrypts(keyring, stored):
    try:
        keyring.decrypt(stored.name, stored.version, stored.key_id, stored.encrypted)
    except (SecretDecryptionError, TypeError, ValueError):
        return False
    return True


def _wrong_key_message(counts, configured):
    ids = sorted((id for id in counts if id != LEGACY_KEY_NAME), key=lambda id: (-counts[id], str(id)))
    parts = [f"{counts[id]} under key id {id}" for id in ids[:SHOWN_KEY_IDS]]
    if rest := ids[SHOWN_KEY_IDS:]:
        parts.append(f"{sum(counts[id] for id in rest)} under {len(rest)} other key id{_s(len(rest))}")
    if LEGACY_KEY_NAME in counts:
        parts.append(f"{counts[LEGACY_KEY_NAME]} from datasette-secrets 0.2/0.3")
    total = sum(counts.values())
    return (
        f"The configured keys (key id{_s(len(configured))} {', '.join(configured)}) decrypt none "
        f"of the {total} stored version{_s(total)} ({', '.join(parts)}): probably the wrong key. "
        "A value stored with it could not be read with the right one. Configure the key they "
        "were stored with as encryption_key (or list it in previous_encryption_keys)."
    )


def _s(count):
    return "" if count == 1 else "s"
