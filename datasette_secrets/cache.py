"""What is stored, as last read: the ciphertext ``get_secret`` decrypts, and the
rows the list page shows, with the watch that says when to forget them.

Caching rules, each chosen so a cached answer is never wrong for long:

- Ciphertext is cached, never plaintext: each ``get_secret`` decrypts again
  (about a microsecond), so no decrypted value outlives the call that asked
  for it, and a leaked cache holds nothing readable without the key.
- Every change made through this plugin forgets the changed secret before the
  change returns, so the same process serves the new value at once.
- Another process writing to the same database file is noticed with
  ``PRAGMA data_version``, checked at most once a second on the next read,
  which then forgets everything cached.

``Cache`` holds shared values and actors' own values of personal secrets
alike, by (name, owner); ``tamper`` vets each live version it loads (a
rollback, a planted old-format row). The ``State`` of each instance holds one.
"""

import asyncio
import logging
import sqlite3
import time
from urllib.parse import quote

from . import store, store_keys
from .crypto import CURRENT_FORMATS, LEGACY_KEY_NAME, SecretTamperedError
from .tamper import Tamper

log = logging.getLogger("datasette_secrets")

CHECK_EVERY = 1.0  # seconds between looks at another process's writes
UNKNOWN = object()  # not cached yet (None is cached too: "nothing stored")


class Cache:
    """What is stored, as last read: the newest live version (ciphertext only)
    of each shared value, by (name, None), and of each actor's own value of a
    personal secret, by (name, owner), for ``get_secret``; and the summary row
    of every stored name and the last use of every used name, for the list page.

    Shared and own values are one code path, the owner a parameter: both are
    read, cached, forgotten and vetted alike. Each live version loaded is
    vetted by ``tamper`` (a rollback, a planted row): a refused one is cached
    as a Current whose ``open`` raises.
    """

    def __init__(self, db_ref, keyring, watch):
        self._db = db_ref
        self._keyring = keyring
        self._watch = watch
        self._cache = {}  # (name, owner) -> Current, or None for "nothing stored"
        self._loading = {}
        self._summaries = None
        # Bumped by every forget: a read that began before it is not cached.
        self._generation = 0
        # Bumped when everything is forgotten (another process, or a write of "last used").
        self._epoch = 0
        # Kept across forget: facts about the past, not cached rows.
        self._tamper = Tamper()

    def cached(self, name, owner=None):
        """The cached Current of ``name`` (``owner``'s own value, or the shared
        one), None for "nothing stored", or UNKNOWN."""
        if self._watch is not None and self._watch.changed():
            self.forget()
        return self._cache.get((name, owner), UNKNOWN)

    async def summaries(self):
        """({name: summary row} of every stored name, {name: (last_used_at,
        last_used_by)} of every used name): shared, so copy to change."""
        if self._watch is not None and self._watch.changed():
            self.forget()
        if self._summaries is None:
            generation = self._generation
            db = self._db()
            try:
                summaries = await store.summaries(db), await store.uses(db)
            except sqlite3.Error as e:
                raise store.SecretStoreError(store.describe(e)) from e
            if generation != self._generation:
                return summaries
            self._summaries = summaries
        return self._summaries

    async def load(self, name, owner=None):
        """Read ``name`` (``owner``'s own value, or the shared one) from the
        database; concurrent misses share one read."""
        key = (name, owner)
        loading = self._loading.get(key)
        if loading is None:
            loading = self._loading[key] = asyncio.ensure_future(self._read(name, owner))
            loading.add_done_callback(lambda done: self._done_loading(key, done))
        return await asyncio.shield(loading)

    def _done_loading(self, key, done):
        if self._loading.get(key) is done:
            del self._loading[key]

    async def _read(self, name, owner):
        generation = self._generation
        db = self._db()
        try:
            stored = await store.current(db, name, owner)
            # One more query, only for an old-format shared row not yet known to be out of place.
            if stored is not None and self._tamper.needs_format_query(stored):
                if await store_keys.has_version_bound(db, name, LEGACY_KEY_NAME, CURRENT_FORMATS):
                    self._tamper.bound(name)
        except sqlite3.Error as e:
            raise store.SecretStoreError(store.describe(e)) from e
        current = None
        if stored is not None:
            current = Current(stored, self._keyring, self._tamper.vet(stored, generation))
        if generation == self._generation:
            self._cache[name, owner] = current
        return current

    def refusal(self, name, version, key_id, blob, owner=None):
        """A SecretTamperedError if the live version of ``name`` (``owner``'s
        own value, or the shared one) numbered ``version``, under ``key_id``,
        ciphertext ``blob``, must not be served, else None.

        In memory only, from what loads in this process have learned: for the
        list page and reveals, which read the live version themselves.
        """
        return self._tamper.refusal(name, version, key_id, blob, owner, self._generation)

    def forget(self, name=None, owner=None):
        """Forget one value (``owner``'s own of ``name``, or the shared one), or
        with no name everything (the summaries go either way).

        Forgetting one value means this process just changed it through the
        plugin (``State.changed``); a refused rollback of it may be fixed.
        """
        self._generation += 1
        self._summaries = None
        if name is None:
            self._epoch += 1
            self._cache.clear()
            self._loading.clear()
        else:
            self._cache.pop((name, owner), None)
            self._loading.pop((name, owner), None)
            self._tamper.changed(name, owner, self._generation)

    def epoch(self):
        """A number that changes whenever everything is forgotten: what was derived
        from every stored row (not from one secret's) is stale once it changes."""
        if self._watch is not None and self._watch.changed():
            self.forget()
        return self._epoch

    def close(self):
        if self._watch is not None:
            self._watch.close()


