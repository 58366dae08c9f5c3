"""What the plugin keeps for one Datasette instance, so ``get_secret`` stays cheap.

``State`` is built once per Datasette instance (at startup, or on first use)
and holds the settings with their parsed keys, the registered secrets, the
current ciphertext of each secret (``cache``), the buffer of "last used"
records (``usage``), the reveal, key-check and own-change limits and the
pending imports.

What is cached and when it is forgotten is ``cache``'s docstring; how "last
used" is written is ``usage``'s.
"""

import asyncio
import collections
import secrets
import time
import weakref

from . import store
from .cache import Cache
from .generation import Writes, watch_for
from .envelope import Envelope
from .files import Files
from .grants import Scopes
from .registry import Registry
from .usage import UsageBuffer


# Saves and deletes of own values, per actor a minute: every signed-in actor may
# make them, and each writes a version or an audit row (README, Personal secrets).
OWN_CHANGES_PER_MINUTE = 30

# {id(datasette): State}, one per Datasette instance; an entry goes when its
# instance is collected (before its id can be reused). Keyed by id, not a
# WeakKeyDictionary, because this lookup starts every get_secret call.
STATES = {}


def remember(datasette, state):
    STATES[id(datasette)] = state
    weakref.finalize(datasette, STATES.pop, id(datasette), None)
    return state


def forget(datasette):
    return STATES.pop(id(datasette), None)


class State:
    """The plugin's state for one Datasette instance.

    Holds the database weakly: Datasette owns it, and a state kept alive by a
    pending flush must not keep a closed Datasette alive.

    ``clock`` is the one monotonic clock (seconds) of everything here that
    waits or counts time: the rate limits, pending imports, the once-a-second
    looks at the database and at files, and the usage writes. Each reads it
    through ``now``, so a test that sets ``state.clock`` moves all of them,
    and asyncio's own clock is left alone.
    """

    def __init__(self, settings, db, clock=time.monotonic):
        self.settings = settings
        self.clock = clock
        self._db = weakref.ref(db)
        self.registry = Registry(frozenset(n for n, s in settings.secrets.items() if s.personal))
        self.cache = Cache(self._db, settings.keyring, watch_for(db, self.now))
        self._writes = Writes(self._db, self.cache)
        self.usage = UsageBuffer(lambda: self.db, written=self.cache.forget_uses, clock=self.now)
        self._migration = None
        self.migrated = False
        self.warned_no_key = False
        self.listing = None  # the list page's Listing, kept while nothing changes
        self.reveals = RateLimit(settings.reveals_per_minute, 60.0, self.now)
        self.checks = RateLimit(settings.reveals_per_minute, 60.0, self.now)  # key checks, limited alike
        self.own_changes = RateLimit(OWN_CHANGES_PER_MINUTE, 60.0, self.now)  # own saves and deletes
        self.imports = PendingImports(settings.keyring, self.now)
        self.key_problem = None  # (cache epoch, key_fit.key_problem's answer then)
        self.row_cache = None  # the list's rendered plain rows (views/context.RowCache), made at first use
        self.files = Files(clock=self.now)  # secrets mounted as files (DATASETTE_SECRETS_<NAME>_FILE)
        self.scopes = Scopes()  # per-secret grants (grants.py); core.ready gives it a watch
        self.exposed = None  # exposure's warning, from startup: who may query the secrets database
        # The data keys under a key_provider (envelope.py), or None without one.
        self.envelope = None
        if settings.key_provider is not None:
            self.envelope = Envelope(settings.key_provider, settings.keyring, lambda: self.db, settings.held_keys)
            self.envelope.installed.append(lambda keys: self.cache.forget())  # cached Currents had no key

    def now(self):
        """Monotonic seconds on the state's clock."""
        return self.clock()

    @property
    def db(self):
        """The database as this plugin writes to it (``cache.Writes``: its own
        commits are known to the cache), or None once Datasette let it go."""
        return self._writes if self._db() is not None else None

    async def migrate(self):
        """Create or upgrade the tables, once; concurrent callers share the work."""
        if self._migration is None:
            self._migration = asyncio.ensure_future(self._prepare())
        try:
            await self._migration
        except BaseException:
            self._migration = None  # let the next call try again
            raise
        self.migrated = True

    async def _prepare(self):
        await store.migrate(self.db)
        if self.envelope is not None:
            await self.envelope.start()  # bounded: a provider that does not answer never holds startup up

    def changed(self, name, owner=None):
        """Call after every write to ``name`` (``owner``'s own value of it, or the
        shared one): its cached version is forgotten."""
        self.cache.forget(name, owner)

    async def close(self):
        if self.envelope is not None:
            self.envelope.close()
        await self.usage.flush()
        self.cache.close()


