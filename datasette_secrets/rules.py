"""Who may do what with each secret, and see what of it: the one place that decides.

Every view, fragment, the import page and the command line ask ``allowed``
for an actor (a ``Viewer``) and a secret's facts (a ``model.Entry``, or a
``personal.OwnEntry`` for an actor's own value), and act on its answer;
none of them decides on its own. Templates read the same answer. The rules
decide from the facts only (``model`` says what is: source, status, value),
and refuse with one type, ``Refused``, which a view answers with its status
and the command line prints as an error.

The rules, in words:

- Everything needs ``manage-secrets``: on every secret (a grant without a
  resource, as datasette.yml's ``permissions:`` gives), or on that secret (a
  per-secret grant: ``grants``). Orphans (no plugin registers them any more)
  need the grant on every secret.
- **Anything that answers a question about a value** (reveal, copy, Test, and
  whether a pasted value equals the stored one) needs ``reveal-secrets`` as
  well (on every secret, or on that one), and nobody has it in write-only
  mode (``reveal: false``). Callers rate
  limit and audit each answer. Without it an actor learns nothing about a
  value: not its last four characters, not whether it changed.
- Storing a value (a new one, a restore, a note) needs a registered name, a
  configured key, and a key that fits what is already stored. A secret set by
  its environment variable may be stored too, with a warning: the variable
  keeps precedence until it is unset (so an admin can move a secret from the
  environment into the store without a gap). The page, the import and the
  command line all give this same answer. A secret mounted as a file
  (``DATASETTE_SECRETS_<NAME>_FILE``) is treated as one set by its variable.
- Deleting needs a live stored value; an orphan (no plugin registers it any
  more) can only be deleted.
- Values from environment variables, or from files, are never revealed or copied.
- A stored value the configured keys cannot read (saved with another key, or
  damaged: ``model.Entry.unreadable``) is not revealed, copied or tested: the
  refusal says why, instead of an error from deep inside.
- **Personal secrets**: with ``manage-own-secrets`` (every signed-in actor
  unless datasette.yml says otherwise) an actor may set, replace and delete
  their own value, and (unless write-only mode) reveal, copy and test it.
  Nobody else may learn anything about it: an admin with ``manage-secrets``
  sees who has one and may delete it, root included, never more
  (``allowed_own``; ``allowed`` never offers a personal value to anyone).
"""

from dataclasses import dataclass, field

from datasette.utils.asgi import BadRequest

from . import model

from .grants import MANAGE, REVEAL, SecretResource
# Keep values of one's own for personal secrets: every signed-in actor by default.
OWN = "manage-own-secrets"

class Refused(BadRequest):
    """An action the rules do not allow here; ``status`` says how a response answers."""

    def __init__(self, message, status=409):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Viewer:
    """Who is asking. ``manage``/``reveal``: granted on every secret (``reveal``:
    may learn about values, and not write-only); ``managed``/``revealed``: the
    names of the secrets granted one by one."""

    actor: dict | None
    manage: bool
    reveal: bool
    command_line: bool = False
    managed: frozenset = frozenset()
    revealed: frozenset = frozenset()

    @property
    def actor_id(self):
        actor = self.actor
        return str(actor["id"]) if actor and actor.get("id") is not None else None

    def may_manage(self, name):
        return self.manage or name in self.managed

    def may_reveal(self, name):
        return self.reveal or name in self.revealed

    @property
    def manages_any(self):
        return self.manage or bool(self.managed)


