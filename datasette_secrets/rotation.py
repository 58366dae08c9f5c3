"""Key rotation: re-encrypting every stored version under the current key.

After an admin makes a new key current (``encryption_key``) and keeps the old
one in ``previous_encryption_keys``, ``rotate`` rewrites each stored version
that is not under the current key in the format written now (padded, 0x03):
versions under a previous key, legacy Fernet rows (key id ``default``) from
datasette-secrets 0.2/0.3, rows of this plugin's first format (0x01, bound to
the name only), unpadded rows (0x02, whose length shows their value's) even
under the current key, actors' own values, and deleted versions too, so that
History can still restore them once the old key is gone.

- Batches of ``batch_size`` versions: each is read, decrypted and re-encrypted
  (on the event loop, a batch at a time), then written in ONE transaction. A
  run stopped at any point leaves every version readable with the configured
  keys: each batch either committed, or did not.
- Each row is rewritten only if its ciphertext and key id are still what was
  read; a version changed meanwhile is left for the next run, never
  overwritten. Only the ciphertext and key id change: notes, who stored a
  version and when, and "last used" stay as they are.
- A version no configured key decrypts is reported (``Undecryptable``) and
  left byte for byte as it was.
- A second run finds nothing to do.

A real run forgets this process's cache, writes one audit row (name ``*``,
action ``rotate``) and sends a ``rotate-keys`` event. No Datasette views here;
whether the configured keys fit what is stored is ``key_fit``'s.
"""

import asyncio
import inspect
import logging
from dataclasses import dataclass, field

from . import store_keys, store_personal
from .config import PLUGIN, ConfigError
from .core import actor_id_of
from .crypto import WRITTEN, SecretDecryptionError
from .events import RotateKeysEvent
from .key_fit import count_by_key

log = logging.getLogger("datasette_secrets")

DEFAULT_BATCH_SIZE = 500


@dataclass
class Undecryptable:
    """A stored version no configured key could decrypt: left as it is."""

    id: int
    name: str
    version: int
    key_id: str
    reason: str


@dataclass
class RotationReport:
    """What a rotation found and did (or, for a dry run, would do)."""

    before: dict[str, int]  # key id -> stored versions, before
    after: dict[str, int]  # after (== before for a dry run)
    rotated: int  # versions re-encrypted (or that would be, dry run)
    failed: list  # Undecryptable: .id .name .version .key_id .reason
    dry_run: bool
    key_id: str | None = None  # the current key: every rotated version now uses it
    to_rotate: int = 0  # versions not under the current key and padded format, at the start
    changed_meanwhile: list = field(default_factory=list)  # ids left for the next run
    interrupted: bool = False  # stopped by an exception after some batches

    @property
    def complete(self):
        """True when every stored version is now (dry run: would be) under the current key."""
        return not self.failed and not self.changed_meanwhile and not self.interrupted

    def summary(self):
        """One line for the audit log, e.g. "rotated 120 versions to key abc123; 2 undecryptable"."""
        verb = "would rotate" if self.dry_run else "rotated"
        parts = [f"{verb} {self.rotated} version{'s' if self.rotated != 1 else ''} to key {self.key_id}"]
        if self.failed:
            parts.append(f"{len(self.failed)} undecryptable")
        if self.changed_meanwhile:
            parts.append(f"{len(self.changed_meanwhile)} changed meanwhile, left for the next run")
        if self.interrupted:
            parts.append("interrupted")
        return "; ".join(parts)


async def count_to_rotate(state):
    """How many stored versions are not under the current key in the padded format.

    Raises ConfigError when no encryption_key is configured.
    """
    key_id = _current_key(state).id
    return sum([
        await store_keys.count_to_rotate(state.db, key_id, WRITTEN),
        await store_personal.count_to_rotate(state.db, key_id, WRITTEN),
    ])


def _current_key(state):
    key = state.settings.keyring.primary
    if key is None:
        raise ConfigError(
            f"{PLUGIN}: no encryption_key is configured, so there is no key to rotate to"
        )
    return key


