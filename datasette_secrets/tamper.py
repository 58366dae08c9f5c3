"""Tamper detection: refusing a live version changed outside the plugin in a
way one process can tell, for shared and own values alike.

Two kinds, both refused with ``SecretTamperedError`` (a SecretDecryptionError),
never served:

- **A rollback**: a live version older than one this process already served,
  so newer rows were deleted or marked deleted outside the plugin. Known from
  the highest version served of each value, kept for the process's life.
- **A planted row**: a live version in an old format (a 0.2/0.3 Fernet token,
  or the first format, bound to the name only) when the value has versions in
  a current format, which the plugin never follows with an old one. An own
  value never had an old format, so any old-format own row is planted.

One ``Tamper`` per ``cache.Cache``, which asks it about each live version it
loads (``vet``) and answers the list page and the reveals (``refusal``). A
value is a (name, owner) pair: owner None for the shared value. What it
remembers is about the past (versions served, formats seen, rollbacks
refused), so forgetting the cache keeps it. The README's threat model says
what this catches and what it cannot.
"""

import logging

from .crypto import SecretTamperedError, old_format

log = logging.getLogger("datasette_secrets")


class Tamper:
    """What one process has learned about each value's live versions, and the
    refusals that follow from it.

    ``generation`` arguments are the cache's count of forgets: a read that
    began after this process changed a value (``changed``) may be its fix of a
    refused rollback.
    """

    def __init__(self):
        self._highest = {}  # (name, owner) -> highest live version number served
        self._bound = set()  # (name, owner) known to have a version in a current format
        self._refused = {}  # (name, owner) -> the live version last refused as a rollback
        self._changed = {}  # refused (name, owner) -> generation of this process's next change to it
        self._warned = set()  # ((name, owner), kind): a warning is logged once per value and kind

    def needs_format_query(self, stored):
        """Whether the cache must ask the database if ``stored``'s value has a
        version in a current format: only for an old-format shared row not yet
        known to be out of place (every other row settles it here)."""
        key = (stored.name, stored.owner)
        if key in self._bound:
            return False
        if stored.owner is None and old_format(stored.key_id, stored.encrypted) is not None:
            return True
        self._bound.add(key)  # a current-format row, or an own value (never an old format)
        return False

    def bound(self, name, owner=None):
        """Learned from the database: the value has a version in a current format."""
        self._bound.add((name, owner))

    def vet(self, stored, generation):
        """None to serve a freshly read live version, or the SecretTamperedError
        refusing it (logged once per value and kind). A served version raises
        the highest known."""
        key, version = (stored.name, stored.owner), stored.version
        if _lower(version, self._highest.get(key)) and not self._accepts_change(key, version, generation):
            self._refused[key] = version
            if self._changed.get(key, generation + 1) <= generation:
                del self._changed[key]  # read after that change and still rolled back: not a fix
            return self._warn(key, "rollback", self._rolled_back(key, version, stored.key_id))
        planted = self._planted(key, version, stored.key_id, stored.encrypted)
        if planted is not None:  # not served, so it does not raise the highest version
            return self._warn(key, "old format", planted)
        # Served: at least the highest, or this process's own fix of a reported
        # rollback (numbered after the rows left, so below the old highest).
        if isinstance(version, int):
            self._highest[key] = version
        self._changed.pop(key, None)  # before _refused: a reveal's thread may be reading both
        self._refused.pop(key, None)
        return None

    def refusal(self, name, version, key_id, blob, owner, generation):
        """A SecretTamperedError if this live version must not be served, else
        None: in memory only, from what ``vet`` has learned (for the list page
        and reveals, which read the live version themselves)."""
        key = (name, owner)
        if _lower(version, self._highest.get(key)) and not self._accepts_change(key, version, generation):
            return self._rolled_back(key, version, key_id)
        return self._planted(key, version, key_id, blob)

    def changed(self, name, owner, generation):
        """This process changed the value through the plugin (its forget is
        ``generation``): a refused rollback of it may be fixed by what is read next."""
        key = (name, owner)
        if key in self._refused:
            self._changed.setdefault(key, generation)

    def _accepts_change(self, key, version, generation):
        """Whether a live version below the highest is this process's own fix of a
        reported rollback: read after a change through the plugin, and newer than
        the version refused."""
        changed, refused = self._changed.get(key), self._refused.get(key)
        return changed is not None and refused is not None and changed <= generation and version > refused

    def _warn(self, key, kind, error):
        if (key, kind) not in self._warned:
            self._warned.add((key, kind))
            log.warning("datasette-secrets: %s", error)
        return error

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


def _lower(version, highest):
    """Whether a version number is below the highest served (a NULL or odd one never is)."""
    return highest is not None and isinstance(version, int) and version < highest


def _whose(owner):
    """How a refusal's message starts: nothing for a shared value, whose own value it is otherwise."""
    return "" if owner is None else f"{owner}'s own value: "


def _replace(owner):
    """What fixes a refused value."""
    return "Set a new value to replace it." if owner is not None else (
        "Set a new value or restore a version to replace it."
    )
