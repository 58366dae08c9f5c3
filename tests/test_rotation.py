"""Several keys, and rotating every stored version to the current key.

``other_key`` plays the old key and ``key`` the new (current) one throughout.
"""

import asyncio
import json
import re
import sqlite3

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from datasette.app import Datasette
from datasette.cli import cli
from datasette.utils import StartupError

from datasette_secrets import SecretDecryptionError, get_secret, key_fit, rotation, store_keys
from datasette_secrets.config import ConfigError
from datasette_secrets.core import ready
from datasette_secrets.crypto import Key, Keyring
from secret_helpers import (
    ROOT,
    audit_rows,
    first_format,
    insert_row,
    legacy_token,
    parse,
    secret_rows,
    store_value,
    write_config,
)


def only(key):
    """A keyring holding just this key: what is needed once the old key is gone."""
    return Keyring([Key(key)])


def previous(old):
    return {"previous_encryption_keys": [old]}


@pytest.fixture
def internal(tmp_path):
    return str(tmp_path / "internal.db")


async def seed(make_datasette, old, internal):
    """Versions of every kind under the old key, written by a Datasette that has only it.

    Returns {row id: expected value}.
    """
    ds = make_datasette(key=old, internal=internal)
    await ds.invoke_startup()
    await store_value(ds, "API_KEY", "api-1")
    await store_value(ds, "API_KEY", "api-2")
    await store_value(ds, "OTHER_KEY", "other-1")
    assert (await ds.client.post("/-/secrets/OTHER_KEY/delete", actor=ROOT)).status_code == 302
    await insert_row(ds, "LEGACY", legacy_token(old, "legacy-value"), "default")
    await insert_row(ds, "FIRST_FORMAT", first_format(old, "FIRST_FORMAT", "first-value"), Key(old).id)
    await insert_row(ds, "ORPHAN", Key(old).encrypt("ORPHAN", 3, "orphan-3"), Key(old).id, version=3)
    expected = ["api-1", "api-2", "other-1", "legacy-value", "first-value", "orphan-3"]
    rows = await secret_rows(ds)
    assert [r["deleted_at"] is not None for r in rows] == [False, False, True, False, False, False]
    return {row["id"]: value for row, value in zip(rows, expected)}


async def started(ds):
    """The plugin's State of a started Datasette (events need startup)."""
    await ds.invoke_startup()
    return await ready(ds)


def decrypt_all(rows, keyring):
    return {r["id"]: keyring.decrypt(r["name"], r["version"], r["encryption_key_name"], r["encrypted"]) for r in rows}


# Reading with several keys


@pytest.mark.asyncio
async def test_old_values_read_while_the_old_key_is_a_previous_key(
    example_plugin, make_datasette, key, other_key, internal
):
    await seed(make_datasette, other_key, internal)
    ds = make_datasette(key=key, internal=internal, settings=previous(other_key))
    await ds.invoke_startup()
    assert await get_secret(ds, "API_KEY") == "api-2"
    revealed = await ds.client.post("/-/secrets/API_KEY/reveal", actor=ROOT)
    assert parse(revealed).select_one(".secret-revealed-value").get_text() == "api-2"
    # a new version is written with the current key
    await store_value(ds, "API_KEY", "api-3")
    newest = (await secret_rows(ds, "API_KEY"))[-1]
    assert newest["encryption_key_name"] == Key(key).id
    assert await get_secret(ds, "API_KEY") == "api-3"


@pytest.mark.asyncio
async def test_without_the_previous_key_old_values_do_not_decrypt(
    example_plugin, make_datasette, key, other_key, internal
):
    await seed(make_datasette, other_key, internal)
    ds = make_datasette(key=key, internal=internal)
    with pytest.raises(SecretDecryptionError, match="no configured encryption key has this key id"):
        await get_secret(ds, "API_KEY")


@pytest.mark.asyncio
async def test_legacy_rows_try_every_configured_key(example_plugin, make_datasette, key, other_key):
    ds = make_datasette(key=key, settings=previous(other_key))
    await ds.invoke_startup()
    await insert_row(ds, "API_KEY", legacy_token(other_key, "legacy-old"), "default")
    assert await get_secret(ds, "API_KEY") == "legacy-old"


