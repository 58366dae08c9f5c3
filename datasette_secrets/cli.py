"""``datasette secrets ...`` commands: the ``secrets`` click group, which the
``register_commands`` hook adds to Datasette's cli, with each command's
arguments, options and help; what each command does is in ``commands``.

Every command but generate-encryption-key takes the options of ``datasette
serve`` that decide the configuration and where secrets live
(``serve_options``), and changes secrets through the same code as the admin
page (``core``), so versions, audit rows and events are the same; the audit
row's detail says the change came from the command line. No command ever
prints a value, or any part of one. Reading a value from standard input or
a hidden prompt is here, beside the terminal it asks.
"""

import asyncio
import sys

import click
from datasette.utils.sqlite import sqlite3

from . import commands, core, rotation, terminal
from .crypto import generate_key
from .cli_runtime import key_checked, run
from .serve_options import serve_options

# For a file argument that does not exist: never repeated, since it may be a
# value typed by mistake (it would then also be in the shell's history).
NOT_A_FILE = (
    "Arguments after NAME can only be database files that exist, as for datasette serve, "
    "and one is not (not repeated here, in case it is a value)."
)
SET_NOT_A_FILE = (
    "set takes the value from standard input or a prompt, never from an argument "
    f"(it would land in your shell history). {NOT_A_FILE} Nothing was stored."
)
DELETE_NOT_A_FILE = f"delete takes one NAME. {NOT_A_FILE} Nothing was deleted."
HISTORY_NOT_A_FILE = f"history takes one NAME. {NOT_A_FILE}"

FORCE_HELP = "Store even when the configured keys decrypt none of the stored versions"


# Before any command: serve_options may import datasette.cli, whose register_commands takes it.
@click.group(name="secrets", cls=terminal.SafeMessages)
def secrets():
    "Commands for datasette-secrets"


@secrets.command(name="generate-encryption-key")
def generate_encryption_key():
    """Print a new random encryption key.

    Put it in an environment variable and point the plugin's
    encryption_key setting at it:

        export DATASETTE_SECRETS_ENCRYPTION_KEY="$(datasette secrets generate-encryption-key)"
    """
    terminal.echo(generate_key())


@secrets.command(name="rotate-key", short_help="Re-encrypt stored secrets with the current key.")
@serve_options
@click.option("--dry-run", is_flag=True, help="Count what would be re-encrypted; change nothing")
@click.option(
    "--force",
    is_flag=True,
    help="Run even when the configured keys decrypt none of the stored versions",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=rotation.DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Versions re-encrypted in each write transaction",
)
@click.option(
    "--new-data-key",
    is_flag=True,
    help="With a key_provider and no encryption_key: make a new data key, store it wrapped as the current one, then re-encrypt",
)
def rotate_key(ds, dry_run, force, batch_size, new_data_key):
    """Re-encrypt every stored secret with the current encryption_key.

    Pass the same databases and options that decide the configuration as
    to datasette serve, for example:

        datasette secrets rotate-key --internal internal.db -c datasette.yml

    First make a new key the encryption_key and move the old one into
    previous_encryption_keys. Every stored version (deleted ones and
    those from datasette-secrets 0.2/0.3 too) is then re-encrypted with
    the current key and padded (a row stored before padding, even under
    the current key, shows its value's length until then), in batches,
    each batch one transaction; stopping part-way leaves every value
    readable, and running it again carries on. Prints how many versions
    each key id has, before and after.

    Exits with 1 when some versions could not be decrypted (listed by row
    id; they are left as they are) or changed while it ran (run it again).

    When the configured keys decrypt none of the stored versions (probably
    the wrong key), nothing is changed and it exits with 1: such a run
    could re-encrypt nothing. --dry-run still reports, listing every
    version it cannot decrypt. --force runs anyway, which only helps when
    the check is wrong: 0.2/0.3 rows written under several keys, whose
    newest do not decrypt with the configured keys.

    With a key_provider and no encryption_key there is no key to put in
    the configuration: --new-data-key makes a new data key, stores it
    wrapped by the provider as the current one (the old data keys stay
    wrapped, to read what is not yet re-encrypted), and re-encrypts.
    Other Datasette processes pick the new key up within 10 seconds.
    """
    try:
        complete = asyncio.run(commands.rotate(ds, dry_run, batch_size, force, new_data_key))
    except sqlite3.Error as e:  # e.g. locked by a long write of another process
        raise click.ClickException(
            f"Stopped by a database error: {e}. Batches already written are kept, and "
            "every value still reads with the configured keys: run this command again."
        )
    if not complete:
        sys.exit(1)


