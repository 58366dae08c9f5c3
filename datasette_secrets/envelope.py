"""The envelope: a site's data keys, kept wrapped by a key provider, unwrapped
once per process into the keyring.

With a ``key_provider`` and no ``encryption_key``, values are encrypted with a
data key that is stored only wrapped (``store_wrapped``). At startup
(``start``, from ``State.migrate``) the process unwraps it, once, with one
provider call per data key, and installs it in the keyring: from then on
values are encrypted and decrypted exactly as with a configured key, and no
read or write of a value ever calls the provider. The first start of a site
makes the data key: it wraps a new one and stores it if none is stored yet,
in one transaction, then uses whichever is stored (replicas starting together
end with one).

Configuration is read synchronously (``config``); everything here that may
wait or fail is asynchronous and apart from it:

- ``start`` waits for the first attempt at most ``STARTUP_WAIT`` seconds:
  Datasette starts whether or not the provider answered.
- While there is no data key, ``get_secret`` of a stored value raises
  ``SecretKeyUnavailableError`` at once (``core``), saves are refused with
  ``Settings.missing_key``'s message, and variables and files work as ever.
- A failed attempt is retried in the background after 1, 2, 4, ... seconds,
  at most ``MAX_RETRY`` (60) apart, on ``clock`` (tests drive a fake one).
- Once unwrapped, the process looks every ``WATCH_EVERY`` seconds for a data
  key it does not have (another process ran ``rotate-key --new-data-key``)
  and unwraps it in the background, never on a read.

With both ``encryption_key`` and ``key_provider`` (moving a site to the
provider, or back), the configured keys are the keys and the provider is used
only by ``wrap-key``, ``unwrap-key`` and ``rewrap-key``; if a wrapped current
key is stored and is not the configured ``encryption_key``, startup is
refused (``KeyMismatch``) rather than guess which one is right.
"""

import asyncio
import logging
import time
from datetime import datetime, timezone

from . import store_keys, store_personal, store_wrapped
from .config import PLUGIN, ConfigError
from .crypto import Key, generate_key
from .providers import KeyProviderError, context_for, describe

log = logging.getLogger("datasette_secrets")

STARTUP_WAIT = 4.0  # seconds start() waits for the first unwrap before Datasette starts without it
ATTEMPT_TIMEOUT = 10.0  # seconds one attempt may take (every call of it) before it counts as failed
FIRST_RETRY = 1.0  # seconds before the first retry; doubled after each failure
MAX_RETRY = 60.0  # seconds between retries, at most
WATCH_EVERY = 10.0  # seconds between looks for a data key made by another process


class KeyMismatch(ConfigError):
    """encryption_key is configured, and a different data key is stored wrapped as current."""


class Clock:
    """Monotonic time and sleeping, for the retries and the watch."""

    def now(self):
        return time.monotonic()

    async def sleep(self, seconds):
        await asyncio.sleep(seconds)


def default_clock():
    """The clock an Envelope runs on unless given one (tests replace this)."""
    return Clock()


def _utc_now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