async def rotate(
    datasette, state, actor=None, *, dry_run=False, batch_size=DEFAULT_BATCH_SIZE, on_batch=None
):
    """Re-encrypt every stored version under the current key; returns a RotationReport.

    ``state`` is ``await core.ready(datasette)``. ``on_batch(done, total)``, if
    given, is called (and awaited, if it returns an awaitable) after each
    batch: ``done`` versions looked at so far of ``total`` that needed it at
    the start. With ``dry_run`` nothing is written: the report counts what a
    real run would re-encrypt, and which versions would fail.

    Raises ConfigError when no encryption_key is configured.
    """
    keyring = state.settings.keyring
    key_id = _current_key(state).id
    if batch_size < 1:
        raise ValueError("batch_size must be 1 or more")
    db = state.db
    before = await count_by_key(db)
    total = await count_to_rotate(state)
    report = RotationReport(
        before=before, after=before, rotated=0, failed=[], dry_run=dry_run,
        key_id=key_id, to_rotate=total,
    )
    try:
        await _rotate_batches(db, keyring, report, batch_size, on_batch)
    except BaseException:  # an error, or cancelled (Ctrl+C on the command line)
        report.interrupted = True
        if not dry_run and report.rotated:
            await _finish_quietly(datasette, state, report, actor)
        raise
    finally:
        if not dry_run:
            state.cache.forget()  # this process serves the rewritten rows at once
    if not dry_run:
        await _finish(datasette, state, report, actor)
    return report


async def _rotate_batches(db, keyring, report, batch_size, on_batch):
    """Shared values first, then actors' own values (their rows carry the owner)."""
    done = 0
    for table in (store_keys, store_personal):
        after = store_keys.FIRST_ID
        while True:
            batch = await table.versions_to_rotate(db, report.key_id, WRITTEN, after, batch_size)
            if not batch:
                break
            after = batch[-1].id
            done = await _rotate_batch(db, keyring, report, table, batch, done, on_batch)


async def _rotate_batch(db, keyring, report, table, batch, done, on_batch):
    """Re-encrypt one batch of ``table`` (store_keys or store_personal); the new ``done``."""
    rewrites = []
    for stored in batch:
        rewrite = _reencrypt(keyring, stored, report.failed)
        if rewrite is not None:
            rewrites.append(rewrite)
    if report.dry_run:
        report.rotated += len(rewrites)
    elif rewrites:
        await _write(db, table, rewrites, report)
    done += len(batch)
    if on_batch is not None:
        # rows added meanwhile can take done past the count made at the start
        result = on_batch(done, max(done, report.to_rotate))
        if inspect.isawaitable(result):
            await result
    return done


async def _write(db, table, rewrites, report):
    """Write one batch and count it, even when cancelled while it is written.

    Datasette's write thread finishes a batch it has started whether or not
    anyone still waits, so a cancelled run waits for it too: the report (and
    the audit row) then counts exactly what was committed.
    """
    writing = asyncio.ensure_future(table.rewrite_versions(db, rewrites))
    try:
        left = await asyncio.shield(writing)
    except asyncio.CancelledError:
        left = await writing
        _count(report, rewrites, left)
        raise
    _count(report, rewrites, left)


def _count(report, rewrites, left):
    report.rotated += len(rewrites) - len(left)
    report.changed_meanwhile.extend(left)


def _reencrypt(keyring, stored, failed):
    """The rewrite for one stored version, or None (recorded in ``failed``)."""
    owner = getattr(stored, "owner", None)  # a personal row: the actor whose own value it is
    if stored.encrypted is None:
        reason = "no ciphertext is stored"
    else:
        try:
            value = keyring.decrypt(stored.name, stored.version, stored.key_id, stored.encrypted, owner)
        except SecretDecryptionError as e:
            reason = e.reason
        except (TypeError, ValueError) as e:  # not text after decrypting, or not a ciphertext
            reason = f"unreadable ciphertext ({e.__class__.__name__})"
        else:
            new_key_id, blob = keyring.encrypt(stored.name, stored.version, value, owner)
            return {
                "id": stored.id,
                "old": stored.encrypted,
                "old_key_id": stored.key_id,
                "new": blob,
                "new_key_id": new_key_id,
            }
    name = stored.name if owner is None else f"{stored.name} (own value of {owner})"
    failed.append(Undecryptable(stored.id, name, stored.version, stored.key_id, reason))
    return None


async def _finish(datasette, state, report, actor):
    report.after = await count_by_key(state.db)
    await store_keys.record_rotation(state.db, report.summary(), actor_id_of(actor))
    await datasette.track_event(
        RotateKeysEvent(actor=actor, rotated=report.rotated, key_id=report.key_id, failed=len(report.failed))
    )


async def _finish_quietly(datasette, state, report, actor):
    """Record an interrupted run's work; a failure here must not hide why it stopped."""
    try:
        await _finish(datasette, state, report, actor)
    except Exception as e:
        log.warning("%s: could not record the interrupted key rotation: %s", PLUGIN, e)

