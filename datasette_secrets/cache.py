"""What is stored, as last read: the ciphertext ``get_secret`` decrypts, and the
rows the list page shows, with the watch that says when to forget them.

Caching rules, each chosen so a cached answer is never wrong for long:

- Ciphertext is cached, never plaintext: each ``get_secret`` decrypts again
  (about a microsecond), so no decrypted value outlives the call that asked
  for it, and a leaked cache holds nothing readable without the key.
- Every change made through this plugin forgets what it changed before it
  returns (one value and the summary rows; a write of "last used" the uses
  alone), so the same process serves the new value at once, and keeps the rest.
- Anyone else's change is forgotten within a second, by the generation: a row
  of two counters (``migrations.create_generation``) that triggers bump in the
  transaction of every change to the plugin's tables, whoever makes it
  (``secrets`` for the values' rows, ``uses`` for "last used").
  - Each of this plugin's write transactions reads it before and after itself
    (``Writes``): found as the cache left it, the change was only its own.
  - At most once a second, on the next read, ``PRAGMA data_version`` says
    whether any other connection committed (Datasette's write connection,
    shared by every plugin, counts); only if so is the generation read. A
    moved ``secrets`` forgets everything, a moved ``uses`` the uses; another
    plugin's commit to its own tables moves neither, so nothing is read again.
  - A change of the schema forgets everything too, and if the triggers were
    dropped or changed, every commit counts as a change of everything (as if
    there were no generation) until they are whole again.
  - What this cannot see: a writer that changes the plugin's rows and sets
    the counters back in the same transaction, or that turns SQLite's
    triggers off on its own connection (a C-level option, not SQL). Such a
    change is seen when something else forgets everything (another writer's
    change, a rotation, a restart). The README's threat model says so.

``Cache`` holds shared values and actors' own values of personal secrets
alike, by (name, owner); ``tamper`` vets each live version it loads (a
rollback, a planted old-format row). The ``State`` of each instance holds one.
"""

import asyncio
import logging
import sqlite3
import time
from urllib.parse import quote

from . import migrations, store, store_keys
from .crypto import CURRENT_FORMATS, LEGACY_KEY_NAME, SecretTamperedError
from .tamper import Tamper

log = logging.getLogger("datasette_secrets")

CHECK_EVERY = 1.0  # seconds between looks at another process's writes
UNKNOWN = object()  # not cached yet (None is cached too: "nothing stored")
UNCHANGED = object()  # the watch saw no commit since it last looked