@pytest.mark.asyncio
async def test_previous_keys_read_from_environment_variables(
    example_plugin, make_datasette, key, other_key, internal, monkeypatch
):
    await seed(make_datasette, other_key, internal)
    monkeypatch.setenv("ROTATION_NEW", key)
    monkeypatch.setenv("ROTATION_OLD", other_key)
    ds = make_datasette(
        key=None,
        internal=internal,
        settings={
            "encryption_key": {"$env": "ROTATION_NEW"},
            "previous_encryption_keys": [{"$env": "ROTATION_OLD"}],
        },
    )
    assert await get_secret(ds, "API_KEY") == "api-2"


# Configuration errors

BAD_PREVIOUS = {
    "second item malformed": (["OLD", "not a key"], "previous_encryption_keys item 2"),
    "first item empty": ([""], "previous_encryption_keys item 1 is empty"),
    "item unset $env": ([{"$env": "ROTATION_UNSET_VARIABLE"}], "previous_encryption_keys item 1 is empty"),
    "item not text": (["OLD", 12345], "previous_encryption_keys item 2 must be a key"),
    "not a list": ("OLD", "'previous_encryption_keys' must be a list"),
}


@pytest.mark.asyncio
@pytest.mark.parametrize("previous, message", BAD_PREVIOUS.values(), ids=BAD_PREVIOUS.keys())
async def test_malformed_previous_key_stops_startup_naming_it(
    previous, message, example_plugin, make_datasette, other_key
):
    if isinstance(previous, list):
        previous = [other_key if item == "OLD" else item for item in previous]
    else:
        previous = other_key
    ds = make_datasette(settings={"previous_encryption_keys": previous})
    with pytest.raises(StartupError) as info:
        await ds.invoke_startup()
    assert message in str(info.value)
    assert other_key not in str(info.value)
    assert "not a key" not in str(info.value)


@pytest.mark.asyncio
async def test_malformed_current_key_is_named(example_plugin, make_datasette, other_key):
    ds = make_datasette(key="not a key", settings={"previous_encryption_keys": [other_key]})
    with pytest.raises(StartupError, match="encryption_key: The encryption key is not valid"):
        await ds.invoke_startup()


@pytest.mark.asyncio
async def test_previous_keys_without_a_current_key_stop_startup(example_plugin, make_datasette, other_key):
    ds = make_datasette(key=None, settings={"previous_encryption_keys": [other_key]})
    with pytest.raises(StartupError, match="'encryption_key' is not"):
        await ds.invoke_startup()


@pytest.mark.asyncio
async def test_empty_previous_list_and_repeated_keys_are_fine(example_plugin, make_datasette, key, other_key):
    ds = make_datasette(settings={"previous_encryption_keys": []})
    await ds.invoke_startup()
    ds = make_datasette(settings={"previous_encryption_keys": [key, other_key, other_key]})
    state = await started(ds)
    assert [k.id for k in state.settings.keyring.keys] == [Key(key).id, Key(other_key).id]


# rotation.rotate


