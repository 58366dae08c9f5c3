"""What the ``datasette secrets ...`` commands do, once ``cli`` has parsed them.

One function per command (``list_rows``, ``set_value``, ``set_own``,
``delete_value``, ``delete_own``, ``history``, ``read_dotenv`` with
``import_entries``, ``rotate``, ``wrap_key``, ``unwrap_key``,
``rewrap_key``), each run inside ``cli_runtime.run`` with
the instance's State, so a change goes through the same code as the admin
page (``core``, ``personal``, ``imports``, ``rotation``). A bad request is a
``click.ClickException`` that says what was wrong and that nothing changed;
none prints a value, or any part of one.
"""

import contextlib
import os
import sys

import click

from . import envelope as envelope_module
from . import core, dotenv, grants, imports, key_fit, model, personal, rotation, rules, store, terminal
from .config import PLUGIN
from .core import Conflict
from .registry import NAME_PATTERN
from .cli_runtime import ROTATE_REFUSED, check_key, require_key, started
from .providers import KeyProviderError

# The audit row's detail for changes made here (the actor is empty: nobody signs in).
FROM_COMMAND_LINE = "command line"
IMPORTED = "command line import"


def _unknown(name, nothing_stored=False):
    also = ", and nothing is stored for it" if nothing_stored else ""
    if not NAME_PATTERN.fullmatch(name):
        # Not a name at all: maybe a value typed in its place (set sk-..., set NAME=sk-...).
        return click.ClickException(
            "That is not a secret name (names are letters, digits and _, not starting with a digit); "
            f"it is not repeated here, in case it is a value{also}."
        )
    return click.ClickException(
        f"No installed plugin registers a secret called {terminal.printable(name)}{also}."
    )


# datasette secrets list


async def list_rows(ds, state):
    """One row of ``terminal.list_row`` per secret, as the list command prints them."""
    listing = await model.listing(ds, state)
    entries = listing.entries(listing.names, state.usage.pending(), state.settings.max_age_days)
    owners = await personal.owners(state)
    held = await grants.holders(ds, state.settings)
    return [
        terminal.list_row(
            entry, len(owners.get(entry.name, [])), held.get(entry.name, ()), grants.acl_page(ds, entry.name)
        )
        for entry in entries
    ]


# datasette secrets set, delete, history


async def set_value(ds, state, name, note, read_value):
    """Store a new version of ``name``, its value from ``read_value(name)``:
    (version number, the variable that shadows it (or its _FILE), or None)."""
    entry = await model.entry(ds, state, name)
    if entry is None:
        raise _unknown(name)
    require_key(state)
    # The key's fit was checked before (key_checked, which --force passes).
    rules.allowed(rules.command_line(state.settings), entry, state.settings).require("edit")
    if note is None:  # as on the admin page, whose form starts with the current note
        note = (entry.stored or {}).get("note") or "" if entry.is_set else ""
    note = note.strip()
    # Checked before asking for the value, which would otherwise be typed for nothing.
    if problem := core.validate(entry, "placeholder", note).get("note"):
        raise click.ClickException(problem + " Nothing was stored.")
    value = read_value(name)
    if not value:
        raise click.ClickException(f"No value was given, so nothing was stored for {name}.")
    errors = core.validate(entry, value, note)
    if errors:
        raise click.ClickException(" ".join(errors.values()) + " Nothing was stored.")
    number, _ = await core.save(ds, state, entry, value, note, None, detail=FROM_COMMAND_LINE)
    return number, imports.shadowing_variable(name, await state.registry.get(ds))


async def _own_entry(ds, state, name, actor):
    entry = await personal.entry(ds, state, name, actor)
    if entry is None:
        if not (await state.registry.get(ds)).get(name):
            raise _unknown(name)
        raise click.ClickException(f"{name} is not a personal secret: no value of an actor's own is kept for it.")
    return entry


async def set_own(ds, state, name, actor, read_value):
    """Store ``actor``'s own value of a personal secret, from ``read_value(name)``: its version number."""
    await _own_entry(ds, state, name, actor)
    require_key(state)
    value = read_value(name)
    if not value:
        raise click.ClickException(f"No value was given, so nothing was stored for {name}.")
    if too_long := core.value_too_long(value):
        raise click.ClickException(too_long)
    return await personal.save(ds, state, name, actor, value, None)