class PendingImports:
    """Pasted .env text between its preview and its confirmation, for 15 minutes.

    Kept here, encrypted with the current key, so the preview page can stay
    free of values: it carries only a random token, which only the actor who
    pasted the text can confirm.

    Memory is bounded however often previews are asked for (each text is at
    most ``dotenv.MAX_TEXT`` characters, as the preview parsed it first):

    - at most ``PER_ACTOR`` (3) previews per actor: a newer preview forgets
      that actor's oldest, so one actor cannot push out anyone else's;
    - at most ``MAX_COUNT`` (50) previews and ``MAX_BYTES`` (16 MiB of
      ciphertext) in all: past either, the oldest previews are forgotten;
    - expired previews are forgotten at every ``add``.

    A forgotten preview's confirmation is refused like an expired one.
    """

    LIFETIME = 15 * 60
    PER_ACTOR = 3
    MAX_COUNT = 50
    MAX_BYTES = 16 * 1024 * 1024

    def __init__(self, keyring, clock=time.monotonic):
        self._keyring = keyring
        self._clock = clock
        # token -> (actor id, expires at, key id, blob), oldest first (all live equally long)
        self._pending = {}

    def add(self, actor_id, text):
        """Keep ``text`` for ``actor_id``; returns the token that confirms it."""
        now = self._clock()
        self._pending = {t: p for t, p in self._pending.items() if p[1] > now}
        theirs = [t for t, p in self._pending.items() if p[0] == actor_id]
        for old in theirs[: max(0, len(theirs) - self.PER_ACTOR + 1)]:
            del self._pending[old]
        token = secrets.token_urlsafe(18)
        key_id, blob = self._keyring.encrypt("pending .env import", 0, text)
        self._pending[token] = (actor_id, now + self.LIFETIME, key_id, blob)
        size = sum(len(p[3]) for p in self._pending.values())
        while len(self._pending) > 1 and (len(self._pending) > self.MAX_COUNT or size > self.MAX_BYTES):
            oldest = next(iter(self._pending))
            size -= len(self._pending.pop(oldest)[3])
        return token

    def take(self, token, actor_id):
        """The text for ``token`` (then forgotten), or None if unknown, expired or not theirs."""
        pending = self._pending.get(token)
        if pending is None or pending[0] != actor_id or pending[1] <= self._clock():
            return None
        del self._pending[token]
        return self._keyring.decrypt("pending .env import", 0, pending[2], pending[3])


class RateLimit:
    """At most ``limit`` events per actor in any ``window`` seconds, in memory.

    Per Datasette process: a restart forgets the counts, which is fine for a
    limit meant to slow a stolen session down, not to meter anyone.
    """

    def __init__(self, limit, window, clock=time.monotonic):
        self.limit = limit
        self.window = window
        self._clock = clock
        self._times = collections.defaultdict(collections.deque)

    def allow(self, actor_id):
        """Whether this actor may do one more now; counts it if so."""
        now = self._clock()
        times = self._times[actor_id]
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        return True

    def retry_after(self, actor_id):
        """Seconds until ``allow`` would say yes again."""
        times = self._times.get(actor_id)
        if not times or len(times) < self.limit:
            return 0
        return max(1, round(times[0] + self.window - self._clock()))
