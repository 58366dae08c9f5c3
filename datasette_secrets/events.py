"""Events sent to Datasette's ``track_event`` hook. Values are never included."""

from dataclasses import dataclass

from datasette.events import Event


@dataclass
class SetSecretEvent(Event):
    """Event name: ``set-secret``. A new version of a secret was stored."""

    name = "set-secret"
    secret_name: str
    version: int


@dataclass
class DeleteSecretEvent(Event):
    """Event name: ``delete-secret``. A secret's stored versions were deleted."""

    name = "delete-secret"
    secret_name: str


@dataclass
class RevealSecretEvent(Event):
    """Event name: ``reveal-secret``. An admin revealed a stored value."""

    name = "reveal-secret"
    secret_name: str
    version: int


@dataclass
class UpdateSecretNoteEvent(Event):
    """Event name: ``update-secret-note``. The note of a secret's current version changed."""

    name = "update-secret-note"
    secret_name: str
    version: int


@dataclass
class CheckSecretEvent(Event):
    """Event name: ``check-secret``. An admin ran a plugin's check of a value (``ok``: it passed)."""

    name = "check-secret"
    secret_name: str
    version: int | None  # None: the value came from an environment variable
    ok: bool


@dataclass
class RotateKeysEvent(Event):
    """Event name: ``rotate-keys``. Stored versions were re-encrypted under the current key.

    ``rotated`` versions now use the key with id ``key_id``; ``failed`` could
    not be decrypted by any configured key and were left as they were.
    """

    name = "rotate-keys"
    rotated: int
    key_id: str
    failed: int


@dataclass
class SetOwnSecretEvent(Event):
    """Event name: ``set-own-secret``. An actor stored a value of their own for a personal secret."""

    name = "set-own-secret"
    secret_name: str
    version: int


@dataclass
class DeleteOwnSecretEvent(Event):
    """Event name: ``delete-own-secret``. The own value of ``owner_id`` was deleted
    (by that actor, or by an admin: the event's actor says who)."""

    name = "delete-own-secret"
    secret_name: str
    owner_id: str


@dataclass
class RevealOwnSecretEvent(Event):
    """Event name: ``reveal-own-secret``. An actor revealed (or copied) their own value."""

    name = "reveal-own-secret"
    secret_name: str
    version: int


EVENTS = [
    SetSecretEvent,
    UpdateSecretNoteEvent,
    DeleteSecretEvent,
    RevealSecretEvent,
    CheckSecretEvent,
    RotateKeysEvent,
    SetOwnSecretEvent,
    DeleteOwnSecretEvent,
    RevealOwnSecretEvent,
]
