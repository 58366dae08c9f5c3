"""Helpers for the tests of the ``datasette secrets`` commands: running a
command as an admin would (through ``datasette.cli.cli``), and reading or
writing the SQLite file behind the plugin's back."""

import sqlite3

from click.testing import CliRunner
from datasette.cli import cli

from datasette_secrets import migrations
from datasette_secrets.crypto import Key, Keyring

# At least 16 characters, so a leaked "last four" hint would be caught too.
VALUE = "sk-live-4f9a8b7c6d5e4f3a"
OTHER_VALUE = "other-0123456789abcdef"
NEW_VALUE = "sk-live-ffffeeeeddddcccc"


def run(*args, input=None):
    return CliRunner().invoke(cli, ["secrets", *args], input=input)


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def failed(result, message):
    """The command stopped with ``message``: exit 1, a message, no traceback."""
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    return result


def query(path, sql, params=()):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute(sql, params)]
    finally:
        conn.close()


def rows(path, name=None):
    if not query(path, "select 1 from sqlite_master where name = 'datasette_secrets'"):
        return []  # never started: nothing stored
    where, params = ("where name = ?", [name]) if name else ("", [])
    return query(path, f"select * from datasette_secrets {where} order by id", params)


def audit(path):
    return query(path, "select name, version, action, detail, actor_id from datasette_secrets_audit order by id")


def decrypted(path, key, name):
    """{version: value} of every stored version of ``name``."""
    keyring = Keyring([Key(key)])
    return {
        row["version"]: keyring.decrypt(name, row["version"], row["encryption_key_name"], row["encrypted"])
        for row in rows(path, name)
    }


def set_value(options, name, value, *more):
    return ok(run("set", name, *options, *more, input=value + "\n"))


def insert(path, name, value, key, version=1, deleted=False, note=None):
    """A row written straight into the table, as another tool (or an older
    plugin that registered ``name``) might."""
    if not query(path, "select 1 from sqlite_master where name = 'datasette_secrets'"):
        conn = sqlite3.connect(path)
        with conn:
            conn.execute(migrations.CREATE_SECRETS)
        conn.close()
    keys = Key(key)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "insert into datasette_secrets (name, version, encrypted, encryption_key_name, note, "
            "created_at, updated_at, deleted_at) values (?, ?, ?, ?, ?, datetime('now'), datetime('now'), ?)",
            [name, version, keys.encrypt(name, version, value), keys.id, note,
             "2026-01-01 00:00:00" if deleted else None],
        )
    conn.close()


def write_env(tmp_path, text, name=".env"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return str(path)