async def delete_own(ds, state, name, actor):
    """Delete ``actor``'s own value of the personal secret ``name``."""
    if not (await _own_entry(ds, state, name, actor)).is_set:
        raise click.ClickException(f"{terminal.printable(actor)} has no value of their own for {name}.")
    await personal.delete(ds, state, name, actor, None, detail=FROM_COMMAND_LINE)


async def delete_value(ds, state, name):
    """Mark every stored version of ``name`` deleted: the entry as it was before."""
    entry = await model.entry(ds, state, name)
    if entry is None:
        if await store.summary(state.db, name) is None:
            raise _unknown(name, nothing_stored=True)
        raise click.ClickException(
            f"{terminal.printable(name)} has no stored value to delete: it is already deleted."
        )
    rules.allowed(rules.command_line(state.settings), entry, state.settings).require("delete")
    await core.delete(ds, state, name, None, detail=FROM_COMMAND_LINE)
    return entry


async def history(ds, state, name):
    """(the secret's facts, a model.Entry, or None when nothing lists it; versions newest first)."""
    entry = await model.entry(ds, state, name, shown=False)
    versions = await store.history(state.db, name)
    if entry is None and not versions:
        raise _unknown(name, nothing_stored=True)
    return entry, versions


# datasette secrets import


def read_dotenv(path):
    """The entries of the .env file at ``path`` ("-": stdin); a bad file stops the command."""
    shown = "standard input" if path == "-" else path
    # A character past the limit is enough for parse to refuse: a huge file is never read whole.
    most = dotenv.MAX_TEXT + 1
    try:
        if path == "-":
            text = sys.stdin.read(most) if sys.stdin is not None else ""
        else:
            with open(path, encoding="utf-8") as f:
                text = f.read(most)
    except OSError as e:
        raise click.ClickException(f"Could not read {shown}: {e.strerror or e}. Nothing was stored.")
    except UnicodeDecodeError as e:
        raise click.ClickException(
            f"Could not read {shown}: it is not UTF-8 text (byte {e.start + 1}). Nothing was stored."
        )
    try:
        return dotenv.parse(text)
    except dotenv.DotenvError as e:
        lines = "\n".join(f"  {error}" for error in e.errors)
        raise click.ClickException(
            f"{shown} is not a .env file this can read, so nothing was stored:\n{lines}"
        )


async def import_entries(ds, state, entries, dry_run):
    """(plans, {name: new version number}): what was (or, dry run, would be) stored."""
    require_key(state)
    try:
        # The rules decide what the command line may store and compare (not in write-only mode).
        viewer = rules.command_line(state.settings)
        planned = await imports.plan(ds, state, entries, rules.by_name(ds, state, viewer), detail=IMPORTED)
    except imports.ValuesTooLong as e:
        raise click.ClickException(str(e))
    if dry_run:
        return planned, {}
    try:
        numbers = await imports.store_planned(ds, state, planned, None, detail=IMPORTED)
    except Conflict as e:
        raise click.ClickException(f"{e.args[0]}: run the import again.")
    return planned, numbers


async def rotate(ds, dry_run, batch_size, force=False, new_data_key=False):
    """Run the rotation, printing what it does; True when nothing was left behind.

    With ``new_data_key`` (a key_provider and no encryption_key), first make a
    new data key, store it wrapped as the current one, then re-encrypt."""
    async with started(ds) as state:
        keyring = state.settings.keyring
        if new_data_key:
            await _new_data_key(state, dry_run)
        elif state.envelope is not None and keyring.primary is None:
            raise click.ClickException(f"{PLUGIN}: {state.settings.missing_key}, so nothing can be re-encrypted.")
        if keyring.primary is None:
            raise click.ClickException(
                f"{PLUGIN}: no encryption_key is configured, so there is no key to rotate to. "
                "Set encryption_key to the new key and list the old one in "
                "previous_encryption_keys."
            )
        await check_key(state, force or dry_run, ROTATE_REFUSED)
        counts = await key_fit.count_by_key(state.db)
        terminal.print_rotation_start(state.db.path or state.db.name, keyring, counts)
        pending = await rotation.count_to_rotate(state)
        terminal.print_rotation_pending(keyring, pending, dry_run)

        tty = sys.stdout.isatty() and pending
        with click.progressbar(length=pending, label="Re-encrypting") if tty else contextlib.nullcontext() as bar:

            def on_batch(done, total):
                if bar is not None:
                    bar.length = total  # grows when rows are added while it runs
                    bar.update(done - bar.pos)

            report = await rotation.rotate(
                ds, state, None, dry_run=dry_run, batch_size=batch_size, on_batch=on_batch
            )

        terminal.print_rotation(report, keyring)
        return report.complete


