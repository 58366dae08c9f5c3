"""``datasette secrets ...`` commands."""

import asyncio
import os
import pathlib
import sys

import click
from datasette.utils import (
    BadMetadataError,
    StartupError,
    deep_dict_update,
    pairs_to_nested_config,
    parse_metadata,
)
from datasette.utils.sqlite import sqlite3

from . import rotation
from .config import PLUGIN, ConfigError, own_database
from .core import ready
from .crypto import LEGACY_KEY_NAME, generate_key


def register(cli):
    # Imported here: Datasette imports plugins while its cli module is still
    # loading, and defines Setting before it calls register_commands.
    from datasette.cli import Setting

    @cli.group()
    def secrets():
        "Commands for datasette-secrets"

    @secrets.command(name="generate-encryption-key")
    def generate_encryption_key():
        """Print a new random encryption key.

        Put it in an environment variable and point the plugin's
        encryption_key setting at it:

            export DATASETTE_SECRETS_ENCRYPTION_KEY="$(datasette secrets generate-encryption-key)"
        """
        click.echo(generate_key())

    @secrets.command(name="rotate-key", short_help="Re-encrypt stored secrets with the current key.")
    @click.argument("files", type=click.Path(), nargs=-1)
    @click.option(
        "-c",
        "--config",
        type=click.File(mode="r"),
        help="Path to JSON/YAML Datasette configuration file, as for datasette serve",
    )
    @click.option(
        "-s",
        "--setting",
        "settings",
        type=Setting(),
        multiple=True,
        help="nested.key, value setting, as for datasette serve",
    )
    @click.option(
        "--internal",
        type=click.Path(dir_okay=False),
        envvar="DATASETTE_INTERNAL",
        help="Path to the persistent internal database datasette serve uses",
    )
    @click.option(
        "--plugins-dir",
        type=click.Path(exists=True, file_okay=False, dir_okay=True),
        help="Path to directory containing custom plugins, as for datasette serve",
    )
    @click.option("--dry-run", is_flag=True, help="Count what would be re-encrypted; change nothing")
    @click.option(
        "--batch-size",
        type=click.IntRange(min=1),
        default=rotation.DEFAULT_BATCH_SIZE,
        show_default=True,
        help="Versions re-encrypted in each write transaction",
    )
    def rotate_key(files, config, settings, internal, plugins_dir, dry_run, batch_size):
        """Re-encrypt every stored secret with the current encryption_key.

        Pass the same databases and options that decide the configuration as
        to datasette serve, for example:

            datasette secrets rotate-key --internal internal.db -c datasette.yml

        First make a new key the encryption_key and move the old one into
        previous_encryption_keys. Every stored version (deleted ones and
        those from datasette-secrets 0.2/0.3 too) is then re-encrypted with
        the current key, in batches, each batch one transaction; stopping
        part-way leaves every value readable, and running it again carries
        on. Prints how many versions each key id has, before and after.

        Exits with 1 when some versions could not be decrypted (listed by row
        id; they are left as they are) or changed while it ran (run it again).
        """
        ds = _datasette(files, config, settings, internal, plugins_dir)
        try:
            complete = asyncio.run(_rotate(ds, dry_run, batch_size))
        except sqlite3.Error as e:  # e.g. locked by a long write of another process
            raise click.ClickException(
                f"Stopped by a database error: {e}. Batches already written are kept, and "
                "every value still reads with the configured keys: run this command again."
            )
        if not complete:
            sys.exit(1)


def _datasette(files, config, settings, internal, plugins_dir):
    """A Datasette configured as `datasette serve` would be with these options."""
    from datasette.app import Datasette  # not at the top: datasette.app imports this plugin

    config_data = {}
    if config is not None:
        try:
            config_data = parse_metadata(config.read())
        except (BadMetadataError, UnicodeDecodeError) as e:
            raise click.ClickException(f"Could not read {config.name}: {e}")
        if config_data is None:
            config_data = {}
        if not isinstance(config_data, dict):
            raise click.ClickException(f"{config.name} is not a Datasette configuration file")
    if settings:
        deep_dict_update(config_data, pairs_to_nested_config(settings))

    kwargs = {"config": config_data, "plugins_dir": plugins_dir}
    directories = [f for f in files if os.path.isdir(f)]
    files = [f for f in files if not os.path.isdir(f)]
    if len(directories) > 1:
        raise click.ClickException(
            "Cannot pass multiple directories. Pass a single directory as config_dir."
        )
    if directories:
        kwargs["config_dir"] = pathlib.Path(directories[0])
    for file in files:
        if not os.path.exists(file):
            raise click.ClickException(f"Database file {file!r} does not exist.")

    if internal is not None:
        if not os.path.exists(internal):
            # Datasette would create an empty one, and report nothing to rotate.
            raise click.ClickException(
                f"--internal {internal}: no such file, so nothing is stored there. "
                "Pass the path datasette serve uses with --internal."
            )
        kwargs["internal"] = internal
    try:
        ds = Datasette(files, **kwargs)
    except StartupError as e:
        raise click.ClickException(e.args[0])

    database = own_database(ds.plugin_config(PLUGIN) or {})
    if database is None and internal is None:
        raise click.ClickException(
            "Secrets are stored in Datasette's internal database (no 'database' is "
            f"configured for {PLUGIN}), but no --internal was given: pass the same "
            "--internal PATH as datasette serve."
        )
    if database is not None and database not in ds.databases:
        raise click.ClickException(
            f"{PLUGIN}: the configured database {database!r} is not attached: pass its "
            "file as an argument, as to datasette serve."
        )
    return ds