class Envelope:
    """The data keys of one Datasette instance under a key provider.

    ``status`` is "starting" (first attempt not finished), "available" (the
    data keys are in the keyring), "unavailable" (retrying; ``problem`` says
    why) or "local" (``encryption_key`` is configured: the provider is only
    for the commands). ``installed`` are callbacks called with the keys each
    time keys are installed (the State forgets its cache; core remembers the
    key texts no secret may resolve to).
    """

    def __init__(self, provider, keyring, db, held_keys=(), clock=None):
        self.provider = provider
        self.keyring = keyring
        self._db = db  # a function returning the database (None once it is gone)
        self.clock = clock or default_clock()
        # encryption_key, then previous_encryption_keys; without encryption_key the
        # previous keys are held back (held_keys) until the data keys come first.
        self.configured = list(keyring.keys) or list(held_keys)
        self.local = keyring.primary is not None
        self.status = "local" if self.local else "starting"
        self.problem = None  # the last failure's message (no credential), or None
        self.denied = False  # the provider answered and refused (not merely unreachable)
        self.last_unwrap = None  # UTC text of the last successful unwrap
        self.last_attempt = None  # UTC text of the last attempt
        self.failures = 0  # attempts failed in a row
        self.retry_in = None  # seconds until the next retry, after a failure
        self.wrapped = []  # the WrappedKeys as last read
        self.installed = []
        self._first = None  # the startup check, which start()'s concurrent callers share
        self._attempted = None  # done when the first attempt is (True: the keys are in)
        self._task = None

    @property
    def current_key_id(self):
        """The key id of the current data key as stored, or None."""
        return next((row.key_id for row in self.wrapped if row.current), None)

    def describe(self):
        """The provider and its key, as text for pages and messages."""
        return describe(self.provider)

    # --- startup, retries and the watch ---

    async def start(self):
        """Called once per process after the migrations (concurrent callers share it).

        Reads the stored wrapped keys (a refusal to start is a ConfigError),
        then gives the first unwrap at most STARTUP_WAIT seconds; it goes on
        in the background if it takes longer, retrying after a failure.
        """
        if self._first is None:
            self._first = asyncio.ensure_future(self._check())
        await asyncio.shield(self._first)
        if self.local:
            return
        if self._task is None:
            self._attempted = asyncio.get_running_loop().create_future()
            self._task = asyncio.ensure_future(self._run())
        try:
            await asyncio.wait_for(asyncio.shield(self._attempted), STARTUP_WAIT)
        except asyncio.TimeoutError:
            pass  # Datasette starts; the attempt goes on, and get_secret says the key is not available

    async def _check(self):
        db = self._db()
        self.wrapped = await store_wrapped.wrapped_keys(db)
        current = self.current_key_id
        if self.local:
            primary = self.keyring.primary.id
            if current is not None and current != primary:
                raise KeyMismatch(
                    f"{PLUGIN}: encryption_key (key id {primary}) is not the data key stored wrapped by the "
                    f"key_provider (key id {current}). Remove encryption_key to use the wrapped data key, or "
                    "remove key_provider to use encryption_key; values stored under the other key will not read"
                )
            return
        if not self.wrapped:
            fits, anything = await store_keys.key_fits(db, [key.id for key in self.configured])
            if anything and not fits:
                counts = await store_keys.count_by_key(db)
                for key_id, count in (await store_personal.count_by_key(db)).items():
                    counts[key_id] = counts.get(key_id, 0) + count
                ids = ", ".join(sorted(counts))
                raise ConfigError(
                    f"{PLUGIN}: a key_provider is configured but no data key is stored wrapped, while values "
                    f"are stored under key id {ids}. A new data key would read none of them: configure their "
                    "key as encryption_key too and run 'datasette secrets wrap-key', then remove encryption_key"
                )

    async def _run(self):
        """Attempt until the keys are in, backing off; then watch for new ones."""
        delay = FIRST_RETRY
        while True:
            done = await self.attempt()
            if not self._attempted.done():
                self._attempted.set_result(done)
            if done:
                break
            self.retry_in = delay
            await self.clock.sleep(delay)
            delay = min(delay * 2, MAX_RETRY)
        self.retry_in = None
        while True:
            await self.clock.sleep(WATCH_EVERY)
            if self._db() is None:
                return  # Datasette let the database go
            await self.attempt(watching=True)

    async def attempt(self, watching=False):
        """One attempt at unwrapping what the keyring lacks; True when it has them all.

        Never raises: a failure is recorded (``status``, ``problem``) and logged,
        naming the provider and its key, never a credential.
        """
        self.last_attempt = _utc_now()
        try:
            await asyncio.wait_for(self._unlock(), ATTEMPT_TIMEOUT)
        except KeyProviderError as e:
            self._failed(str(e), e.denied, watching)
        except asyncio.TimeoutError:
            self._failed(f"{self.describe()}: no answer within {ATTEMPT_TIMEOUT:g} s", False, watching)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # a plugin's provider, or the database: its type only (a message may quote a token)
            self._failed(f"{self.describe()}: failed ({type(e).__name__})", False, watching)
        else:
            self.problem, self.denied, self.failures = None, False, 0
            self.status = "available"
            return True
        return False

    def _failed(self, message, denied, watching):
        self.failures += 1
        if message != self.problem:
            log.warning("%s: the data key could not be unwrapped: %s", PLUGIN, message)
        self.problem, self.denied = message, denied
        if self.keyring.primary is None:
            self.status = "unavailable"
            self.keyring.unavailable = f"{message}. Retrying in the background"

    async def _unlock(self):
        """Read the wrapped keys (making the first one on a site's first start),
        unwrap those not in the keyring, and install them."""
        db = self._db()
        rows = await store_wrapped.wrapped_keys(db)
        made = {}
        if not rows:
            key = Key(generate_key())
            row = await self._wrapped_row(key)
            rows = await store_wrapped.add_first(db, row)
            made[key.id] = key  # used only if ours is the one stored
        self.wrapped = rows
        have = {key.id: key for key in self.keyring.keys}
        primary = self.keyring.primary
        if rows and primary is not None and primary.id == rows[0].key_id and all(row.key_id in have for row in rows):
            return  # nothing new (the watch's usual answer): no provider call
        keys = []
        for row in rows:
            key = have.get(row.key_id) or made.get(row.key_id)
            if key is None:
                key = await self._unwrap(row)
                self.last_unwrap = _utc_now()
            keys.append(key)
        self._install(keys)

    def _install(self, data_keys):
        """The data keys (current first), then previous_encryption_keys not among them."""
        ids = {key.id for key in data_keys}
        keys = list(data_keys) + [key for key in self.configured if key.id not in ids]
        self.keyring.install(keys)
        for callback in self.installed:
            callback(keys)

    async def _wrapped_row(self, key):
        """A new row for ``key``: wrapped by the provider, bound to its key id."""
        wrapped = await self.provider.wrap(key.text.encode("ascii"), context_for(key.id))
        return self._row(key.id, wrapped)

    def _row(self, key_id, wrapped):
        facts = self.provider.describe()
        return {
            "key_id": key_id,
            "wrapped": wrapped,
            "provider": self.provider.name,
            "provider_key": facts.get("key"),
            "provider_version": _version(self.provider, wrapped),
        }

    async def _unwrap(self, row):
        """The Key a stored row wraps; its id must be the row's (a wrapped key
        moved to another row is refused, whatever the provider checked)."""
        if row.provider != self.provider.name:
            raise KeyProviderError(
                f"data key {row.key_id} was wrapped by {row.provider}, not by the configured {self.provider.name}",
                denied=True,
            )
        plaintext = await self.provider.unwrap(row.wrapped, context_for(row.key_id))
        try:
            key = Key(bytes(plaintext).decode("ascii"))
        except (UnicodeDecodeError, ValueError, TypeError):
            key = None
        if key is None or key.id != row.key_id:
            raise KeyProviderError(
                f"{self.describe()}: the data key stored for key id {row.key_id} unwraps to something else: refused",
                denied=True,
            )
        return key

    def close(self):
        if self._task is not None:
            self._task.cancel()
            self._task = None

    # --- the commands: wrap-key, rotate-key --new-data-key, rewrap-key, unwrap-key ---

    async def wrap_configured(self):
        """Store the wrapped form of each configured key not stored yet (the
        current one marked current); no value is re-encrypted. Returns
        [(key id, whether it was wrapped now)]."""
        db = self._db()
        stored = {row.key_id for row in await store_wrapped.wrapped_keys(db)}
        done = []
        for key in self.configured:
            if key.id in stored:
                done.append((key.id, False))
                continue
            row = await self._wrapped_row(key)
            current = key is self.keyring.primary
            which = "current key (encryption_key)" if current else "previous key"
            await store_wrapped.add(db, row, current, "wrap-key", f"wrapped the {which} {key.id}")
            done.append((key.id, True))
        self.wrapped = await store_wrapped.wrapped_keys(db)
        return done

    async def new_data_key(self):
        """Make a new data key, store it wrapped as the current one and install
        it (the old ones stay, to decrypt until a rotation re-encrypts). Returns it."""
        db = self._db()
        key = Key(generate_key())
        row = await self._wrapped_row(key)
        await store_wrapped.add(db, row, True, "new-data-key", f"made data key {key.id}, now current")
        self.wrapped = await store_wrapped.wrapped_keys(db)
        self._install([key] + [k for k in self.keyring.keys if k.id != key.id and k.id in {r.key_id for r in self.wrapped}])
        return key

    async def rewrap_all(self):
        """Rewrap every stored data key under the provider's newest key version
        (its ``rewrap``: the key never leaves the provider; without one, unwrap
        and wrap). Returns ([(key id, old version, new version)], key ids changed meanwhile)."""
        db = self._db()
        rows = await store_wrapped.wrapped_keys(db)
        rewraps, done = [], []
        for row in rows:
            context = context_for(row.key_id)
            if hasattr(self.provider, "rewrap"):
                new = await self.provider.rewrap(row.wrapped, context)
            else:
                key = await self._unwrap(row)
                new = await self.provider.wrap(key.text.encode("ascii"), context)
            version = _version(self.provider, new)
            rewraps.append({"key_id": row.key_id, "old": row.wrapped, "new": new, "provider_version": version})
            done.append((row.key_id, row.provider_version, version))
        detail = "rewrapped " + ", ".join(f"{key_id} (version {old} to {new})" for key_id, old, new in done)
        left = await store_wrapped.rewrap(db, rewraps, detail) if rewraps else []
        self.wrapped = await store_wrapped.wrapped_keys(db)
        return done, left

    async def unwrapped(self, key_id=None):
        """The Key stored wrapped under ``key_id`` (default: the current one),
        unwrapped now by the provider; None when no such key is stored."""
        db = self._db()
        rows = await store_wrapped.wrapped_keys(db)
        row = next((r for r in rows if (r.key_id == key_id if key_id else r.current)), None)
        if row is None:
            return None
        key = await self._unwrap(row)
        await store_wrapped.record(db, "unwrap-key", f"data key {row.key_id} written to a file by the command line")
        return key


