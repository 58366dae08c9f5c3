"""The hot path and the changes: ``get_secret``, and every change an admin makes.

The plugin-author API (``get_secret``) and the admin views' changes (save,
restore, delete, reveal) come here; this module turns them into store
and crypto calls. The list's read model (entries, statuses) is ``model``;
who may do what is ``rules``; Test (a plugin's check of a value) is ``checks``.
"""

import logging
import os
import re

from datasette.utils.asgi import BadRequest

from . import store
from .config import ConfigError, read_settings
from .files import FILE_SUFFIX
from .events import (
    DeleteSecretEvent,
    RevealSecretEvent,
    SetSecretEvent,
    UpdateSecretNoteEvent,
)
from .cache import UNKNOWN
from .crypto import SecretKeyUnavailableError
from .grants import Scopes, watch_internal
from .state import STATES, State, remember

log = logging.getLogger("datasette_secrets")

ENV_PREFIX = "DATASETTE_SECRETS_"
MAX_NOTE_LENGTH = 200
MAX_VALUE_LENGTH = 16_384
LINE_BREAK = re.compile(r"\r\n?|\n")


def env_var(name):
    return ENV_PREFIX + name


def _environment_reader():
    """A function that does what ``os.environ.get`` does, faster for a missing name.

    For a name that is not set, ``os.environ.get`` raises and catches two
    KeyErrors, the largest cost of a ``get_secret`` call for a stored secret.
    CPython's ``os.environ`` keeps every variable in its ``_data`` dict (encoded
    by its own ``encodekey``/``decodevalue``) and updates that same dict on
    every change, so a lookup there gives the same answer. Where that is not
    so, this is plain ``os.environ.get``.
    """
    environ = os.environ
    data = getattr(environ, "_data", None)
    encode = getattr(environ, "encodekey", None)
    decode = getattr(environ, "decodevalue", None)
    if not (isinstance(data, dict) and callable(encode) and callable(decode)):
        return environ.get

    def read(key):
        value = data.get(encode(key))
        return None if value is None else decode(value)

    return read


read_environment = _environment_reader()


# The texts of every encryption key configured in this process (see ready()): no
# secret ever resolves to one, whatever its name or variable. A plugin that
# registers ENCRYPTION_KEY must not be handed DATASETTE_SECRETS_ENCRYPTION_KEY,
# the variable the key is usually kept in.
KEY_TEXTS = set()


def is_key(value):
    """Whether ``value`` is a configured encryption key (give it to no one)."""
    return value in KEY_TEXTS or value.strip() in KEY_TEXTS


def env_value(name):
    """The non-empty value of the secret's environment variable, or None
    (None too when it holds an encryption key)."""
    value = read_environment(ENV_PREFIX + name)
    if not value or is_key(value):
        return None
    return value


def file_path(name, registered):
    """The path in ``DATASETTE_SECRETS_<NAME>_FILE``, or None: not set, or a
    registered secret named ``<NAME>_FILE`` owns that variable (as its value)."""
    path = read_environment(ENV_PREFIX + name + FILE_SUFFIX)
    if not path or name + FILE_SUFFIX in registered:
        return None
    return path


def file_value(files, name, path):
    """The value in the file at ``path`` for ``name``, or None when it holds an
    encryption key. Raises SecretFileError when it cannot be read."""
    value = files.read(name, path)
    return None if is_key(value) else value


def database(datasette, settings):
    """The database that holds the secrets table."""
    if settings.database is None:
        return datasette.get_internal_database()
    if settings.database not in datasette.databases:
        raise ConfigError(
            f"datasette-secrets: the configured database {settings.database!r} "
            "is not attached to this Datasette"
        )
    db = datasette.get_database(settings.database)
    if not db.is_mutable:
        raise ConfigError(
            f"datasette-secrets: the configured database {settings.database!r} "
            "is immutable; secrets need a database Datasette can write to"
        )
    return db


async def ready(datasette):
    """The instance's State, built once, with the tables created."""
    state = STATES.get(id(datasette))
    if state is None:
        settings = read_settings(datasette)
        KEY_TEXTS.update(key.text for key in settings.keyring.keys)
        state = remember(datasette, State(settings, database(datasette, settings)))
        if state.envelope is not None:  # an unwrapped data key resolves to no secret either
            state.envelope.installed.append(lambda keys: KEY_TEXTS.update(key.text for key in keys))
        state.scopes = Scopes(watch_internal(datasette, state.now))  # per-secret grants (grants.py)
    if not state.migrated:
        await state.migrate()
    return state


