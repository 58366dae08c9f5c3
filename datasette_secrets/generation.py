"""The generation: how the cache tells this plugin's own commits from anyone else's.

``migrations.create_generation`` makes one row of two counters,
``datasette_secrets_generation`` (``secrets``, ``uses``), and triggers that
bump them in the transaction of every change to the plugin's tables,
whoever makes it (this plugin, an older release, another process, SQL from
another plugin): ``secrets`` for a stored value's rows, shared or own (an
own value's "last used" excepted), ``uses`` for the shared values' "last
used" (a write that changes nothing bumps nothing). ``store.generation``
reads them with the schema's version: (secrets, uses, schema).

- Each write transaction of this plugin reads the generation before and
  after itself (``Writes``, which ``State.db`` is), and tells the cache:
  found as the cache left it, the change was only its own.
- At most once a second, on the next read, ``DataVersionWatch`` asks
  ``PRAGMA data_version`` whether any other connection committed
  (Datasette's write connection, shared by every plugin, counts); only if so
  does it read the generation. Another plugin's commit to its own tables
  moves no counter, so the cache keeps everything.
- A change of the schema counts as a change of everything (the triggers
  dropped, a row changed and the triggers made again leave the same
  counters), and if the triggers were dropped or changed, the generation
  says nothing and every commit counts as a change of everything (as if
  there were no generation) until they are whole again, with a warning.
- A file locked by a commit for a moment is looked at again at the next call;
  unreadable for a second or more, everything counts as changed.

What this cannot see, until something else makes the cache forget
everything (another writer's change, a key rotation, a restart): a writer
that changes the plugin's rows and sets the counters back in the same
transaction, or that turns SQLite's triggers off on its own connection (an
option of SQLite's C interface, not of SQL). The README's threat model says so.
"""

import logging
import sqlite3
import time
from urllib.parse import quote

from . import migrations, store

log = logging.getLogger("datasette_secrets")

CHECK_EVERY = 1.0  # seconds between looks at another process's writes
UNCHANGED = object()  # the watch saw no commit since it last looked


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

    def __init__(self, path, clock=time.monotonic):
        self._clock = clock  # monotonic seconds: the State's clock (tests move their own)
        self._conn = sqlite3.connect(
            f"file:{quote(path)}?mode=ro", uri=True, check_same_thread=False, timeout=0
        )
        self._version = self._data_version()
        self._schema = None  # the schema_version at which the triggers were last found whole
        self._warned = False
        self._failing_since = None  # when reads began to fail, while they do
        self._next_check = clock() + CHECK_EVERY

    def _data_version(self):
        return self._conn.execute("pragma data_version").fetchone()[0]

    def changed(self):
        """Whether any other connection committed since the last look, at most
        once a second: for a watch of the file's other tables (grants.py), which
        has no generation. Use one watch for ``changed`` or ``look``, not both."""
        now = self._clock()
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
        now = self._clock()
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
        now = self._clock()
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


def watch_for(db, clock=time.monotonic):
    """A watch for a database file, looking at most once a second by ``clock``;
    None for one held in memory.

    Datasette's default internal database is a temporary file no other process
    knows, but it is watched too: a write made in this process without this
    plugin (SQL from another plugin, say) is then noticed within a second.
    """
    if db.is_memory or not db.path:
        return None
    try:
        return DataVersionWatch(db.path, clock)
    except sqlite3.Error as e:
        log.warning("datasette-secrets: cannot watch %s for changes: %s", db.path, e)
        return None