class Cache:
    """What is stored, as last read: the newest live version (ciphertext only)
    of each shared value, by (name, None), and of each actor's own value of a
    personal secret, by (name, owner), for ``get_secret``; and the summary row
    of every stored name and the last use of every used name, for the list page.

    Shared and own values are one code path, the owner a parameter: both are
    read, cached, forgotten and vetted alike. Each live version loaded is
    vetted by ``tamper`` (a rollback, a planted row): a refused one is cached
    as a Current whose ``open`` raises.

    It knows the generation it agrees with (``_known``, see the module's
    docstring): this process's own writes move it on (``wrote``), and what
    another writer changed is forgotten when the watch sees it.
    """

    def __init__(self, db_ref, keyring, watch):
        self._db = db_ref
        self._keyring = keyring
        self._watch = watch
        self._cache = {}  # (name, owner) -> Current, or None for "nothing stored"
        self._loading = {}
        self._rows = None  # {name: summary row}
        self._uses = None  # {name: (last_used_at, last_used_by)}
        # Bumped by every forget of values or rows: a read that began before it is not cached.
        self._forgets = 0
        self._uses_forgets = 0  # the same, for the uses
        # Bumped when everything is forgotten (another writer changed values, or a rotation).
        self._epoch = 0
        self._known = None  # the generation (secrets, uses) this cache agrees with, if known
        # Kept across forget: facts about the past, not cached rows.
        self._tamper = Tamper()

    def cached(self, name, owner=None):
        """The cached Current of ``name`` (``owner``'s own value, or the shared
        one), None for "nothing stored", or UNKNOWN."""
        self._look()
        return self._cache.get((name, owner), UNKNOWN)

    async def summaries(self):
        """({name: summary row} of every stored name, {name: (last_used_at,
        last_used_by)} of every used name): shared, so copy to change. Each is
        read again only when forgotten: a write of "last used" forgets the uses alone."""
        self._look()
        rows, uses = self._rows, self._uses
        if rows is None or uses is None:
            forgets, uses_forgets = self._forgets, self._uses_forgets
            db = self._db()
            try:
                if rows is None:
                    rows = await store.summaries(db)
                if uses is None:
                    uses = await store.uses(db)
            except sqlite3.Error as e:
                raise store.SecretStoreError(store.describe(e)) from e
            if forgets == self._forgets:
                self._rows = rows
            if uses_forgets == self._uses_forgets:
                self._uses = uses
        return rows, uses

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
        forgets = self._forgets
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
            current = Current(stored, self._keyring, self._tamper.vet(stored, forgets))
        if forgets == self._forgets:
            self._cache[name, owner] = current
        return current

    def refusal(self, name, version, key_id, blob, owner=None):
        """A SecretTamperedError if the live version of ``name`` (``owner``'s
        own value, or the shared one) numbered ``version``, under ``key_id``,
        ciphertext ``blob``, must not be served, else None.

        In memory only, from what loads in this process have learned: for the
        list page and reveals, which read the live version themselves.
        """
        return self._tamper.refusal(name, version, key_id, blob, owner, self._forgets)

    def forget(self, name=None, owner=None):
        """Forget one value (``owner``'s own of ``name``, or the shared one) and
        the summary rows, or with no name everything, the uses too.

        Forgetting one value means this process just changed it through the
        plugin (``State.changed``); a refused rollback of it may be fixed.
        """
        self._forgets += 1
        self._rows = None
        if name is None:
            self._epoch += 1
            self._cache.clear()
            self._loading.clear()
            self.forget_uses()
        else:
            self._cache.pop((name, owner), None)
            self._loading.pop((name, owner), None)
            self._tamper.changed(name, owner, self._forgets)

    def forget_uses(self):
        """Forget the last uses alone: what a write of "last used" changes."""
        self._uses_forgets += 1
        self._uses = None

    def wrote(self, before, after, alone=True):
        """This process's write transaction found the generation ``before`` and
        left it ``after`` (``Writes``). What it changed its caller forgets; a
        change someone else made before it is forgotten here. ``alone``: no
        other write of this plugin is under way (its report yet to come), so
        the watch may take the file as seen, and the next look reads nothing."""
        if after is not None and after == self._known:
            return  # already taken in (a look, or the watch after another write, saw it)
        if before is None or before != self._known:
            self._saw(before)
        self._known = after
        if alone and self._watch is not None:
            seen = self._watch.read()
            if seen is not UNCHANGED and seen != after:
                self._saw(seen)

    def _look(self):
        """At most once a second: forget what another writer changed."""
        if self._watch is not None:
            seen = self._watch.look()
            if seen is not UNCHANGED:
                self._saw(seen)

    def _saw(self, generation):
        """The generation is now ``generation`` (None: it cannot be told): forget
        everything if the values' counter or the schema moved, the uses if only
        their counter did."""
        known, self._known = self._known, generation
        if generation is None or known is None or generation[0::2] != known[0::2]:
            self.forget()
        elif generation[1] != known[1]:
            self.forget_uses()

    def epoch(self):
        """A number that changes whenever everything is forgotten: what was derived
        from every stored row (not from one secret's) is stale once it changes."""
        self._look()
        return self._epoch

    def close(self):
        if self._watch is not None:
            self._watch.close()


