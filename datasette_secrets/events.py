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


EVENTS = [SetSecretEvent, DeleteSecretEvent, RevealSecretEvent]