@pytest.mark.asyncio
async def test_rotation_leaves_only_the_current_key_needed(
    example_plugin, make_datasette, key, other_key, internal, events
):
    expected = await seed(make_datasette, other_key, internal)
    ds = make_datasette(key=key, internal=internal, settings=previous(other_key))
    state = await started(ds)
    assert await key_fit.count_by_key(state.db) == {Key(other_key).id: 5, "default": 1}
    assert await get_secret(ds, "API_KEY") == "api-2"  # cached under the old key

    report = await rotation.rotate(ds, state, ROOT)

    assert report.rotated == 6 and report.failed == [] and report.complete
    assert report.before == {Key(other_key).id: 5, "default": 1}
    assert report.after == {Key(key).id: 6}
    assert report.key_id == Key(key).id and not report.dry_run
    rows = await secret_rows(ds)
    assert {r["encryption_key_name"] for r in rows} == {Key(key).id}
    assert all(bytes(r["encrypted"])[:1] == b"\x03" for r in rows)
    # every version, deleted and legacy ones included, needs only the new key
    assert decrypt_all(rows, only(key)) == expected
    assert await get_secret(ds, "API_KEY") == "api-2"

    audit = [a for a in await audit_rows(ds) if a["action"] == "rotate"]
    assert [(a["name"], a["version"], a["actor_id"]) for a in audit] == [("*", None, "root")]
    assert audit[0]["detail"] == f"rotated 6 versions to key {Key(key).id}"
    rotated = [e for e in events if e.name == "rotate-keys"]
    assert len(rotated) == 1
    assert rotated[0].actor == ROOT
    assert rotated[0].properties() == {"rotated": 6, "key_id": Key(key).id, "failed": 0}

    # a Datasette with only the new key reads everything
    fresh = make_datasette(key=key, internal=internal)
    assert await get_secret(fresh, "API_KEY") == "api-2"
    history = parse(await fresh.client.get("/-/secrets/OTHER_KEY/history", actor=ROOT))
    assert "could not" not in history.get_text().lower()


@pytest.mark.asyncio
async def test_second_run_rotates_nothing(example_plugin, make_datasette, key, other_key, internal):
    await seed(make_datasette, other_key, internal)
    ds = make_datasette(key=key, internal=internal, settings=previous(other_key))
    state = await started(ds)
    await rotation.rotate(ds, state)
    rows = await secret_rows(ds)
    again = await rotation.rotate(ds, state)
    assert (again.rotated, again.failed, again.to_rotate) == (0, [], 0)
    assert again.before == again.after == {Key(key).id: 6}
    assert await secret_rows(ds) == rows
    assert [a["detail"] for a in await audit_rows(ds) if a["action"] == "rotate"][-1] == (
        f"rotated 0 versions to key {Key(key).id}"
    )


@pytest.mark.asyncio
async def test_dry_run_changes_nothing(example_plugin, make_datasette, key, other_key, internal, events):
    await seed(make_datasette, other_key, internal)
    ds = make_datasette(key=key, internal=internal, settings=previous(other_key))
    state = await started(ds)
    await insert_row(ds, "LOST", Key(Fernet.generate_key().decode()).encrypt("LOST", 1, "x"), "0badbeef0000")
    rows, audit = await secret_rows(ds), await audit_rows(ds)
    report = await rotation.rotate(ds, state, ROOT, dry_run=True)
    assert report.dry_run and report.rotated == 6 and [f.name for f in report.failed] == ["LOST"]
    assert report.after == report.before == {Key(other_key).id: 5, "default": 1, "0badbeef0000": 1}
    assert report.summary() == f"would rotate 6 versions to key {Key(key).id}; 1 undecryptable"
    assert await secret_rows(ds) == rows
    assert await audit_rows(ds) == audit
    assert [e for e in events if e.name == "rotate-keys"] == []


@pytest.mark.asyncio
async def test_undecryptable_rows_are_reported_and_left_byte_for_byte(
    example_plugin, make_datasette, key, other_key, internal, events
):
    await seed(make_datasette, other_key, internal)
    lost = Fernet.generate_key().decode()
    ds = make_datasette(key=key, internal=internal, settings=previous(other_key))
    state = await started(ds)
    await insert_row(ds, "LOST", Key(lost).encrypt("LOST", 1, "gone"), Key(lost).id)
    await insert_row(ds, "LOST_LEGACY", legacy_token(lost, "gone too"), "default")
    # under an old key, but its ciphertext was tampered with
    tampered = bytearray(Key(other_key).encrypt("TAMPERED", 1, "t"))
    tampered[-1] ^= 1
    await insert_row(ds, "TAMPERED", bytes(tampered), Key(other_key).id)
    bad = {r["id"]: r for r in await secret_rows(ds) if r["name"] in ("LOST", "LOST_LEGACY", "TAMPERED")}

    report = await rotation.rotate(ds, state, ROOT, batch_size=4)

    assert report.rotated == 6 and not report.complete
    assert [(f.id, f.name, f.version, f.key_id) for f in report.failed] == [
        (id, row["name"], 1, row["encryption_key_name"]) for id, row in bad.items()
    ]
    reasons = {f.name: f.reason for f in report.failed}
    assert "no configured encryption key" in reasons["LOST"]
    assert "legacy Fernet token" in reasons["LOST_LEGACY"]
    assert "failed authentication" in reasons["TAMPERED"]
    after = {r["id"]: r for r in await secret_rows(ds)}
    for id, row in bad.items():
        assert after[id] == row  # every column, the ciphertext byte for byte
    assert report.after == {Key(key).id: 6, Key(lost).id: 1, "default": 1, Key(other_key).id: 1}
    assert report.summary().endswith("; 3 undecryptable")
    assert [e.properties()["failed"] for e in events if e.name == "rotate-keys"] == [3]

    again = await rotation.rotate(ds, state, ROOT)
    assert again.rotated == 0 and [f.id for f in again.failed] == list(bad)