def _version(provider, wrapped):
    version = getattr(provider, "version", None)
    return version(wrapped) if version is not None else None


STATUS_WORDS = {
    "starting": "unwrapping the data key",
    "available": "available",
    "unavailable": "unavailable",
    "local": "used by the commands only (encryption_key is configured)",
}


def key_source(settings, envelope):
    """Where the key comes from, for the key panel and ``datasette secrets list``:
    a dict of ``source`` ("configuration", "provider" or None), ``key_id``, and
    under a provider ``provider`` (its description), ``provider_key``,
    ``provider_version``, ``wrapped_at``, ``last_unwrap``, ``status`` and
    ``problem``. Never a key or a credential."""
    primary = settings.keyring.primary
    facts = {"source": None, "key_id": primary.id if primary is not None else None}
    if envelope is None:
        facts["source"] = "configuration" if primary is not None else None
        return facts
    current = next((row for row in envelope.wrapped if row.current), None)
    facts.update(
        source="configuration" if envelope.local else "provider",
        provider=envelope.describe(),
        provider_key=current.provider_key if current else None,
        provider_version=current.provider_version if current else None,
        wrapped_at=current.wrapped_at if current else None,
        wrapped_key_id=current.key_id if current else None,
        wrapped_count=len(envelope.wrapped),
        last_unwrap=envelope.last_unwrap,
        status=envelope.status,
        status_text=STATUS_WORDS[envelope.status],
        problem=envelope.problem,
        retry_in=envelope.retry_in,
    )
    return facts