async def viewer(datasette, state, actor, name=None, every=False):
    """The Viewer for a signed-in (or anonymous) actor of the web pages.

    For the secret ``name``: one permission query for it, which a grant on
    every secret answers too (``every``: ask about every secret as well, as
    an orphan needs). For a list: the grants on every secret, else the names
    the actor's grants cover, kept per actor (``grants.Scopes``).
    """
    settings = state.settings
    if name is None:
        names = (await model.listing(datasette, state)).names
        scope = await state.scopes.of(datasette, actor, names, settings.reveal)
        return Viewer(actor, scope.manage, scope.reveal, managed=scope.managed, revealed=scope.revealed)
    one = await datasette.allowed_many(actions=[MANAGE, REVEAL], resource=SecretResource(name), actor=actor)
    manage = every and await datasette.allowed(action=MANAGE, actor=actor)
    return Viewer(
        actor, manage, manage and settings.reveal and await datasette.allowed(action=REVEAL, actor=actor),
        managed=frozenset([name]) if one[MANAGE] else frozenset(),
        revealed=frozenset([name]) if one[REVEAL] and one[MANAGE] and settings.reveal else frozenset(),
    )


def command_line(settings):
    """The command line's Viewer: whoever runs it holds the key and the database,
    but write-only mode (``reveal: false``) holds there too."""
    return Viewer(None, manage=True, reveal=settings.reveal, command_line=True)


@dataclass(frozen=True)
class Allowed:
    """What a viewer may do with one secret, and see of it. ``why`` holds the
    refusal of each action that is not allowed (see ``require``)."""

    status: str
    manage: bool
    edit: bool
    delete: bool
    restore: bool
    reveal: bool
    test: bool
    compare: bool
    hint: bool
    warning: str | None = None
    why: dict = field(default_factory=dict, repr=False)

    def require(self, action):
        """Raise ``Refused`` unless ``action`` (a field name) is allowed."""
        if not getattr(self, action):
            message, status = self.why.get(action, ("That is not allowed here", 403))
            raise Refused(message, status)


def allowed(viewer, entry, settings, key_problem=None):
    """The Allowed of ``viewer`` for ``entry`` (a model.Entry; for a
    personal.OwnEntry, the AllowedOwn of ``allowed_own``, and only its owner
    may ask).

    ``key_problem``: a message when the configured keys decrypt none of the
    stored versions (then nothing may be stored until that is fixed).
    """
    if getattr(entry, "owner", None) is not None:
        if viewer.actor_id != entry.owner and not viewer.command_line:
            raise Refused("Only its owner may act on a value of their own", 403)
        return allowed_own(entry, settings, key_problem)
    name = entry.name
    why = {}
    status = entry.status

    if not viewer.may_manage(name) or (entry.is_orphan and not viewer.manage):
        refusal = (f"You need the {MANAGE} permission on {name} to do this", 403)
        why = dict.fromkeys(("manage", "edit", "delete", "restore", "reveal", "test", "compare"), refusal)
        return Allowed(status, False, False, False, False, False, False, False, False, why=why)

    if entry.is_orphan:
        why["edit"] = (f"No installed plugin registers {name}: it can only be deleted", 409)
    elif cannot_store := _cannot_store(settings, key_problem):
        why["edit"] = cannot_store
    edit = "edit" not in why

    if not entry.is_set:
        already = ": it is already deleted" if entry.is_deleted else ""
        why["delete"] = (f"{name} has no stored value to delete{already}", 404)
    delete = "delete" not in why

    restore = edit and entry.stored is not None
    if not restore:
        why["restore"] = why.get("edit") or (f"{name} has no stored version to restore", 404)

    learn = _may_learn(viewer, settings, name)
    if learn:
        why["reveal"] = why["compare"] = learn
    elif entry.env:
        why["reveal"] = ("Values set by environment variables are never revealed", 403)
    elif entry.from_file:
        why["reveal"] = ("Values read from files are never revealed", 403)
    elif not settings.has_key or not entry.is_set:
        why["reveal"] = (f"{name} has no stored value to reveal", 404)
    elif entry.unreadable:
        why["reveal"] = (_unreadable(entry, "revealed or copied"), 409)
    reveal = "reveal" not in why
    compare = "compare" not in why

    check = entry.secret.check if entry.secret else None
    has_value = entry.has_value and (entry.source != "store" or settings.has_key)
    if learn:
        why["test"] = learn
    elif not (check and has_value):
        why["test"] = (f"{name} has no check, or no value to check", 404)
    elif entry.source == "store" and entry.unreadable:
        why["test"] = (_unreadable(entry, "tested"), 409)
    test = "test" not in why

    # What storing a value behind the environment does: the editor says it ("Store a fallback value").
    warning = None
    if entry.env and not entry.is_orphan:
        warning = (
            f"The environment variable DATASETTE_SECRETS_{name} is set and takes precedence: "
            "plugins get its value, not a stored one, until it is unset. "
            f"What you store here is a fallback: plugins get it once DATASETTE_SECRETS_{name} is unset."
        )
    elif entry.from_file and not entry.is_orphan:
        warning = (
            f"The environment variable DATASETTE_SECRETS_{name}_FILE is set and takes precedence: "
            f"plugins get the contents of {entry.file_shown or 'the file it names'}, not a stored value, "
            "until it is unset. "
            f"What you store here is a fallback: plugins get it once DATASETTE_SECRETS_{name}_FILE is unset."
        )
    return Allowed(
        status, True, edit, delete, restore, reveal, test, compare, hint=not learn, warning=warning, why=why
    )


