"""What is stored, as last read: the ciphertext ``get_secret`` decrypts, and the
rows the list page shows; ``generation`` says when to forget them.

Caching rules, each chosen so a cached answer is never wrong for long:

- Ciphertext is cached, never plaintext: each ``get_secret`` decrypts again
  (about a microsecond), so no decrypted value outlives the call that asked
  for it, and a leaked cache holds nothing readable without the key.
- Every change made through this plugin forgets what it changed before it
  returns (one value and the summary rows; a write of "last used" the uses
  alone), so the same process serves the new value at once, and keeps the rest.
- Anyone else's change is forgotten within a second: ``generation`` tells
  this plugin's own commits from anyone else's (a row of counters that
  triggers bump in every transaction changing the plugin's tables, read
  around each of its own writes and, when ``PRAGMA data_version`` moved, at
  most once a second on the next read). A moved ``secrets`` counter or schema
  forgets everything, a moved ``uses`` counter the uses alone; another
  plugin's commit to its own tables forgets nothing. What that cannot see is
  in ``generation``'s docstring and the README's threat model.

``Cache`` holds shared values and actors' own values of personal secrets
alike, by (name, owner); ``tamper`` vets each live version it loads (a
rollback, a planted old-format row). The ``State`` of each instance holds one.
"""

import asyncio
import sqlite3

from . import store, store_keys
from .crypto import CURRENT_FORMATS, LEGACY_KEY_NAME, SecretTamperedError
from .generation import UNCHANGED
from .tamper import Tamper

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

    It knows the generation it agrees with (``_known``, see ``generation``):
    this process's own writes move it on (``wrote``), and what another writer
    changed is forgotten when the watch sees it.
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
        left it ``after`` (``generation.Writes``). What it changed its caller forgets; a
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