class Writes:
    """The database as this plugin writes to it (``State.db``): each
    ``execute_write_fn`` transaction also reads the generation before and
    after itself, and tells the cache (``Cache.wrote``), so the plugin's own
    commits are not taken for someone else's. Everything else is the
    database's own. Holds the database weakly, as the State does.
    """

    def __init__(self, db_ref, cache):
        self._db = db_ref
        self._cache = cache
        self._writing = 0  # transactions sent and not yet answered

    def __getattr__(self, attribute):
        return getattr(self._db(), attribute)

    async def execute_write_fn(self, fn, **kwargs):
        def write(conn):
            before = store.generation(conn)
            result = fn(conn)
            return result, before, store.generation(conn)

        self._writing += 1
        try:
            result, before, after = await self._db().execute_write_fn(write, **kwargs)
        finally:
            self._writing -= 1
        self._cache.wrote(before, after, alone=not self._writing)
        return result


class DataVersionWatch:
    """Tells, at most once a second, whether a commit of another connection
    changed the plugin's tables: the generation after it.

    ``PRAGMA data_version`` changes when any other connection commits, so
    this keeps a read-only connection of its own to ask; Datasette's write
    connection, which every plugin shares, counts as another. Only when it
    moved is the generation read (one row, with the schema's version). When
    the schema moved (a table or trigger made, changed or dropped: the cache
    forgets everything), the generation's triggers are compared with
    ``migrations.GENERATION_TRIGGERS``: with one dropped or replaced, the
    generation says nothing (None), and every commit counts as a change of
    everything until they are whole again (a warning says so, once).
    """

    def __init__(self, path):
        self._conn = sqlite3.connect(
            f"file:{quote(path)}?mode=ro", uri=True, check_same_thread=False, timeout=0
        )
        self._version = self._data_version()
        self._schema = None  # the schema_version at which the triggers were last found whole
        self._warned = False
        self._failing_since = None  # when reads began to fail, while they do
        self._next_check = time.monotonic() + CHECK_EVERY

    def _data_version(self):
        return self._conn.execute("pragma data_version").fetchone()[0]

    def changed(self):
        """Whether any other connection committed since the last look, at most
        once a second: for a watch of the file's other tables (grants.py), which
        has no generation. Use one watch for ``changed`` or ``look``, not both."""
        now = time.monotonic()
        if now < self._next_check:
            return False
        self._next_check = now + CHECK_EVERY
        try:
            version = self._data_version()
        except sqlite3.Error:
            return True  # locked by a writer right now: assume it wrote
        if version == self._version:
            return False
        self._version = version
        return True

    def look(self):
        """``read()``, at most once a second; UNCHANGED in between."""
        now = time.monotonic()
        if now < self._next_check:
            return UNCHANGED
        self._next_check = now + CHECK_EVERY
        return self.read()

    def read(self):
        """UNCHANGED when no other connection committed since the last read;
        else the generation now, or None when it cannot be told."""
        try:
            version = self._data_version()
            if version == self._version:
                self._failing_since = None
                return UNCHANGED
            generation = self._generation()
        except sqlite3.Error:
            return self._unreadable()
        self._failing_since = None
        self._version = version
        return generation

    def _unreadable(self):
        """Locked by a writer's commit for a moment: look again at the next call.
        Unreadable for a second or more: everything may have changed (None)."""
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = now
        if now - self._failing_since < CHECK_EVERY:
            self._next_check = now
            return UNCHANGED
        return None

    def _generation(self):
        generation = store.generation(self._conn)
        if generation is None or generation[2] == self._schema:
            return generation
        # The schema moved (the generation says so, and the cache forgets everything):
        # are the triggers still those the plugin made?
        if store.generation_triggers(self._conn) == migrations.GENERATION_TRIGGERS:
            self._schema = generation[2]
            return generation
        if not self._warned:
            self._warned = True
            log.warning(
                "datasette-secrets: the triggers that count changes to its tables were dropped "
                "or changed outside the plugin: until they are made again, every commit to the "
                "database makes it read every secret again"
            )
        return None

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