async def _rotate(ds, dry_run, batch_size):
    """Run the rotation, printing what it does; True when nothing was left behind."""
    try:
        await ds.invoke_startup()
        state = await ready(ds)
    except (StartupError, ConfigError) as e:
        raise click.ClickException(str(e))
    try:
        keyring = state.settings.keyring
        if keyring.primary is None:
            raise click.ClickException(
                f"{PLUGIN}: no encryption_key is configured, so there is no key to rotate to. "
                "Set encryption_key to the new key and list the old one in "
                "previous_encryption_keys."
            )
        key_id = keyring.primary.id
        labels = _key_labels(keyring)
        click.echo(f"Secrets database: {state.db.path or state.db.name}")
        click.echo(f"Current key: {key_id}")
        click.echo()
        click.echo("Stored versions by key id, before:")
        _print_counts(await rotation.count_by_key(state.db), labels, key_id)
        pending = await rotation.count_to_rotate(state)
        click.echo()
        if dry_run:
            click.echo("Dry run: nothing will be changed.")
        click.echo(f"{pending} version{_s(pending)} to re-encrypt with key {key_id}.")

        progress = None
        if sys.stdout.isatty() and pending:
            progress = click.progressbar(length=pending, label="Re-encrypting")
            progress.__enter__()

        def on_batch(done, total):
            if progress is not None:
                progress.length = total
                progress.update(done - progress.pos)

        try:
            report = await rotation.rotate(
                ds, state, None, dry_run=dry_run, batch_size=batch_size, on_batch=on_batch
            )
        finally:
            if progress is not None:
                progress.__exit__(None, None, None)

        if dry_run:
            click.echo(f"Would re-encrypt {report.rotated} version{_s(report.rotated)}; nothing was changed.")
        else:
            click.echo(f"Re-encrypted {report.rotated} version{_s(report.rotated)} with key {key_id}.")
            click.echo()
            click.echo("Stored versions by key id, after:")
            _print_counts(report.after, labels, key_id)
        _print_failed(report.failed)
        if report.changed_meanwhile:
            ids = ", ".join(str(id) for id in report.changed_meanwhile)
            click.echo()
            click.echo(
                f"Changed by something else while this ran, so left for the next run: row id {ids}. "
                "Run datasette secrets rotate-key again."
            )
        if report.complete and not dry_run:
            click.echo()
            click.echo(
                f"Every stored version now uses key {key_id}. Once every Datasette using "
                "this database runs with it, the old keys can be removed from "
                "previous_encryption_keys."
            )
        return report.complete
    finally:
        await ds.invoke_shutdown()


def _key_labels(keyring):
    labels = {LEGACY_KEY_NAME: "legacy Fernet (0.2/0.3): tried with every configured key"}
    for number, key in enumerate(keyring.keys):
        labels[key.id] = "encryption_key (current)" if number == 0 else "previous_encryption_keys"
    return labels


def _print_counts(counts, labels, key_id):
    counts = {key_id: 0, **counts}
    rows = [("key id", "versions", "")] + [
        (id, str(count), labels.get(id, "no configured key has this id"))
        for id, count in sorted(counts.items(), key=lambda item: (item[0] != key_id, item[0]))
    ]
    _print_table(rows, right=[1])


def _print_failed(failed):
    if not failed:
        return
    click.echo()
    click.echo(
        f"{len(failed)} version{_s(len(failed))} could not be decrypted with any configured "
        "key and {} left unchanged:".format("were" if len(failed) != 1 else "was")
    )
    rows = [("row id", "name", "version", "key id", "reason")] + [
        (str(f.id), f.name, str(f.version), f.key_id, f.reason) for f in failed
    ]
    _print_table(rows, right=[0, 2])
    click.echo(
        "Configure the keys they need in previous_encryption_keys and run this again, "
        "or delete those secrets, before removing any old key."
    )


def _print_table(rows, right=()):
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths))
        ]
        click.echo("  " + "  ".join(cells).rstrip())


def _s(count):
    return "" if count == 1 else "s"