@pytest.mark.asyncio
async def test_an_interrupted_rotation_leaves_every_row_readable_and_a_rerun_completes(
    example_plugin, make_datasette, key, other_key, internal
):
    expected = await seed(make_datasette, other_key, internal)
    ds = make_datasette(key=key, internal=internal, settings=previous(other_key))
    state = await started(ds)
    calls = []

    def stop_after_the_first_batch(done, total):
        calls.append((done, total))
        raise RuntimeError("stopped")

    with pytest.raises(RuntimeError, match="stopped"):
        await rotation.rotate(ds, state, ROOT, batch_size=2, on_batch=stop_after_the_first_batch)
    assert calls == [(2, 6)]
    rows = await secret_rows(ds)
    assert [r["encryption_key_name"] for r in rows].count(Key(key).id) == 2
    assert decrypt_all(rows, state.settings.keyring) == expected
    assert await get_secret(ds, "API_KEY") == "api-2"
    assert [a["detail"] for a in await audit_rows(ds) if a["action"] == "rotate"] == [
        f"rotated 2 versions to key {Key(key).id}; interrupted"
    ]

    progress = []
    report = await rotation.rotate(ds, state, batch_size=2, on_batch=lambda *a: progress.append(a))
    assert report.rotated == 4 and report.complete
    assert progress == [(2, 4), (4, 4)]
    assert decrypt_all(await secret_rows(ds), only(key)) == expected


@pytest.mark.asyncio
async def test_a_cancelled_rotation_records_what_it_did(example_plugin, make_datasette, key, other_key, internal):
    """Ctrl+C on the command line cancels the task: the batches written are audited."""
    expected = await seed(make_datasette, other_key, internal)
    ds = make_datasette(key=key, internal=internal, settings=previous(other_key))
    state = await started(ds)

    async def cancel_after_the_first_batch(done, total):
        asyncio.current_task().cancel()
        await asyncio.sleep(0)

    with pytest.raises(asyncio.CancelledError):
        await rotation.rotate(ds, state, ROOT, batch_size=2, on_batch=cancel_after_the_first_batch)
    asyncio.current_task().uncancel()
    assert [a["detail"] for a in await audit_rows(ds) if a["action"] == "rotate"] == [
        f"rotated 2 versions to key {Key(key).id}; interrupted"
    ]
    assert decrypt_all(await secret_rows(ds), state.settings.keyring) == expected


@pytest.mark.asyncio
async def test_cancelled_while_a_batch_is_written_counts_that_batch(
    example_plugin, make_datasette, key, other_key, internal, monkeypatch
):
    """The write thread commits a batch it started even if the caller is gone: count it."""
    expected = await seed(make_datasette, other_key, internal)
    ds = make_datasette(key=key, internal=internal, settings=previous(other_key))
    state = await started(ds)
    rotating = asyncio.current_task()
    write = store_keys.rewrite_versions

    async def cancelled_while_writing(db, rewrites):
        rotating.cancel()
        return await write(db, rewrites)

    monkeypatch.setattr(store_keys, "rewrite_versions", cancelled_while_writing)
    with pytest.raises(asyncio.CancelledError):
        await rotation.rotate(ds, state, ROOT, batch_size=2)
    rotating.uncancel()
    monkeypatch.undo()
    rows = await secret_rows(ds)
    assert [r["encryption_key_name"] for r in rows].count(Key(key).id) == 2
    assert [a["detail"] for a in await audit_rows(ds) if a["action"] == "rotate"] == [
        f"rotated 2 versions to key {Key(key).id}; interrupted"
    ]
    assert decrypt_all(rows, state.settings.keyring) == expected