@secrets.command(name="list", short_help="List secrets: where each value comes from, never a value.")
@serve_options
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of objects")
def list_secrets(ds, as_json):
    """List every secret a plugin registers, and stored secrets no plugin
    registers any more (orphans): where the value comes from (environment,
    stored, not set, deleted, or no longer used: --json says orphan), the stored version, when and by
    whom it was last updated, and when it was last used. Never a value.

    \b
        datasette secrets list --internal internal.db -c datasette.yml

    Under a key_provider, the first line says where the encryption key
    comes from: the provider, its key and version, when the data key was
    wrapped and last unwrapped, and the provider's status.

    --json prints a list of objects with the keys name, plugin, source,
    shadowed, version, updated_at, updated_by, last_used_at, last_used_by
    (times in ISO 8601, UTC), due_for_rotation and personal_values (how
    many actors have their own value of a personal secret, else null).
    """
    async def rows_and_key(state):
        return await commands.list_rows(ds, state), commands.key_source_line(state)

    rows, key_line = run(ds, rows_and_key)
    if key_line and not as_json:  # --json prints only the list, for programs
        terminal.echo(key_line)
    terminal.print_list(rows, as_json)


@secrets.command(name="set", short_help="Store a new value, read from stdin or a hidden prompt.")
@click.argument("name")
@serve_options(missing_file=SET_NOT_A_FILE)
@click.option("--note", help="A note for the new version (default: keep the current note)")
@click.option("--actor", help="Store this actor's own value of a personal secret instead")
@click.option("--force", is_flag=True, help=FORCE_HELP)
def set_secret(ds, name, note, actor, force):
    """Store a new version of secret NAME.

    The value is read from standard input when that is not a terminal,
    otherwise from a prompt that does not echo it; never from an
    argument, which would land in the shell's history. Leading and
    trailing whitespace is removed, as on the admin page.

    \b
        echo "$KEY" | datasette secrets set OPENAI_API_KEY --internal internal.db -c datasette.yml

    When secrets are stored but the configured keys decrypt none of them
    (probably the wrong key), nothing is stored: a value stored with that
    key could not be read with the right one. --force stores anyway, for
    when the old values are lost for good and this key replaces theirs.
    """
    if actor is not None:
        number = run(ds, key_checked(lambda state: commands.set_own(ds, state, name, actor, _read_value), force))
        terminal.echo(f"Saved {terminal.printable(actor)}'s own {name}: version {number}.")
        return
    number, shadowed = run(ds, key_checked(lambda state: commands.set_value(ds, state, name, note, _read_value), force))
    terminal.print_saved(name, number, shadowed)


@secrets.command(name="delete", short_help="Mark every stored version of a secret deleted.")
@click.argument("name")
@serve_options(missing_file=DELETE_NOT_A_FILE)
@click.option("--actor", help="Delete this actor's own value of a personal secret instead")
def delete_secret(ds, name, actor):
    """Delete secret NAME: every stored version is marked deleted, as the
    admin page's Delete does. Nothing is erased: the admin page's History
    can restore a version.

    \b
        datasette secrets delete OPENAI_API_KEY --internal internal.db -c datasette.yml
    """
    if actor is not None:
        run(ds, lambda state: commands.delete_own(ds, state, name, actor))
        terminal.echo(f"Deleted {terminal.printable(actor)}'s own {name}: plugins give them the shared value.")
        return
    terminal.print_deleted(name, run(ds, lambda state: commands.delete_value(ds, state, name)))


@secrets.command(name="history", short_help="List the stored versions of a secret, never a value.")
@click.argument("name")
@serve_options(missing_file=HISTORY_NOT_A_FILE)
def history(ds, name):
    """List the stored versions of secret NAME, newest first: version,
    when and by whom it was stored, note, key id, and whether it is the
    current one or deleted. Never a value.

    \b
        datasette secrets history OPENAI_API_KEY --internal internal.db -c datasette.yml
    """
    terminal.print_history(name, *run(ds, lambda state: commands.history(ds, state, name)))