def _unreadable(entry, done):
    """The refusal of what would read a value that cannot be read: in words, then the details."""
    return f"The stored value of {entry.name} cannot be read ({entry.unreadable}), so it cannot be {done}. {entry.error}"


def _cannot_store(settings, key_problem):
    """Why nothing may be stored now (no key, or keys that fit nothing stored), or None."""
    if not settings.has_key:
        return (f"{settings.missing_key}, so values cannot be stored", 409)
    if key_problem:
        return (key_problem, 409)
    return None


def require_storing(settings, key_problem):
    """Raise Refused unless values may be stored now: for what stores many at
    once (an import, a rotation), as ``allowed`` answers for one secret."""
    if refusal := _cannot_store(settings, key_problem):
        raise Refused(*refusal)


def by_name(datasette, state, viewer):
    """``await allowed(name)``: the Allowed of ``viewer`` for the secret ``name``
    (its facts read without its value), or None when no such secret is listed."""

    async def allowed_for(name):
        entry = await model.entry(datasette, state, name, shown=False)
        return None if entry is None else allowed(viewer, entry, state.settings)

    return allowed_for


def _may_learn(viewer, settings, name):
    """None when the viewer may learn about ``name``'s value; else the refusal."""
    if not settings.reveal:
        return ("Revealing values is switched off (write-only mode)", 403)
    if viewer.may_reveal(name):
        return None
    return (f"You need the {REVEAL} permission to learn anything about a value", 403)


@dataclass(frozen=True)
class AllowedOwn:
    """What an actor may do with their own value of a personal secret (see ``allowed_own``)."""

    set: bool
    delete: bool
    reveal: bool
    test: bool
    why: dict = field(default_factory=dict, repr=False)

    require = Allowed.require


def allowed_own(entry, settings, key_problem=None):
    """The AllowedOwn of an owner (who has ``manage-own-secrets``) for ``entry``,
    a personal.OwnEntry of theirs. Nobody but the owner is ever asked about it."""
    name = entry.name
    why = {}
    if cannot_store := _cannot_store(settings, key_problem):
        why["set"] = cannot_store
    if not entry.is_set:
        why["delete"] = why["reveal"] = why["test"] = (f"You have no value of your own for {name}", 404)
    elif not settings.reveal:
        why["reveal"] = why["test"] = ("Revealing values is switched off (write-only mode)", 403)
    elif not settings.has_key:
        why["reveal"] = why["test"] = (f"{settings.missing_key}, so values cannot be read", 409)
    if "test" not in why and not entry.secret.check:
        why["test"] = (f"{name} has no check", 404)
    return AllowedOwn(*(action not in why for action in ("set", "delete", "reveal", "test")), why=why)