@pytest.mark.asyncio
async def test_a_batch_that_fails_to_write_commits_none_of_its_rows(
    example_plugin, make_datasette, key, other_key, internal
):
    expected = await seed(make_datasette, other_key, internal)
    ds = make_datasette(key=key, internal=internal, settings=previous(other_key))
    state = await started(ds)
    ids = sorted(expected)
    # The fourth row's update fails inside the second batch (rows 3 and 4).
    await state.db.execute_write(
        f"create trigger fail_rotation before update of encrypted on datasette_secrets "
        f"when old.id = {ids[3]} begin select raise(abort, 'disk on fire'); end"
    )
    with pytest.raises(sqlite3.IntegrityError, match="disk on fire"):
        await rotation.rotate(ds, state, batch_size=2)
    rows = await secret_rows(ds)
    assert [r["encryption_key_name"] == Key(key).id for r in rows] == [True, True, False, False, False, False]
    assert decrypt_all(rows, state.settings.keyring) == expected

    await state.db.execute_write("drop trigger fail_rotation")
    report = await rotation.rotate(ds, state, batch_size=2)
    assert report.rotated == 4 and report.complete
    assert decrypt_all(await secret_rows(ds), only(key)) == expected


@pytest.mark.asyncio
async def test_a_version_changed_during_rotation_is_not_overwritten(
    example_plugin, make_datasette, key, other_key, internal, monkeypatch
):
    expected = await seed(make_datasette, other_key, internal)
    ds = make_datasette(key=key, internal=internal, settings=previous(other_key))
    state = await started(ds)
    ids = sorted(expected)
    read_batch = store_keys.versions_to_rotate
    # Another process's work, between this run reading a batch and writing it:
    # row ids[0] re-encrypted by another rotation, row ids[1] given a new note.
    elsewhere = Key(key).encrypt("API_KEY", 1, "api-1")

    async def read_then_someone_else_writes(db, *args):
        batch = await read_batch(db, *args)
        if batch and batch[0].id == ids[0]:
            await db.execute_write(
                "update datasette_secrets set encrypted = ?, encryption_key_name = ? where id = ?",
                [elsewhere, Key(key).id, ids[0]],
            )
            await db.execute_write("update datasette_secrets set note = 'changed' where id = ?", [ids[1]])
        return batch

    monkeypatch.setattr(store_keys, "versions_to_rotate", read_then_someone_else_writes)
    report = await rotation.rotate(ds, state, batch_size=3)

    assert report.changed_meanwhile == [ids[0]] and report.rotated == 5 and not report.complete
    rows = {r["id"]: r for r in await secret_rows(ds)}
    assert rows[ids[0]]["encrypted"] == elsewhere  # the other writer's ciphertext stands
    assert rows[ids[1]]["note"] == "changed"  # a rotation rewrites only the ciphertext
    assert "changed meanwhile" in report.summary()
    assert decrypt_all(rows.values(), only(key)) == expected
    monkeypatch.undo()
    assert (await rotation.rotate(ds, state)).rotated == 0


@pytest.mark.asyncio
async def test_rotation_needs_a_current_key(example_plugin, make_datasette):
    ds = make_datasette(key=None)
    state = await started(ds)
    with pytest.raises(ConfigError, match="no encryption_key is configured"):
        await rotation.rotate(ds, state)