@secrets.command(name="import", short_help="Store the secrets of a .env file, in one transaction.")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@serve_options
@click.option("--dry-run", is_flag=True, help="Report what would be stored; store nothing")
@click.option("--force", is_flag=True, help=FORCE_HELP)
def import_file(ds, file, dry_run, force):
    """Store the secrets in FILE, a .env file (- reads standard input).

    Lines are NAME=value, with or without "export " and the
    DATASETTE_SECRETS_ prefix; # comments, blank lines, and single- or
    double-quoted values spanning several lines (PEM keys) are fine.
    Each name is reported: registered or unknown (unknown ones are not
    stored), shadowed by an environment variable (still stored), and
    new, changed or unchanged against the stored value (unchanged ones
    are not stored again). Everything to store is stored in ONE
    transaction, or nothing is. A file with any bad line stores nothing
    and exits with 1, listing the bad lines by number.

    \b
        datasette secrets import .env --internal internal.db -c datasette.yml

    When secrets are stored but the configured keys decrypt none of them
    (probably the wrong key), nothing is stored (--dry-run still reports,
    with a warning); --force stores anyway.
    """
    entries = commands.read_dotenv(file)
    name = "standard input" if file == "-" else file
    planned, numbers = run(
        ds, key_checked(lambda state: commands.import_entries(ds, state, entries, dry_run), force or dry_run)
    )
    terminal.print_import(name, planned, numbers, dry_run)


@secrets.command(name="wrap-key", short_help="Store the configured encryption keys wrapped by the key_provider.")
@serve_options
def wrap_key(ds):
    """Store the configured encryption_key (and previous_encryption_keys)
    wrapped by the configured key_provider, re-encrypting no value: the
    first step of moving a site's key off its host.

    \b
        datasette secrets wrap-key --internal internal.db -c datasette.yml

    Then remove encryption_key (and previous_encryption_keys) from the
    configuration, keep key_provider, and restart: the data key is
    unwrapped from the provider at startup.
    """
    done = run(ds, lambda state: commands.wrap_key(ds, state))
    for key_id, now in done:
        terminal.echo(f"Key id {key_id}: {'stored wrapped' if now else 'was stored wrapped already'}.")
    terminal.echo(
        "Remove encryption_key (and previous_encryption_keys) from the configuration, keep key_provider, "
        "and restart Datasette: the data key is then unwrapped from the provider at startup."
    )


@secrets.command(name="unwrap-key", short_help="Write the data key to a new file, readable by you only.")
@click.argument("path", type=click.Path(dir_okay=False))
@serve_options
@click.option("--key-id", help="Write this stored data key instead of the current one")
def unwrap_key(ds, path, key_id):
    """Unwrap the current data key with the key_provider and write it to
    PATH, a new file readable by its owner only (mode 600): the way back
    from a key provider to a key in the configuration. Never overwrites a
    file, and never prints the key.

    \b
        datasette secrets unwrap-key /run/secrets/datasette-key --internal internal.db -c datasette.yml

    Then configure encryption_key: {$file: PATH}, remove key_provider, and
    restart. Whoever can read PATH can read every stored value.
    """
    written, others = run(ds, lambda state: commands.unwrap_key(ds, state, path, key_id))
    terminal.echo(f"Wrote data key {written} to {path} (readable by its owner only).")
    terminal.echo(
        f"To use it: encryption_key: {{$file: {path}}} in the configuration, remove key_provider, and restart."
    )
    if others:
        terminal.echo(
            f"Other data keys are stored wrapped: {', '.join(others)}. Values may still be under them: "
            "run rotate-key first, or write each with --key-id and list it in previous_encryption_keys."
        )


@secrets.command(name="rewrap-key", short_help="Rewrap the stored data keys with the provider's newest key version.")
@serve_options
def rewrap_key(ds):
    """Rewrap every stored data key under the key_provider's newest key
    version (Transit's rewrap, KMS's ReEncrypt), after rotating the
    provider's key. The data key stays the same and never leaves the
    provider; no value is read or re-encrypted.

    \b
        datasette secrets rewrap-key --internal internal.db -c datasette.yml
    """
    done, left = run(ds, lambda state: commands.rewrap_key(ds, state))
    if not done:
        terminal.echo("No data key is stored wrapped: nothing to rewrap.")
    for key_id, old, new in done:
        if key_id in left:
            terminal.echo(f"Data key {key_id}: changed meanwhile by another process, left as it is: run again.")
        else:
            versions = f" (provider key version {old} to {new})" if new else ""
            terminal.echo(f"Rewrapped data key {key_id}{versions}.")
    if left:
        sys.exit(1)


# Reading a value stays here, by the terminal it asks (tests replace _stdin_is_terminal and _read_value).
def _stdin_is_terminal():
    return sys.stdin is not None and sys.stdin.isatty()


def _read_stdin():
    return sys.stdin.read() if sys.stdin is not None else ""


def _read_value(name):
    """The value, cleaned as the admin page cleans it (core.clean_value): from
    stdin (a PEM file piped in keeps its lines), or a hidden prompt."""
    if _stdin_is_terminal():
        return core.clean_value(
            click.prompt(f"Value for {name}", hide_input=True, confirmation_prompt=True, err=True)
        )
    return core.clean_value(_read_stdin())