async def get_secret(datasette, name, actor_id=None):
    """The value of the secret ``name``, or None.

    For a personal secret (``Secret(..., personal=True)``) and an ``actor_id``,
    that actor's own value comes first, when they stored one. Then the
    environment variable ``DATASETTE_SECRETS_<NAME>`` wins when it is set and
    not empty; otherwise the newest stored (shared) version is decrypted.
    Without an ``actor_id`` no personal value is ever returned. Either way the
    use (when, and by ``actor_id``) is recorded for the name, in memory, and
    written within a second. Names no plugin registered return None.

    Raises ``SecretDecryptionError`` when a stored value cannot be decrypted by
    any configured key, or was tampered with: a wrong value is never returned.
    With stored values but no key configured it returns None and logs a warning.

    After the variable, before the stored value: ``DATASETTE_SECRETS_<NAME>_FILE``,
    the path of a file whose contents are the value (one trailing line break
    removed; a changed file is read again within a second). Raises
    ``SecretFileError`` when that file cannot be read (missing, unreadable,
    empty, not UTF-8): the stored value is not returned instead.

    Cheap enough for every request: see ``cache`` for what is cached and why.
    """
    state = STATES.get(id(datasette))
    if state is None or not state.migrated:
        state = await ready(datasette)
    registered = state.registry.current()
    if registered is None:
        registered = await state.registry.collect(datasette)
    registration = registered.get(name)
    if registration is None:
        return None
    if registration.secret.personal and actor_id is not None:
        value = await _own_value(state, name, str(actor_id))
        if value is not None:
            return value
    value = read_environment(ENV_PREFIX + name)
    if value and not is_key(value):
        state.usage.record(name, actor_id, None)
        return value
    path = read_environment(ENV_PREFIX + name + FILE_SUFFIX)
    if path and name + FILE_SUFFIX not in registered:  # file_path's rule, inline: this is the hot path
        value = file_value(state.files, name, path)
        if value is not None:
            state.usage.record(name, actor_id, None)
            return value
    current = state.cache.cached(name)
    if current is UNKNOWN:
        current = await state.cache.load(name)
    value = _opened(state, current, name)
    if value is not None:
        state.usage.record(name, actor_id, current.version)
    return value


async def _own_value(state, name, owner):
    """``owner``'s own value of the personal secret ``name`` (use recorded), or None:
    the shared value's path, with the owner (cached and vetted alike)."""
    current = state.cache.cached(name, owner)
    if current is UNKNOWN:
        current = await state.cache.load(name, owner)
    value = _opened(state, current, name)
    if value is not None:
        state.usage.record_own(name, owner, current.version)
    return value


def _opened(state, current, name):
    """The value of a cached ciphertext (a cache.Current) of ``name``; None when
    nothing is stored, no key is configured, or the value is an encryption key.
    Raises SecretDecryptionError (SecretTamperedError for a refused version;
    SecretKeyUnavailableError, at once, while a key provider's data key is not
    unwrapped)."""
    if current is None:
        return None
    if current.open is None:
        if state.envelope is not None:
            raise SecretKeyUnavailableError(name, state.envelope.current_key_id, state.settings.missing_key)
        _warn_no_key(state)
        return None
    value = current.open()
    return None if is_key(value) else value


async def flush_usage(datasette):
    """Write the buffered "last used" records now, instead of within a second.

    For tests, and for code that stops Datasette some other way than its own
    shutdown (which flushes by itself).
    """
    state = STATES.get(id(datasette))
    if state is not None:
        await state.usage.flush()


def _warn_no_key(state):
    if not state.warned_no_key:
        state.warned_no_key = True
        log.warning(
            "datasette-secrets: secrets are stored but no encryption_key is "
            "configured, so get_secret() returns None for them"
        )


class Conflict(BadRequest):
    """The request is well formed, but the secret's state does not allow it
    (often: another change got there first). Shown as a 409 with the message."""

    status = 409


def clean_value(text):
    """A submitted value as it is stored: leading and trailing whitespace removed
    (pasted keys often end with a newline), every line break made LF (a browser's
    textarea sends CRLF), and everything else kept exactly."""
    return LINE_BREAK.sub("\n", text).strip()


def _sealer(keyring, name, value):
    """``seal(number)`` for store.add_version: ``value`` encrypted for the version it gets."""
    return lambda number: keyring.encrypt(name, number, value)


def value_too_long(value):
    """The message for a value over MAX_VALUE_LENGTH, or None: one limit, one wording."""
    if len(value) > MAX_VALUE_LENGTH:
        return f"The value is too long: at most {MAX_VALUE_LENGTH:,} characters."
    return None


def validate(entry, value, note):
    """{field: message} for what is wrong with a submitted value and note."""
    errors = {}
    if not value and not entry.is_set:
        errors["secret"] = "Enter a value: this secret has no stored value yet."
    elif too_long := value_too_long(value):
        errors["secret"] = too_long
    if len(note) > MAX_NOTE_LENGTH:
        errors["note"] = f"The note is too long: at most {MAX_NOTE_LENGTH} characters (it has {len(note)})."
    return errors