@pytest.mark.asyncio
async def test_rotation_of_a_configured_database(example_plugin, make_datasette, key, other_key, tmp_path):
    path = str(tmp_path / "vault.db")
    sqlite3.connect(path).close()
    old = make_datasette(key=other_key, files=[path], settings={"database": "vault"})
    await old.invoke_startup()
    await store_value(old, "API_KEY", "in-the-vault")
    ds = make_datasette(key=key, files=[path], settings={"database": "vault", **previous(other_key)})
    state = await started(ds)
    assert (await rotation.rotate(ds, state)).rotated == 1
    rows = await secret_rows(ds, database="vault")
    assert decrypt_all(rows, only(key)) == {rows[0]["id"]: "in-the-vault"}


# The command: datasette secrets rotate-key


def make_internal(path, old, rows):
    """An internal database file with the plugin's tables and ``rows`` (name, version, value)
    encrypted with ``old``, written straight to SQLite."""

    async def start():
        ds = Datasette(internal=path, config={"plugins": {"datasette-secrets": {"encryption_key": old}}})
        await ds.invoke_startup()
        await ds.invoke_shutdown()

    asyncio.run(start())
    old_key = Key(old)
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "insert into datasette_secrets (name, version, encrypted, encryption_key_name) values (?, ?, ?, ?)",
            [(name, version, old_key.encrypt(name, version, value), old_key.id) for name, version, value in rows],
        )
    conn.close()


def table_dump(path):
    conn = sqlite3.connect(path)
    rows = conn.execute("select * from datasette_secrets order by id").fetchall()
    conn.close()
    return rows


def rotate_key(*args):
    return CliRunner().invoke(cli, ["secrets", "rotate-key", *args])


def counts(output, heading):
    """{key id: versions} from the table under ``heading`` in the command's output."""
    lines = output.split(heading, 1)[1].splitlines()[2:]
    found = {}
    for line in lines:
        match = re.match(r"  (\S+)\s+(\d+)\s", line + " ")
        if not match:
            break
        found[match.group(1)] = int(match.group(2))
    return found


ROWS = [("API_KEY", 1, "one"), ("API_KEY", 2, "two"), ("OTHER_KEY", 1, "other")]


@pytest.fixture
def rotation_setup(tmp_path, key, other_key):
    internal = str(tmp_path / "internal.db")
    make_internal(internal, other_key, ROWS)
    config = write_config(tmp_path, {"encryption_key": key, "previous_encryption_keys": [other_key]})
    return internal, config


def test_command_prints_counts_before_and_after(rotation_setup, key, other_key):
    internal, config = rotation_setup
    result = rotate_key("--internal", internal, "-c", config)
    assert result.exit_code == 0, result.output
    assert counts(result.output, "before:") == {Key(key).id: 0, Key(other_key).id: 3}
    assert counts(result.output, "after:") == {Key(key).id: 3}
    assert f"Re-encrypted 3 versions with key {Key(key).id}." in result.output
    assert "Re-encrypting" not in result.output, "no progress bar without a terminal"
    assert {row[5] for row in table_dump(internal)} == {Key(key).id}
    conn = sqlite3.connect(internal)
    assert conn.execute(
        "select name, version, action, actor_id from datasette_secrets_audit where action = 'rotate'"
    ).fetchall() == [("*", None, "rotate", None)]
    conn.close()

    again = rotate_key("--internal", internal, "-c", config)
    assert again.exit_code == 0, again.output
    assert "0 versions to re-encrypt" in again.output
    assert counts(again.output, "before:") == counts(again.output, "after:") == {Key(key).id: 3}


