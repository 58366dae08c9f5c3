"""Importing a .env file: what each entry would do, shared by the admin page
and ``datasette secrets import``. Storing goes through ``core.save_many``:
one transaction, the same versions, audit rows and events as any save."""

from dataclasses import dataclass

from . import core, dotenv, store
from .crypto import SecretDecryptionError


@dataclass
class Planned:
    """What an import does with one entry of the file."""

    entry: dotenv.Entry
    # new, changed, unchanged (not stored again), store (stored, not compared:
    # the viewer may not learn whether it equals the stored value), unknown,
    # forbidden (the viewer may not manage it) or empty (not stored)
    status: str
    shadowed: str | None = None  # the variable that takes precedence over it (…_FILE for a file)
    expected: int | None = None  # the live version compared against
    note: str = ""  # the note the new version gets: the current one, as on the admin page
    remark: str = ""

    @property
    def stores(self):
        return self.status in ("new", "changed", "store")

    @property
    def value(self):
        return core.clean_value(self.entry.value)


class ValuesTooLong(ValueError):
    """Some values of an import are longer than a value may be; the message lists their lines."""

    def __init__(self, lines):
        super().__init__(
            f"Values too long (at most {core.MAX_VALUE_LENGTH:,} characters) on "
            f"line{'s' if len(lines) != 1 else ''} {', '.join(map(str, lines))}, so nothing was stored."
        )


async def plan(datasette, state, entries, allowed, count=None, actor_id=None, detail=None):
    """A Planned for each entry, in file order. Raises ValuesTooLong.

    ``await allowed(name)`` is the rules' answer for the importing viewer and
    that secret (a rules.Allowed, see ``rules.by_name``), or None when no
    secret of that name is listed:
    a name may be stored only when the rules allow an edit, and compared
    with the stored value only when they allow a comparison. A comparison
    is a read of the stored value, so each is counted (``count(name)``, the
    actor's reveal limit: False stops it) and audited (action "compare",
    ``detail``, by ``actor_id``). Otherwise a value that is already stored
    is planned as "store".
    """
    registered = await state.registry.get(datasette)
    keyring = state.settings.keyring
    planned, too_long, compared = [], [], []
    for entry in entries:
        value = core.clean_value(entry.value)
        can = await allowed(entry.name) if entry.name in registered else None
        if can is not None and not can.manage:  # granted other secrets, not this one
            planned.append(Planned(entry, "forbidden", remark="not yours to change; not stored"))
            continue
        if can is None or not can.edit:
            planned.append(Planned(entry, "unknown", remark="no installed plugin registers it; not stored"))
            continue
        shadowed = shadowing_variable(entry.name, registered)
        if not value:
            planned.append(Planned(entry, "empty", shadowed, remark="empty value; not stored"))
            continue
        if len(value) > core.MAX_VALUE_LENGTH:
            too_long.append(entry.line)
            continue
        current = await store.current(state.db, entry.name)
        if current is None:
            planned.append(Planned(entry, "new", shadowed))
            continue
        if not can.compare or (count is not None and not count(entry.name)):
            planned.append(Planned(entry, "store", shadowed, expected=current.version, note=current.note or ""))
            continue
        compared.append((entry.name, current.version))
        planned_entry = Planned(entry, "changed", shadowed, expected=current.version, note=current.note or "")
        try:
            stored = keyring.decrypt(entry.name, current.version, current.key_id, current.encrypted)
        except SecretDecryptionError:
            planned_entry.remark = "the stored value could not be decrypted"
        else:
            if stored == value:
                planned_entry.status, planned_entry.remark = "unchanged", "not stored again"
        planned.append(planned_entry)
    if too_long:
        raise ValuesTooLong(too_long)
    if compared:
        await store.record_comparisons(state.db, compared, detail, actor_id)
    return planned


def shadowing_variable(name, registered):
    """The environment variable that gives ``name`` its value instead of the
    store (DATASETTE_SECRETS_<NAME>, else its _FILE), or None."""
    if core.env_value(name) is not None:
        return core.env_var(name)
    if core.file_path(name, registered) is not None:
        return core.env_var(name) + "_FILE"
    return None


async def store_planned(datasette, state, planned, actor, detail, only=None):
    """Store every planned new or changed value (of ``only`` these names, if given),
    in one transaction: {name: new version}. Raises core.Conflict if any
    secret changed since it was planned (then nothing is stored)."""
    changes = [
        (p.entry.name, p.value, p.note, p.expected)
        for p in planned
        if p.stores and (only is None or p.entry.name in only)
    ]
    if not changes:
        return {}
    return await core.save_many(datasette, state, changes, actor, detail=detail)