class DataVersionWatch:
    """Tells, at most once a second, whether another connection wrote to a file.

    ``PRAGMA data_version`` changes when any other connection commits, so this
    keeps a read-only connection of its own just to ask.
    """

    def __init__(self, path):
        self._conn = sqlite3.connect(
            f"file:{quote(path)}?mode=ro", uri=True, check_same_thread=False, timeout=0
        )
        self._version = self._read()
        self._next_check = time.monotonic() + CHECK_EVERY

    def _read(self):
        return self._conn.execute("pragma data_version").fetchone()[0]

    def changed(self):
        now = time.monotonic()
        if now < self._next_check:
            return False
        self._next_check = now + CHECK_EVERY
        try:
            version = self._read()
        except sqlite3.Error:
            return True  # locked by a writer right now: assume it wrote
        if version == self._version:
            return False
        self._version = version
        return True

    def close(self):
        self._conn.close()


def watch_for(db):
    """A watch for a database file; None for one held in memory.

    Datasette's default internal database is a temporary file no other process
    knows, but it is watched too: a write made in this process without this
    plugin (SQL from another plugin, say) is then noticed within a second.
    """
    if db.is_memory or not db.path:
        return None
    try:
        return DataVersionWatch(db.path)
    except sqlite3.Error as e:
        log.warning("datasette-secrets: cannot watch %s for changes: %s", db.path, e)
        return None


class Current:
    """The newest live version of a shared value or of an own value, ready to
    decrypt: ``open()`` returns the value.

    ``open`` is None when no key is configured. With ``refused`` (a
    SecretTamperedError: the cache caught the row being tampered with) ``open``
    raises it instead, key or no key.
    """

    __slots__ = ("version", "open")

    def __init__(self, stored, keyring, refused=None):
        self.version = stored.version
        if refused is not None:
            self.open = _raising(refused)
        elif keyring.primary is not None:
            self.open = keyring.opener(
                stored.name, stored.version, stored.key_id, stored.encrypted, stored.owner
            )
        else:
            self.open = None


def _raising(error):
    """A function raising a fresh copy of ``error`` each call (a raised exception keeps its traceback)."""
    args = (error.name, error.version, error.key_id, error.reason)

    def refuse():
        raise SecretTamperedError(*args)

    return refuse