def test_command_dry_run(rotation_setup, key, other_key):
    internal, config = rotation_setup
    before = table_dump(internal)
    result = rotate_key("--internal", internal, "-c", config, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Would re-encrypt 3 versions; nothing was changed." in result.output
    assert "after:" not in result.output
    assert table_dump(internal) == before


def test_command_exits_1_listing_undecryptable_rows_by_id(rotation_setup, key, other_key, tmp_path):
    internal, _ = rotation_setup
    # configured with the new key only: the old rows cannot be read (one row
    # under the new key shows the key itself is right)
    config = write_config(tmp_path, {"encryption_key": key}, name="new-only.json")
    conn = sqlite3.connect(internal)
    with conn:
        conn.execute(
            "insert into datasette_secrets (name, version, encrypted, encryption_key_name) values (?, ?, ?, ?)",
            ["NEW_KEY", 1, Key(key).encrypt("NEW_KEY", 1, "new"), Key(key).id],
        )
    conn.close()
    before = table_dump(internal)
    result = rotate_key("--internal", internal, "-c", config)
    assert result.exit_code == 1, result.output
    assert "3 versions could not be decrypted" in result.output
    listed = result.output.split("could not be decrypted", 1)[1]
    for row_id, name, version in [(1, "API_KEY", 1), (2, "API_KEY", 2), (3, "OTHER_KEY", 1)]:
        assert re.search(rf"^\s+{row_id}\s+{name}\s+{version}\s+{Key(other_key).id}\s+no configured", listed, re.M)
    assert "Traceback" not in result.output
    assert table_dump(internal) == before

    dry = rotate_key("--internal", internal, "-c", config, "--dry-run")
    assert dry.exit_code == 1 and "3 versions could not be decrypted" in dry.output


def test_command_settings_from_dash_s(rotation_setup, key, other_key, tmp_path):
    internal, _ = rotation_setup
    empty = tmp_path / "empty.yml"
    empty.write_text("plugins:\n  datasette-secrets: {}\n")
    result = rotate_key(
        "--internal", internal, "-c", str(empty),
        "-s", "plugins.datasette-secrets.encryption_key", key,
        "-s", "plugins.datasette-secrets.previous_encryption_keys", json.dumps([other_key]),
        "--batch-size", "1",
    )
    assert result.exit_code == 0, result.output
    assert {row[5] for row in table_dump(internal)} == {Key(key).id}


def test_command_yaml_config_with_env_keys(rotation_setup, key, other_key, tmp_path, monkeypatch):
    internal, _ = rotation_setup
    monkeypatch.setenv("ROTATION_NEW", key)
    monkeypatch.setenv("ROTATION_OLD", other_key)
    config = tmp_path / "env.yml"
    config.write_text(
        "plugins:\n"
        "  datasette-secrets:\n"
        "    encryption_key:\n"
        "      $env: ROTATION_NEW\n"
        "    previous_encryption_keys:\n"
        "    - $env: ROTATION_OLD\n"
    )
    result = rotate_key("--internal", internal, "-c", str(config))
    assert result.exit_code == 0, result.output
    assert counts(result.output, "after:") == {Key(key).id: 3}


def test_command_rotates_a_configured_database_file(tmp_path, key, other_key):
    vault = str(tmp_path / "vault.db")
    sqlite3.connect(vault).close()
    async def start():
        old_config = {"database": "vault", "encryption_key": other_key}
        ds = Datasette([vault], config={"plugins": {"datasette-secrets": old_config}})
        await ds.invoke_startup()
        await ds.invoke_shutdown()

    asyncio.run(start())
    conn = sqlite3.connect(vault)
    with conn:
        conn.execute(
            "insert into datasette_secrets (name, version, encrypted, encryption_key_name) values (?, 1, ?, ?)",
            ["API_KEY", Key(other_key).encrypt("API_KEY", 1, "v"), Key(other_key).id],
        )
    conn.close()
    config = write_config(
        tmp_path, {"database": "vault", "encryption_key": key, "previous_encryption_keys": [other_key]}
    )
    result = rotate_key(vault, "-c", config)  # no --internal needed: secrets live in vault.db
    assert result.exit_code == 0, result.output
    assert [row[5] for row in table_dump(vault)] == [Key(key).id]


ERRORS = {
    "no current key": (lambda t, k, o: {}, "no encryption_key is configured"),
    "malformed key": (lambda t, k, o: {"encryption_key": "nope"}, "encryption_key: The encryption key is not valid"),
    "malformed previous key": (
        lambda t, k, o: {"encryption_key": k, "previous_encryption_keys": [o, "nope"]},
        "previous_encryption_keys item 2",
    ),
    "database not attached": (
        lambda t, k, o: {"encryption_key": k, "database": "vault"},
        "the configured database 'vault' is not attached",
    ),
}


@pytest.mark.parametrize("plugin_config, message", ERRORS.values(), ids=ERRORS.keys())
def test_command_configuration_errors(plugin_config, message, rotation_setup, tmp_path, key, other_key):
    internal, _ = rotation_setup
    before = table_dump(internal)
    config = write_config(tmp_path, plugin_config(tmp_path, key, other_key), name="bad.json")
    result = rotate_key("--internal", internal, "-c", config)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    assert table_dump(internal) == before


def test_command_missing_config_file(rotation_setup, tmp_path):
    internal, _ = rotation_setup
    result = rotate_key("--internal", internal, "-c", str(tmp_path / "nowhere.yml"))
    assert result.exit_code == 2
    assert "nowhere.yml" in result.output and "No such file" in result.output
    assert isinstance(result.exception, SystemExit)


def test_command_unparseable_config_file(rotation_setup, tmp_path):
    internal, _ = rotation_setup
    config = tmp_path / "broken.yml"
    config.write_text("plugins: [unclosed\n  - {")
    result = rotate_key("--internal", internal, "-c", str(config))
    assert result.exit_code == 1
    assert "Could not read" in result.output and "broken.yml" in result.output
    assert isinstance(result.exception, SystemExit)


def test_command_missing_internal_file_is_an_error_and_creates_nothing(tmp_path, key):
    config = write_config(tmp_path, {"encryption_key": key})
    missing = tmp_path / "typo.db"
    result = rotate_key("--internal", str(missing), "-c", config)
    assert result.exit_code == 1
    assert "no such file, so nothing is stored there" in result.output
    assert not missing.exists()


def test_command_without_internal_for_the_internal_database_is_an_error(tmp_path, key):
    config = write_config(tmp_path, {"encryption_key": key})
    result = rotate_key("-c", config)
    assert result.exit_code == 1
    assert "no --internal was given" in result.output


def test_command_missing_database_file(rotation_setup, tmp_path):
    internal, config = rotation_setup
    result = rotate_key(str(tmp_path / "absent.db"), "--internal", internal, "-c", config)
    assert result.exit_code == 1
    assert "absent.db" in result.output and "does not exist" in result.output


def test_command_stopped_by_a_database_error_can_be_run_again(rotation_setup, key, other_key):
    internal, config = rotation_setup
    conn = sqlite3.connect(internal)
    conn.execute(
        "create trigger fail_rotation before update of encrypted on datasette_secrets "
        "when old.id = 2 begin select raise(abort, 'disk on fire'); end"
    )
    conn.commit()
    result = rotate_key("--internal", internal, "-c", config, "--batch-size", "1")
    assert result.exit_code == 1
    assert "Stopped by a database error: disk on fire" in result.output
    assert "run this command again" in result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    assert [row[5] for row in table_dump(internal)] == [Key(key).id, Key(other_key).id, Key(other_key).id]
    conn.execute("drop trigger fail_rotation")
    conn.commit()
    conn.close()
    again = rotate_key("--internal", internal, "-c", config)
    assert again.exit_code == 0, again.output
    assert counts(again.output, "after:") == {Key(key).id: 3}


def test_command_rotates_ten_thousand_versions(tmp_path, key, other_key):
    internal = str(tmp_path / "internal.db")
    rows = [(f"SECRET_{n}", version, f"value-{n}-{version}") for n in range(2_000) for version in range(1, 6)]
    make_internal(internal, other_key, rows)
    config = write_config(tmp_path, {"encryption_key": key, "previous_encryption_keys": [other_key]})

    result = rotate_key("--internal", internal, "-c", config)

    assert result.exit_code == 0, result.output
    assert counts(result.output, "before:") == {Key(key).id: 0, Key(other_key).id: 10_000}
    assert counts(result.output, "after:") == {Key(key).id: 10_000}
    new = only(key)
    stored = table_dump(internal)
    assert len(stored) == 10_000
    assert {row[5] for row in stored} == {Key(key).id}
    values = {(row[1], row[3]): new.decrypt(row[1], row[3], row[5], row[4]) for row in stored}
    assert values == {(name, version): value for name, version, value in rows}