# datasette secrets wrap-key, unwrap-key, rewrap-key (envelope.py)


async def _new_data_key(state, dry_run):
    envelope = _envelope(state)
    if dry_run:
        raise click.ClickException("--new-data-key makes and stores a key: it cannot be a --dry-run. Nothing was changed.")
    if envelope.local:
        raise click.ClickException(
            f"{PLUGIN}: encryption_key is configured, so it is the current key: make a new key and configure "
            "it as described in 'Rotating the key', or remove encryption_key to rotate the wrapped data key. "
            "Nothing was changed."
        )
    if not state.settings.has_key:
        raise click.ClickException(f"{PLUGIN}: {state.settings.missing_key}. Nothing was changed.")
    try:
        key = await envelope.new_data_key()
    except KeyProviderError as e:
        raise click.ClickException(f"{e}. Nothing was changed.")
    terminal.echo(f"Made data key {key.id}, stored wrapped by {envelope.describe()}; it is now the current key.")


def _envelope(state):
    """The instance's Envelope; a command about wrapped keys needs a key_provider."""
    if state.envelope is None:
        raise click.ClickException(
            f"{PLUGIN}: no key_provider is configured, so there is no wrapped data key. "
            "See 'Keeping the key outside the host' in the README."
        )
    return state.envelope


async def wrap_key(ds, state):
    """Store the configured keys wrapped: [(key id, whether wrapped now)]."""
    envelope = _envelope(state)
    if not envelope.local:
        raise click.ClickException(
            f"{PLUGIN}: wrap-key wraps the configured encryption_key, and none is configured: under "
            "a key_provider alone the data key is stored wrapped already (rotate-key --new-data-key makes a new one)."
        )
    try:
        return await envelope.wrap_configured()
    except KeyProviderError as e:
        raise click.ClickException(f"{e}. Nothing was stored.")


async def unwrap_key(ds, state, path, key_id):
    """Write the data key (the current one, or ``key_id``) to a new file at
    ``path`` readable by its owner only: (its key id, the other wrapped key ids)."""
    envelope = _envelope(state)
    if os.path.lexists(path):
        raise click.ClickException(f"{path} exists already: unwrap-key never overwrites a file. Nothing was written.")
    try:
        key = await envelope.unwrapped(key_id)
    except KeyProviderError as e:
        raise click.ClickException(f"{e}. Nothing was written.")
    if key is None:
        which = f"with key id {key_id}" if key_id else "as the current one"
        raise click.ClickException(f"No data key is stored wrapped {which}. Nothing was written.")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as e:
        raise click.ClickException(f"Could not create {path}: {e.strerror or e}. Nothing was written.")
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key.text + "\n")
    others = [row.key_id for row in envelope.wrapped if row.key_id != key.id]
    return key.id, others


async def rewrap_key(ds, state):
    """Rewrap every stored data key under the provider's newest key version."""
    envelope = _envelope(state)
    try:
        return await envelope.rewrap_all()
    except KeyProviderError as e:
        raise click.ClickException(f"{e}. Nothing was changed.")


def key_source_line(state):
    """Where the key comes from under a key_provider, in one line (``list``
    prints it first); None without a provider (the key is the configuration's)."""
    if state.envelope is None:
        return None
    return envelope_module.source_line(envelope_module.key_source(state.settings, state.envelope))
