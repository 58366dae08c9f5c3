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
alike, by (name, owner), and refuses a live version of either it can tell
was tampered with (a rollback, a planted old-format row). The ``State`` of
each instance holds one.
"""

import asyncio
import logging
import sqlite3
import time
from urllib.parse import quote

from . import store, store_keys
from .crypto import CURRENT_FORMATS, LEGACY_KEY_NAME, SecretTamperedError, old_format

log = logging.getLogger("datasette_secrets")

CHECK_EVERY = 1.0  # seconds between looks at another process's writes
UNKNOWN = object()  # not cached yet (None is cached too: "nothing stored")


class Cache:
    """What is stored, as last read: the newest live version (ciphertext only)
    of each shared value, by (name, None), and of each actor's own value of a
    personal secret, by (name, owner), for ``get_secret``; and the summary row
    of every stored name and the last use of every used name, for the list page.

    Shared and own values are one code path, the owner a parameter: both are
    read, cached, forgotten and vetted alike. It refuses two kinds of
    tampering it can see when it loads a value (``refusal``): a live version
    older than one this process already loaded (newer rows were removed), and
    a live version in an old format when the value has versions in the
    current one (a planted row; an own value never had an old format). What
    it remembers for this lives as long as the process; see the README's
    threat model.
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
        # Kept across forget (they are facts about the past, not cached rows), by (name, owner):
        self._highest = {}  # highest live version number loaded
        self._bound = set()  # known to have a version in the current format
        self._refused = {}  # the live version last refused as a rollback
        self._changed = {}  # refused -> generation of this process's next change to it
        self._warned = set()  # ((name, owner), kind): a warning is logged once per value and kind

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
        key = (name, owner)
        db = self._db()
        try:
            stored = await store.current(db, name, owner)
            if stored is not None and key not in self._bound:
                # One more query, only for an old-format shared row not yet known to be
                # out of place (the plugin never wrote an own value in an old format).
                if owner is not None or old_format(stored.key_id, stored.encrypted) is None:
                    self._bound.add(key)
                elif await store_keys.has_version_bound(db, name, LEGACY_KEY_NAME, CURRENT_FORMATS):
                    self._bound.add(key)
        except sqlite3.Error as e:
            raise store.SecretStoreError(store.describe(e)) from e
        current = None if stored is None else self._vetted(stored, generation)
        if generation == self._generation:
            self._cache[key] = current
        return current

    def _vetted(self, stored, generation):
        """The Current for a freshly read live version, refusing it if tampered with."""
        key, version = (stored.name, stored.owner), stored.version
        if _lower(version, self._highest.get(key)) and not self._accepts_change(key, version, generation):
            self._refused[key] = version
            if self._changed.get(key, generation + 1) <= generation:
                del self._changed[key]  # read after that change and still rolled back: not a fix
            return self._refusing(stored, "rollback", self._rolled_back(key, version, stored.key_id))
        refused = self._planted(key, version, stored.key_id, stored.encrypted)
        if refused is not None:  # not served, so it does not raise the highest version
            return self._refusing(stored, "old format", refused)
        # Served: at least the highest, or this process's own fix of a reported
        # rollback (numbered after the rows left, so below the old highest).
        if isinstance(version, int):
            self._highest[key] = version
        self._changed.pop(key, None)  # before _refused: a reveal's thread may be reading both
        self._refused.pop(key, None)
        return Current(stored, self._keyring)

    def _refusing(self, stored, kind, error):
        warned = ((stored.name, stored.owner), kind)
        if warned not in self._warned:
            self._warned.add(warned)
            log.warning("datasette-secrets: %s", error)
        return Current(stored, self._keyring, error)

    def _accepts_change(self, key, version, generation):
        """Whether a live version below the highest is this process's own fix of a
        reported rollback: read after a change through the plugin, and newer than
        the version refused."""
        changed, refused = self._changed.get(key), self._refused.get(key)
        return changed is not None and refused is not None and changed <= generation and version > refused

    def refusal(self, name, version, key_id, blob, owner=None):
        """A SecretTamperedError if the live version of ``name`` (``owner``'s
        own value, or the shared one) numbered ``version``, under ``key_id``,
        ciphertext ``blob``, must not be served, else None.

        In memory only, from what loads in this process have learned: for the
        list page and reveals, which read the live version themselves.
        """
        key = (name, owner)
        if _lower(version, self._highest.get(key)) and not self._accepts_change(key, version, self._generation):
            return self._rolled_back(key, version, key_id)
        return self._planted(key, version, key_id, blob)

    def _rolled_back(self, key, version, key_id):
        name, owner = key
        return SecretTamperedError(
            name, version, key_id,
            f"{_whose(owner)}version {version} is older than version {self._highest[key]}, which "
            "this process already served: newer versions were removed from the database outside "
            f"this plugin. {_replace(owner)}",
        )

    def _planted(self, key, version, key_id, blob):
        """The error for an old-format live version of a value known to have current-format ones."""
        found = old_format(key_id, blob) if key in self._bound else None
        if found is None:
            return None
        name, owner = key
        if owner is not None:
            return SecretTamperedError(
                name, version, key_id,
                f"{_whose(owner)}its newest version, {version}, is in an old format ({found}), "
                "which this plugin never writes for an own value: the row was put there outside "
                f"this plugin. {_replace(owner)}",
            )
        return SecretTamperedError(
            name, version, key_id,
            f"its newest version, {version}, is in an old format ({found}), but the secret "
            "also has versions in the current format, which this plugin never follows with "
            "an old one: the row was put there outside this plugin (or a key rotation "
            f"stopped halfway: run it again). {_replace(owner)}",
        )

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
            key = (name, owner)
            self._cache.pop(key, None)
            self._loading.pop(key, None)
            if key in self._refused:
                self._changed.setdefault(key, self._generation)

    def epoch(self):
        """A number that changes whenever everything is forgotten: what was derived
        from every stored row (not from one secret's) is stale once it changes."""
        if self._watch is not None and self._watch.changed():
            self.forget()
        return self._epoch

    def close(self):
        if self._watch is not None:
            self._watch.close()


def _whose(owner):
    """How a refusal's message starts: nothing for a shared value, whose own value it is otherwise."""
    return "" if owner is None else f"{owner}'s own value: "


def _replace(owner):
    """What fixes a refused value."""
    return "Set a new value to replace it." if owner is not None else (
        "Set a new value or restore a version to replace it."
    )


def _lower(version, highest):
    """Whether a version number is below the highest loaded (a NULL or odd one never is)."""
    return highest is not None and isinstance(version, int) and version < highest


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
