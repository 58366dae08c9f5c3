"""Actors' own values of personal secrets: what "My secrets" shows, and the
changes made to them (set, delete, reveal, Test), by their owner or, for a
delete, by an admin.

Only the owner may reveal, copy or test their own value (``rules.allowed_own``
decides); an admin learns only that one exists. Each value is encrypted
bound to the secret's name, the owner's id and its version (``crypto``), so a
row moved to another actor fails to decrypt. An own value is read, cached
and vetted for tampering by the shared value's code, with the owner as a
parameter (``cache``, ``core.vetted_decrypt``). Each change is one transaction
with its audit row (``store_personal``), forgets the cached ciphertext at
once, and sends an event.
"""

from dataclasses import dataclass
from urllib.parse import quote

from . import model, store, store_personal
from .checks import run_check
from .core import Conflict, actor_id_of, is_key, vetted_decrypt
from .crypto import SecretDecryptionError
from .events import DeleteOwnSecretEvent, RevealOwnSecretEvent, SetOwnSecretEvent
from .registry import Registration


# How much of own values is kept: every signed-in actor may write them (the
# README's Personal secrets states each number; state.py has the rate of changes).
LIMITS = store_personal.Limits(
    versions=20, deleted_days=30, site_versions=10_000, site_bytes=64 * 1024 * 1024
)


class OwnValuesFull(Conflict):
    """A save refused, nothing stored: the site's own values are at ``LIMITS``."""


def full_message():
    """What an actor is told when the site's own values are full."""
    return (
        f"Nothing was saved: this site's own values are full (at most {LIMITS.site_versions:,} "
        f"versions and {LIMITS.site_bytes // (1024 * 1024)} MiB in all, a deleted value's counted "
        f"for {LIMITS.deleted_days} days). Try again later, or tell an admin."
    )


@dataclass
class OwnEntry:
    """A personal secret as its owner sees it on My secrets."""

    registration: Registration
    owner: str
    row: dict | None  # the owner's newest live version (version, created_at, last_used_at), or None

    @property
    def name(self):
        return self.registration.secret.name

    @property
    def secret(self):
        return self.registration.secret

    @property
    def slug(self):
        return quote(self.name, safe="")  # registered names are letters, digits and _

    key = slug

    @property
    def is_set(self):
        return self.row is not None

    @property
    def source(self):
        """As model.Entry.source: "own" when the owner keeps a value, else None."""
        return "own" if self.is_set else None

    @property
    def obtain_url(self):
        return model.safe_link(self.secret.obtain_url)

    @property
    def version(self):
        return self.row["version"] if self.row else None


def personal_names(registered):
    """The registered personal secrets' names, sorted."""
    return sorted(name for name, registration in registered.items() if registration.secret.personal)


async def entries(datasette, state, owner):
    """An OwnEntry for every registered personal secret, for ``owner``."""
    registered = await state.registry.get(datasette)
    mine = await store_personal.mine(state.db, owner)
    return [OwnEntry(registered[name], owner, mine.get(name)) for name in personal_names(registered)]


async def entry(datasette, state, name, owner):
    """``owner``'s OwnEntry for ``name``; None unless a plugin registers it as personal."""
    registration = (await state.registry.get(datasette)).get(name)
    if registration is None or not registration.secret.personal:
        return None
    current = await store_personal.mine(state.db, owner)
    return OwnEntry(registration, owner, current.get(name))


async def save(datasette, state, name, owner, value, actor):
    """Store ``value`` as a new version of ``owner``'s own value; its number.
    Raises OwnValuesFull, storing nothing, when the site's own values are full."""
    keyring = state.settings.keyring

    def seal(number):
        return keyring.encrypt(name, number, value, owner)

    try:
        number = await store_personal.add_version(
            state.db, name, owner, seal, actor_id_of(actor), limits=LIMITS
        )
    finally:
        state.changed(name, owner)
    if number is None:
        raise OwnValuesFull(full_message())
    await datasette.track_event(SetOwnSecretEvent(actor=actor, secret_name=name, version=number))
    return number


async def delete(datasette, state, name, owner, actor, detail=None):
    """Mark every live version of ``owner``'s own value deleted (by the owner, or an admin)."""
    try:
        deleted = await store_personal.soft_delete(
            state.db, name, owner, actor_id_of(actor), detail, limits=LIMITS
        )
    finally:
        state.changed(name, owner)
    if not deleted:
        raise Conflict(f"There is no value of {owner}'s own for {name} to delete (deleted meanwhile?)")
    await datasette.track_event(DeleteOwnSecretEvent(actor=actor, secret_name=name, owner_id=owner))


async def reveal(datasette, state, name, owner, detail=None):
    """(version, value) of ``owner``'s own value, the reveal audited; only the owner asks.

    Vetted as a shared value's reveal is (``core.vetted_decrypt``): a version
    the cache refuses (a rollback, a planted row) is a Conflict, never shown."""
    try:
        decrypt = await vetted_decrypt(state, name, owner)
        found = await store.reveal(state.db, name, owner, decrypt, detail, owner=owner)
    except SecretDecryptionError as e:
        raise Conflict(str(e))
    if found == store.GONE:
        raise Conflict(f"You have no value of your own for {name} any more")
    version, value = found
    if is_key(value):
        raise Conflict(f"{name} holds a configured encryption key, which is never revealed")
    await datasette.track_event(
        RevealOwnSecretEvent(actor={"id": owner}, secret_name=name, version=version)
    )
    return version, value


async def check(datasette, state, entry):
    """Run the plugin's check on the owner's own value: a scrubbed CheckResult.

    Audited without its outcome: the audit log is for admins, who may learn
    that a value exists, nothing about it. The value is read through the
    cache, as get_secret's is, so a version it refuses is never tested."""
    current = await state.cache.load(entry.name, entry.owner)
    if current is None:
        raise Conflict(f"You have no value of your own for {entry.name} to test")
    if current.open is None:
        raise Conflict(f"{entry.name} cannot be tested: {state.settings.missing_key[:1].lower()}{state.settings.missing_key[1:]}")
    try:
        value = current.open()
    except SecretDecryptionError as e:
        raise Conflict(f"{entry.name} cannot be tested: {e}")
    if is_key(value):
        raise Conflict(f"{entry.name} holds a configured encryption key, which is never tested")
    result = await run_check(datasette, entry.secret.check, value)
    await store_personal.record_check(state.db, entry.name, current.version, entry.owner)
    return result


async def owners(state):
    """{name: [actor ids with a live value of their own]}: for admins (who, never what)."""
    return await store_personal.owners(state.db)
