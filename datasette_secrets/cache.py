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

``Cache`` also refuses a live version it can tell was tampered with (a
rollback, a planted old-format row). ``OwnValues`` caches actors' own values
of personal secrets the same way. The ``State`` of each instance holds one of each.
"""

import asyncio
import logging
import sqlite3
import time
from urllib.parse import quote

from . import store, store_keys, store_personal
from .crypto import CURRENT_FORMATS, LEGACY_KEY_NAME, SecretTamperedError, old_format

log = logging.getLogger("datasette_secrets")

CHECK_EVERY = 1.0  # seconds between looks at another process's writes
UNKNOWN = object()  # not cached yet (None is cached too: "nothing stored")


class Cache:
    """What is stored, as last read: each secret's newest live version
    (ciphertext only), by name, for ``get_secret``; and the summary row of
    every stored name and the last use of every used name, for the list page.

    It also refuses two kinds of tampering it can see when it loads a secret
    (``refusal``): a live version older than one this process already loaded
    (newer rows were removed), and a live version in an old format when the
    secret has versions in the current one (a planted row). What it remembers
    for this lives as long as the process; see the README's threat model.
    """

    def __init__(self, db_ref, keyring, watch):
        self._db = db_ref
        self._keyring = keyring
        self._watch = watch
        self._cache = {}
        self._loading = {}
        self._summaries = None
        # Bumped by every forget: a read that began before it is not cached.
        self._generation = 0
        # Bumped when everything is forgotten (another process, or a write of "last used").
        self._epoch = 0
        # Kept across forget (they are facts about the past, not cached rows):
        self._highest = {}  # name -> highest live version number loaded
        self._bound = set()  # names known to have a version in the current format
        self._refused = {}  # name -> the live version last refused as a rollback
        self._changed = {}  # refused name -> generation of this process's next change to it
        self._warned = set()  # (name, kind): a warning is logged once per name and kind

    def cached(self, name):
        """The cached Current, None for "nothing stored", or UNKNOWN."""
        if self._watch is not None and self._watch.changed():
            self.forget()
        return self._cache.get(name, UNKNOWN)

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

    async def load(self, name):
        """Read ``name`` from the database; concurrent misses share one read."""
        loading = self._loading.get(name)
        if loading is None:
            loading = self._loading[name] = asyncio.ensure_future(self._read(name))
            loading.add_done_callback(lambda done: self._done_loading(name, done))
        return await asyncio.shield(loading)

    def _done_loading(self, name, done):
        if self._loading.get(name) is done:
            del self._loading[name]

    async def _read(self, name):
        generation = self._generation
        db = self._db()
        try:
            stored = await store.current(db, name)
            if stored is not None and name not in self._bound:
                # One more query, only for an old-format row not yet known to be out of place.
                if old_format(stored.key_id, stored.encrypted) is None:
                    self._bound.add(name)
                elif await store_keys.has_version_bound(db, name, LEGACY_KEY_NAME, CURRENT_FORMATS):
                    self._bound.add(name)
        except sqlite3.Error as e:
            raise store.SecretStoreError(store.describe(e)) from e
        current = None if stored is None else self._vetted(stored, generation)
        if generation == self._generation:
            self._cache[name] = current
        return current

    def _vetted(self, stored, generation):
        """The Current for a freshly read live version, refusing it if tampered with."""
        name, version, key_id, blob = stored.name, stored.version, stored.key_id, stored.encrypted
        if _lower(version, self._highest.get(name)) and not self._accepts_change(
            name, version, generation
        ):
            self._refused[name] = version
            if self._changed.get(name, generation + 1) <= generation:
                del self._changed[name]  # read after that change and still rolled back: not a fix
            return self._refusing(stored, "rollback", self._rolled_back(name, version, key_id))
        refused = self._planted(name, version, key_id, blob)
        if refused is not None:  # not served, so it does not raise the highest version
            return self._refusing(stored, "old format", refused)
        # Served: at least the highest, or this process's own fix of a reported
        # rollback (numbered after the rows left, so below the old highest).
        if isinstance(version, int):
            self._highest[name] = version
        self._changed.pop(name, None)  # before _refused: a reveal's thread may be reading both
        self._refused.pop(name, None)
        return Current(stored, self._keyring)

    def _refusing(self, stored, kind, error):
        if (stored.name, kind) not in self._warned:
            self._warned.add((stored.name, kind))
            log.warning("datasette-secrets: %s", error)
        return Current(stored, self._keyring, error)

    def _accepts_change(self, name, version, generation):
        """Whether a live version below the highest is this process's own fix of a
        reported rollback: read after a change through the plugin, and newer than
        the version refused."""
        changed, refused = self._changed.get(name), self._refused.get(name)
        return changed is not None and refused is not None and changed <= generation and version > refused

    def refusal(self, name, version, key_id, blob):
        """A SecretTamperedError if ``name``'s live version (``version``, under
        ``key_id``, ciphertext ``blob``) must not be served, else None.

        In memory only, from what loads in this process have learned: for the
        list page and reveals, which read the live version themselves.
        """
        if _lower(version, self._highest.get(name)) and not self._accepts_change(
            name, version, self._generation
        ):
            return self._rolled_back(name, version, key_id)
        return self._planted(name, version, key_id, blob)

    def _rolled_back(self, name, version, key_id):
        return SecretTamperedError(
            name, version, key_id,
            f"version {version} is older than version {self._highest[name]}, which this "
            "process already served: newer versions were removed from the database outside "
            "this plugin. Set a new value or restore a version to replace it.",
        )

    def _planted(self, name, version, key_id, blob):
        """The error for an old-format live version of a name known to have current-format ones."""
        found = old_format(key_id, blob) if name in self._bound else None
        if found is None:
            return None
        return SecretTamperedError(
            name, version, key_id,
            f"its newest version, {version}, is in an old format ({found}), but the secret "
            "also has versions in the current format, which this plugin never follows with "
            "an old one: the row was put there outside this plugin (or a key rotation "
            "stopped halfway: run it again). Set a new value or restore a version to replace it.",
        )

    def forget(self, name=None):
        """Forget one name, or with no name everything (the summaries go either way).

        Forgetting one name means this process just changed it through the
        plugin (``State.changed``); a refused rollback of that name may be fixed.
        """
        self._generation += 1
        self._summaries = None
        if name is None:
            self._epoch += 1
            self._cache.clear()
            self._loading.clear()
        else:
            self._cache.pop(name, None)
            self._loading.pop(name, None)
            if name in self._refused:
                self._changed.setdefault(name, self._generation)

    def epoch(self):
        """A number that changes whenever everything is forgotten: what was derived
        from every stored row (not from one secret's) is stale once it changes."""
        if self._watch is not None and self._watch.changed():
            self.forget()
        return self._epoch

    def close(self):
        if self._watch is not None:
            self._watch.close()


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
    """A secret's newest live version, ready to decrypt: ``open()`` returns the value.

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
            self.open = keyring.opener(stored.name, stored.version, stored.key_id, stored.encrypted)
        else:
            self.open = None


def _raising(error):
    """A function raising a fresh copy of ``error`` each call (a raised exception keeps its traceback)."""
    args = (error.name, error.version, error.key_id, error.reason)

    def refuse():
        raise SecretTamperedError(*args)

    return refuse


class OwnValues:
    """Each actor's own value of each personal secret, as last read: the newest
    live version's ciphertext (never plaintext), by (name, owner), for ``get_secret``.

    Forgotten with everything else when another process writes (the Cache's
    epoch), and per (name, owner) when this process changes one.
    """

    def __init__(self, db_ref, keyring, cache):
        self._db = db_ref
        self._keyring = keyring
        self._cache = cache
        self._found = {}
        self._epoch = None
        self._generation = 0  # bumped by every forget: a read that began before it is not kept

    def cached(self, name, owner):
        """The cached OwnCurrent, None for "no own value", or UNKNOWN."""
        epoch = self._cache.epoch()
        if epoch != self._epoch:
            self._found.clear()
            self._epoch = epoch
        return self._found.get((name, owner), UNKNOWN)

    async def load(self, name, owner):
        generation = self._generation
        try:
            stored = await store_personal.current(self._db(), name, owner)
        except sqlite3.Error as e:
            raise store.SecretStoreError(store.describe(e)) from e
        current = None if stored is None else OwnCurrent(name, owner, stored, self._keyring)
        if generation == self._generation:
            self._found[name, owner] = current
        return current

    def forget(self, name, owner):
        self._generation += 1
        self._found.pop((name, owner), None)


class OwnCurrent:
    """An actor's newest own version, ready to decrypt (``open`` is None without a key)."""

    __slots__ = ("version", "open")

    def __init__(self, name, owner, stored, keyring):
        self.version = stored.version
        self.open = (
            keyring.opener(name, stored.version, stored.key_id, stored.encrypted, owner)
            if keyring.primary is not None
            else None
        )