def source_line(facts):
    """``key_source``'s answer as one line of text."""
    if facts["source"] is None and "provider" not in facts:
        return "Encryption key: none is configured."
    if "provider" not in facts:
        return f"Encryption key: from the configuration (encryption_key), key id {facts['key_id']}."
    if facts["source"] == "configuration":
        wrapped = (
            f"stored wrapped too (key id {facts['wrapped_key_id']})"
            if facts["wrapped_key_id"]
            else "not stored wrapped yet: run 'datasette secrets wrap-key'"
        )
        return (
            f"Encryption key: from the configuration (encryption_key), key id {facts['key_id']}; "
            f"key_provider {facts['provider']}: {wrapped}."
        )
    parts = [f"Encryption key: data key {facts['wrapped_key_id'] or '(none yet)'}, wrapped by {facts['provider']}"]
    if facts["provider_version"]:
        parts.append(f"key version {facts['provider_version']}")
    if facts["wrapped_at"]:
        parts.append(f"wrapped {facts['wrapped_at']} UTC")
    parts.append(f"last unwrapped {facts['last_unwrap'] + ' UTC' if facts['last_unwrap'] else 'never by this process'}")
    status = f"provider status: {facts['status_text']}"
    if facts["problem"]:
        status += f" ({facts['problem']})"
    parts.append(status)
    return "; ".join(parts) + "."