async def save(datasette, state, entry, value, note, actor, detail=None):
    """Store ``value`` as a new version, or with no value change only the note.

    ``detail`` is recorded in a new version's audit row: where the change
    came from when not the admin page (e.g. "command line").
    Returns (new version number or None, whether the note changed).
    """
    actor_id = actor_id_of(actor)
    if value:
        try:
            number = await store.add_version(
                state.db, entry.name, _sealer(state.settings.keyring, entry.name, value),
                note, actor_id, detail=detail,
            )
        finally:
            state.changed(entry.name)
        await datasette.track_event(SetSecretEvent(actor=actor, secret_name=entry.name, version=number))
        return number, True
    try:
        changed = await store.update_note(state.db, entry.name, note, actor_id)
    finally:
        state.changed(entry.name)
    if changed == store.GONE:
        raise Conflict(f"{entry.name} was deleted meanwhile, so its note was not changed")
    if changed == store.UNCHANGED:
        return None, False
    await datasette.track_event(UpdateSecretNoteEvent(actor=actor, secret_name=entry.name, version=changed))
    return None, True


async def save_many(datasette, state, changes, actor, detail=None):
    """Store new values of several secrets in ONE transaction: all, or none.

    ``changes`` are (name, value, note, expected) tuples: ``expected`` is the
    live version number the caller compared against (None: nothing live).
    Each version, audit row and ``set-secret`` event is what ``save`` makes;
    the events go after the commit. Returns {name: new version number}.
    Raises Conflict, storing nothing, if any of them changed meanwhile.
    """
    keyring = state.settings.keyring
    versions = [
        (name, _sealer(keyring, name, value), note, expected) for name, value, note, expected in changes
    ]
    try:
        numbers, moved = await store.add_versions(state.db, versions, actor_id_of(actor), detail=detail)
    finally:
        for name, *_ in changes:
            state.changed(name)
    if moved:
        raise Conflict(f"Changed meanwhile: {', '.join(moved)}. Nothing was stored")
    for name, number in numbers.items():
        await datasette.track_event(SetSecretEvent(actor=actor, secret_name=name, version=number))
    return numbers


async def restore(datasette, state, name, version_number, actor):
    """Store an earlier version's value again as the newest version.

    Returns the new version number, or None if there is no such version.
    Raises SecretDecryptionError if the old version cannot be decrypted.
    """
    keyring = state.settings.keyring
    old = await store.version(state.db, name, version_number)
    if old is None:
        return None
    value = keyring.decrypt(name, old.version, old.key_id, old.encrypted)
    actor_id = actor_id_of(actor)
    try:
        number = await store.add_version(
            state.db, name, _sealer(keyring, name, value), old.note, actor_id,
            action="restore", detail=f"from version {version_number}",
        )
    finally:
        state.changed(name)
    await datasette.track_event(SetSecretEvent(actor=actor, secret_name=name, version=number))
    return number


async def delete(datasette, state, name, actor, detail=None):
    """Mark every live version of ``name`` deleted; ``detail`` goes in the audit row."""
    try:
        deleted = await store.soft_delete(state.db, name, actor_id_of(actor), detail)
    finally:
        state.changed(name)
    if not deleted:
        raise Conflict(f"{name} was already deleted")
    await datasette.track_event(DeleteSecretEvent(actor=actor, secret_name=name))


async def reveal(datasette, state, name, actor, detail=None):
    """(version, value) of the current stored value, with the reveal recorded
    (``detail`` in its audit row: a copy to the clipboard says so).

    Raises Conflict if it was deleted meanwhile, SecretDecryptionError if it
    cannot be decrypted (and then records nothing).
    """
    decrypt = await vetted_decrypt(state, name)
    found = await store.reveal(state.db, name, actor_id_of(actor), decrypt, detail)
    if found == store.GONE:
        raise Conflict(f"{name} has no stored value any more: it was deleted meanwhile")
    version, value = found
    await datasette.track_event(RevealSecretEvent(actor=actor, secret_name=name, version=version))
    return version, value


async def vetted_decrypt(state, name, owner=None):
    """``decrypt(stored)`` for a live version of ``name`` (``owner``'s own value,
    or the shared one) read inside a reveal's transaction: it raises the
    SecretTamperedError the cache would (a rollback, a planted row) before
    decrypting, so a reveal refuses what ``get_secret`` refuses."""
    keyring = state.settings.keyring
    if state.cache.cached(name, owner) is UNKNOWN:
        await state.cache.load(name, owner)  # the cache learns what to refuse when it loads

    def decrypt(stored):
        refused = state.cache.refusal(name, stored.version, stored.key_id, stored.encrypted, owner)
        if refused is not None:
            raise refused
        return keyring.decrypt(name, stored.version, stored.key_id, stored.encrypted, owner)

    return decrypt


def actor_id_of(actor):
    return str(actor["id"]) if actor and actor.get("id") is not None else None
