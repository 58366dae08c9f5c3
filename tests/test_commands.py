"""`datasette secrets list / set / delete / history / import`.

Each command is run the way an admin runs it, through `datasette.cli.cli`,
with the same options as `datasette serve` (a config file and --internal), and
its effects are read straight from the SQLite file afterwards.
"""

import asyncio
import json
import sqlite3

import pytest
from datasette.app import Datasette

from datasette_secrets import Secret, core, flush_usage, get_secret, store
from datasette_secrets import cli as secrets_cli
from datasette_secrets.crypto import Key
from cli_helpers import (
    NEW_VALUE,
    OTHER_VALUE,
    VALUE,
    audit,
    decrypted,
    failed,
    insert,
    ok,
    rows,
    run,
    set_value,
    write_env,
)
from secret_helpers import new_database, secrets_plugin, write_config


def assert_no_value(output, *values):
    for value in values:
        assert value not in output
        assert value[-4:] not in output, "not even the last four characters"


# set


def test_set_reads_the_value_from_stdin(options, internal, key, events):
    result = set_value(options, "API_KEY", VALUE)
    assert result.output == "Saved API_KEY: version 1.\n"
    assert decrypted(internal, key, "API_KEY") == {1: VALUE}
    assert audit(internal) == [
        {"name": "API_KEY", "version": 1, "action": "set", "detail": "command line", "actor_id": None}
    ]
    [event] = events
    assert (event.name, event.actor, event.properties()) == (
        "set-secret", None, {"secret_name": "API_KEY", "version": 1}
    )


def test_a_value_set_on_the_command_line_is_what_plugins_get(options, internal, key):
    set_value(options, "API_KEY", VALUE)

    async def read():
        ds = Datasette(internal=internal, config={"plugins": {"datasette-secrets": {"encryption_key": key}}})
        await ds.invoke_startup()
        return await get_secret(ds, "API_KEY")

    assert asyncio.run(read()) == VALUE


@pytest.mark.parametrize(
    "typed", [VALUE, VALUE + "\n", VALUE + "\r\n", "  " + VALUE + " \n\n", "\t" + VALUE + "\t"]
)
def test_set_strips_whitespace_as_the_admin_page_does(typed, options, internal, key):
    ok(run("set", "API_KEY", *options, input=typed))
    assert decrypted(internal, key, "API_KEY") == {1: VALUE}


def test_set_keeps_inner_newlines(options, internal, key):
    pem = "-----BEGIN KEY-----\nabc\n-----END KEY-----"
    ok(run("set", "API_KEY", *options, input=pem + "\n"))
    assert decrypted(internal, key, "API_KEY") == {1: pem}


def test_set_makes_line_breaks_lf_as_the_admin_page_does(options, internal, key):
    pem = "-----BEGIN KEY-----\nabc\n-----END KEY-----"
    ok(run("set", "API_KEY", *options, input=pem.replace("\n", "\r\n") + "\r\n"))
    assert decrypted(internal, key, "API_KEY") == {1: pem}


def test_set_again_makes_a_new_version_keeping_the_note(options, internal, key):
    set_value(options, "API_KEY", VALUE, "--note", "  from the vendor  ")
    result = set_value(options, "API_KEY", NEW_VALUE)
    assert result.output == "Saved API_KEY: version 2.\n"
    set_value(options, "API_KEY", OTHER_VALUE, "--note", "rotated")
    assert [(r["version"], r["note"]) for r in rows(internal)] == [
        (1, "from the vendor"), (2, "from the vendor"), (3, "rotated")
    ]
    assert decrypted(internal, key, "API_KEY") == {1: VALUE, 2: NEW_VALUE, 3: OTHER_VALUE}


def test_set_prompts_without_echo_on_a_terminal(options, internal, key, monkeypatch):
    monkeypatch.setattr(secrets_cli, "_stdin_is_terminal", lambda: True)
    # typed twice; the first confirmation does not match, so it asks again
    result = ok(run("set", "API_KEY", *options, input=f"{VALUE}\ntypo\n{VALUE}\n{VALUE}\n"))
    assert decrypted(internal, key, "API_KEY") == {1: VALUE}
    assert "Value for API_KEY" in result.output
    assert_no_value(result.output, VALUE)
    assert "Saved API_KEY: version 1." in result.output


def test_a_value_given_as_an_argument_is_not_taken(options, internal):
    # the only positional arguments after NAME are database files, as for serve
    result = failed(run("set", "API_KEY", VALUE, *options, input=""), "never from an argument")
    assert_no_value(result.output, VALUE)
    assert rows(internal) == []


@pytest.mark.parametrize("typed", ["", "\n", "   \n\t\n"])
def test_set_refuses_an_empty_value(typed, options, internal):
    failed(run("set", "API_KEY", *options, input=typed), "No value was given, so nothing was stored")
    assert rows(internal) == []


def test_set_refuses_a_value_too_long(options, internal):
    failed(run("set", "API_KEY", *options, input="x" * (core.MAX_VALUE_LENGTH + 1)), "The value is too long")
    assert rows(internal) == []


def test_set_refuses_a_note_too_long_before_reading_the_value(options, internal, monkeypatch):
    monkeypatch.setattr(secrets_cli, "_read_value", lambda name: pytest.fail("asked for the value"))
    note = "n" * (core.MAX_NOTE_LENGTH + 1)
    failed(run("set", "API_KEY", *options, "--note", note), "The note is too long")
    assert rows(internal) == []


def test_set_an_unknown_name_fails_before_reading_the_value(options, internal, monkeypatch):
    monkeypatch.setattr(secrets_cli, "_read_value", lambda name: pytest.fail("asked for the value"))
    failed(run("set", "NO_SUCH_SECRET", *options), "No installed plugin registers a secret called NO_SUCH_SECRET")
    assert rows(internal) == []


def test_set_an_orphan_fails(options, internal, key):
    insert(internal, "ORPHAN", VALUE, key)
    failed(run("set", "ORPHAN", *options, input=NEW_VALUE), "No installed plugin registers ORPHAN: it can only be deleted")
    assert decrypted(internal, key, "ORPHAN") == {1: VALUE}


def test_set_without_a_key_fails(tmp_path, internal, example_plugin):
    config = write_config(tmp_path, {})
    failed(
        run("set", "API_KEY", "--internal", internal, "-c", config, input=VALUE),
        "no encryption_key is configured, so values cannot be stored",
    )


def test_set_a_name_an_environment_variable_shadows_stores_and_warns(options, internal, key, monkeypatch):
    monkeypatch.setenv("DATASETTE_SECRETS_ENV_KEY", "from-the-environment")
    result = set_value(options, "ENV_KEY", VALUE)
    assert result.stdout == "Saved ENV_KEY: version 1.\n"
    assert "DATASETTE_SECRETS_ENV_KEY is set, and takes precedence" in result.stderr
    assert decrypted(internal, key, "ENV_KEY") == {1: VALUE}


# delete


def test_delete_marks_every_live_version_deleted(options, internal, events):
    set_value(options, "API_KEY", VALUE)
    set_value(options, "API_KEY", NEW_VALUE)
    result = ok(run("delete", "API_KEY", *options))
    assert "Deleted API_KEY" in result.output
    assert [r["deleted_at"] is not None for r in rows(internal)] == [True, True]
    assert audit(internal)[-1] == {
        "name": "API_KEY", "version": None, "action": "delete", "detail": "command line", "actor_id": None
    }
    assert events[-1].name == "delete-secret" and events[-1].properties() == {"secret_name": "API_KEY"}
    listed = json.loads(ok(run("list", "--json", *options)).stdout)
    assert {row["name"]: row["source"] for row in listed}["API_KEY"] == "deleted"


def test_delete_with_nothing_stored_fails(options, internal):
    failed(run("delete", "API_KEY", *options), "API_KEY has no stored value to delete.")
    set_value(options, "API_KEY", VALUE)
    ok(run("delete", "API_KEY", *options))
    failed(run("delete", "API_KEY", *options), "API_KEY has no stored value to delete: it is already deleted.")
    assert [a["action"] for a in audit(internal)] == ["set", "delete"]


def test_delete_an_unknown_name_fails(options):
    failed(run("delete", "NO_SUCH_SECRET", *options), "No installed plugin registers a secret called NO_SUCH_SECRET")


def test_delete_an_orphan(options, internal, key):
    insert(internal, "ORPHAN", VALUE, key)
    result = ok(run("delete", "ORPHAN", *options))
    assert "it leaves the list" in result.output
    assert rows(internal)[0]["deleted_at"] is not None
    failed(run("delete", "ORPHAN", *options), "ORPHAN has no stored value to delete: it is already deleted")


def test_delete_a_shadowed_secret_says_the_variable_still_wins(options, internal, monkeypatch):
    set_value(options, "ENV_KEY", VALUE)
    monkeypatch.setenv("DATASETTE_SECRETS_ENV_KEY", "from-the-environment")
    result = ok(run("delete", "ENV_KEY", *options))
    assert "DATASETTE_SECRETS_ENV_KEY is still set" in result.output
    assert rows(internal)[0]["deleted_at"] is not None


# history


def history_table(output):
    """[[version, stored, note, key id, status], ...] from the history table."""
    lines = output.splitlines()
    header = lines[0]
    starts = [header.index(word) for word in ("stored", "note", "key id", "status")]
    found = []
    for line in lines[1:]:
        if not line.startswith("  "):
            break
        cuts = [0, *starts, len(line) + 1]
        found.append([line[a:b].strip() for a, b in zip(cuts, cuts[1:])])
    return found


def test_history_lists_versions_newest_first_never_a_value(options, internal, key):
    set_value(options, "API_KEY", VALUE, "--note", "first")
    set_value(options, "API_KEY", NEW_VALUE, "--note", "second")
    ok(run("delete", "API_KEY", *options))
    set_value(options, "API_KEY", OTHER_VALUE, "--note", "third")
    result = ok(run("history", "API_KEY", *options))
    table = history_table(result.output)
    key_id = Key(key).id
    assert [(r[0], r[2], r[3]) for r in table] == [("3", "third", key_id), ("2", "second", key_id), ("1", "first", key_id)]
    assert table[0][4] == "current"
    assert table[1][4].startswith("deleted 20") and table[2][4].startswith("deleted 20")
    assert all(r[1].endswith(" UTC") for r in table)
    assert_no_value(result.output, VALUE, NEW_VALUE, OTHER_VALUE)


def test_history_of_older_live_versions_has_no_status(options):
    set_value(options, "API_KEY", VALUE)
    set_value(options, "API_KEY", NEW_VALUE)
    table = history_table(ok(run("history", "API_KEY", *options)).output)
    assert [(r[0], r[4]) for r in table] == [("2", "current"), ("1", "")]


def test_history_shows_who_stored_each_version(options, internal, key):
    insert(internal, "API_KEY", VALUE, key)
    conn = sqlite3.connect(internal)
    with conn:
        conn.execute("update datasette_secrets set created_by = 'alice'")
    conn.close()
    table = history_table(ok(run("history", "API_KEY", *options)).output)
    assert table[0][1].endswith(" UTC by alice")


def test_history_with_nothing_stored(options):
    result = ok(run("history", "API_KEY", *options))
    assert "Nothing has been stored for API_KEY yet." in result.output


def test_history_of_an_unknown_name_fails(options):
    failed(run("history", "NO_SUCH_SECRET", *options), "No installed plugin registers a secret called NO_SUCH_SECRET")


def test_history_of_a_deleted_orphan_is_still_shown(options, internal, key):
    insert(internal, "GONE_PLUGIN_KEY", VALUE, key, deleted=True)
    result = ok(run("history", "GONE_PLUGIN_KEY", *options))
    assert history_table(result.output)[0][0] == "1"
    assert "No installed plugin registers GONE_PLUGIN_KEY." in result.output


@pytest.mark.parametrize("variable,said", [
    ("DATASETTE_SECRETS_API_KEY", "DATASETTE_SECRETS_API_KEY is set and takes precedence over any stored value."),
    ("DATASETTE_SECRETS_API_KEY_FILE", "DATASETTE_SECRETS_API_KEY_FILE is set: the file it names takes precedence over any stored value."),
])
def test_history_says_what_gives_the_value_instead(options, tmp_path, monkeypatch, variable, said):
    # The same facts as the page and list: a file-mounted value shadows the store too.
    set_value(options, "API_KEY", VALUE)
    mounted = tmp_path / "api_key"
    mounted.write_text("from-a-file-0123\n")
    monkeypatch.setenv(variable, str(mounted) if variable.endswith("_FILE") else "from-the-environment-0123")
    result = ok(run("history", "API_KEY", *options))
    assert said in result.output


def test_history_escapes_control_characters_in_notes(options, internal, key):
    insert(internal, "API_KEY", VALUE, key, note="line one\nline two \x1b[2J")
    result = ok(run("history", "API_KEY", *options))
    assert "\x1b" not in result.output
    assert "line one\\nline two \\x1b[2J" in result.output


# list

LIST_KEYS = [
    "name", "plugin", "source", "status", "shadowed", "version",
    "updated_at", "updated_by", "last_used_at", "last_used_by", "due_for_rotation", "personal_values",
    "grants", "grants_page",
]


@pytest.fixture
def every_source(options, internal, key, register_plugin, monkeypatch):
    """A secret of each source: stored, environment (shadowing a stored value),
    not set, deleted, orphan; and a deleted orphan, which is not listed."""
    register_plugin(secrets_plugin(Secret("DELETED_KEY"), Secret("UNSET_KEY")), "more-secrets")
    set_value(options, "API_KEY", VALUE)
    set_value(options, "API_KEY", NEW_VALUE)
    set_value(options, "ENV_KEY", OTHER_VALUE)
    set_value(options, "DELETED_KEY", VALUE)
    ok(run("delete", "DELETED_KEY", *options))
    insert(internal, "ORPHAN", VALUE, key, version=4)
    insert(internal, "DELETED_ORPHAN", VALUE, key, deleted=True)
    monkeypatch.setenv("DATASETTE_SECRETS_ENV_KEY", "from-the-environment-1234")
    monkeypatch.setenv("DATASETTE_SECRETS_OTHER_KEY", "from-the-environment-5678")


def test_list_json(every_source, options):
    result = ok(run("list", "--json", *options))
    listed = json.loads(result.stdout)
    assert all(list(row) == LIST_KEYS for row in listed)
    by_name = {row["name"]: row for row in listed}
    assert list(by_name) == ["API_KEY", "DELETED_KEY", "ENV_KEY", "ORPHAN", "OTHER_KEY", "UNSET_KEY"]
    assert {name: (row["source"], row["shadowed"], row["version"]) for name, row in by_name.items()} == {
        "API_KEY": ("stored", False, 2),
        "DELETED_KEY": ("deleted", False, None),
        "ENV_KEY": ("environment", True, 1),
        "ORPHAN": ("orphan", False, 4),
        "OTHER_KEY": ("environment", False, None),
        "UNSET_KEY": ("not set", False, None),
    }
    assert by_name["API_KEY"]["plugin"] == "example-secrets-plugin"
    assert by_name["ORPHAN"]["plugin"] is None
    assert by_name["API_KEY"]["updated_at"].endswith("Z") and by_name["DELETED_KEY"]["updated_at"]
    assert by_name["UNSET_KEY"]["updated_at"] is None
    assert by_name["API_KEY"]["last_used_at"] is None
    assert_no_value(result.output, VALUE, NEW_VALUE, OTHER_VALUE, "from-the-environment-1234", "from-the-environment-5678")


def test_list_table(every_source, options):
    result = ok(run("list", *options))
    lines = result.output.splitlines()
    assert lines[0].split() == ["name", "source", "version", "updated", "last", "used"]
    cells = {line.split()[0]: line for line in lines[1:]}
    assert list(cells) == ["API_KEY", "DELETED_KEY", "ENV_KEY", "ORPHAN", "OTHER_KEY", "UNSET_KEY"]
    assert cells["API_KEY"].split()[1:3] == ["stored", "2"]
    assert cells["API_KEY"].rstrip().endswith("never")
    assert "environment" in cells["ENV_KEY"] and "DATASETTE_SECRETS_ENV_KEY overrides the stored value" in cells["ENV_KEY"]
    assert "no installed plugin registers it" in cells["ORPHAN"]
    assert cells["ORPHAN"].split()[1:5] == ["no", "longer", "used", "4"]  # --json keeps "orphan"
    assert cells["UNSET_KEY"].split()[1:] == ["not", "set"]
    assert cells["DELETED_KEY"].split()[1] == "deleted" and " UTC" in cells["DELETED_KEY"]
    assert_no_value(result.output, VALUE, NEW_VALUE, OTHER_VALUE, "from-the-environment-1234", "from-the-environment-5678")


def test_list_shows_when_and_by_whom_a_value_was_last_used(options, internal, key):
    set_value(options, "API_KEY", VALUE)

    async def use():
        ds = Datasette(internal=internal, config={"plugins": {"datasette-secrets": {"encryption_key": key}}})
        await ds.invoke_startup()
        assert await get_secret(ds, "API_KEY", actor_id="enricher") == VALUE
        await flush_usage(ds)

    asyncio.run(use())
    [row] = [r for r in json.loads(ok(run("list", "--json", *options)).stdout) if r["name"] == "API_KEY"]
    assert row["last_used_by"] == "enricher" and row["last_used_at"].endswith("Z")
    table = ok(run("list", *options)).output
    assert "UTC by enricher" in table


def test_list_shows_the_last_use_of_a_value_from_the_environment(options, internal, key, monkeypatch):
    monkeypatch.setenv("DATASETTE_SECRETS_ENV_KEY", "from-the-environment")

    async def use():
        ds = Datasette(internal=internal, config={"plugins": {"datasette-secrets": {"encryption_key": key}}})
        await ds.invoke_startup()
        assert await get_secret(ds, "ENV_KEY", actor_id="enricher") == "from-the-environment"
        await flush_usage(ds)

    asyncio.run(use())
    by_name = {r["name"]: r for r in json.loads(ok(run("list", "--json", *options)).stdout)}
    assert by_name["ENV_KEY"]["source"] == "environment"
    assert by_name["ENV_KEY"]["last_used_by"] == "enricher" and by_name["ENV_KEY"]["last_used_at"].endswith("Z")
    assert by_name["OTHER_KEY"]["last_used_at"] is None  # not set, never used
    cells = {line.split()[0]: line for line in ok(run("list", *options)).output.splitlines()[1:]}
    assert "UTC by enricher" in cells["ENV_KEY"]


def test_list_works_without_a_key(tmp_path, internal, example_plugin):
    config = write_config(tmp_path, {})
    listed = json.loads(ok(run("list", "--json", "--internal", internal, "-c", config)).stdout)
    assert {row["source"] for row in listed} == {"not set"}


def test_list_with_nothing_registered_or_stored(tmp_path, internal, key):
    config = write_config(tmp_path, {"encryption_key": key})
    assert "No secrets" in ok(run("list", "--internal", internal, "-c", config)).output
    assert json.loads(ok(run("list", "--json", "--internal", internal, "-c", config)).stdout) == []


# import


def import_table(output):
    """{name: (line, result, remarks)} from the import report."""
    found = {}
    for line in output.splitlines()[1:]:
        if not line.strip():
            break
        parts = line.split(None, 3)
        found[parts[1]] = (int(parts[0]), parts[2], parts[3] if len(parts) > 3 else "")
    return found


PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"


@pytest.fixture
def dotenv_file(tmp_path, options, internal, key, monkeypatch):
    """API_KEY stored and unchanged, OTHER_KEY stored and changed, ENV_KEY new
    and shadowed, plus an unknown name and an empty one."""
    set_value(options, "API_KEY", VALUE, "--note", "kept")
    set_value(options, "OTHER_KEY", OTHER_VALUE, "--note", "vendor key")
    monkeypatch.setenv("DATASETTE_SECRETS_ENV_KEY", "from-the-environment")
    return write_env(
        tmp_path,
        "# exported from the old server\r\n"
        f"export DATASETTE_SECRETS_API_KEY={VALUE}   # the same\r\n"
        f'OTHER_KEY="  {NEW_VALUE}\\n"\r\n'
        f'ENV_KEY="{PEM}"\r\n'
        "UNKNOWN_KEY=sk-unknown-0000111122223333\r\n"
        "EMPTY=\r\n",
    )


def test_import_reports_and_stores_in_one_transaction(dotenv_file, options, internal, key, events):
    before = len(audit(internal))
    result = ok(run("import", dotenv_file, *options))
    report = import_table(result.output)
    assert report == {
        "API_KEY": (2, "unchanged", "not stored again"),
        "OTHER_KEY": (3, "changed", ""),
        "ENV_KEY": (4, "new", "DATASETTE_SECRETS_ENV_KEY is set and takes precedence"),
        "UNKNOWN_KEY": (7, "unknown", "no installed plugin registers it; not stored"),
        "EMPTY": (8, "unknown", "no installed plugin registers it; not stored"),
    }
    assert "Stored 2 secrets in one transaction: OTHER_KEY version 2, ENV_KEY version 1." in result.output
    assert "Not stored, since no installed plugin registers them: UNKNOWN_KEY, EMPTY." in result.output
    # values stripped as the admin page strips them; unchanged ones not stored again
    assert decrypted(internal, key, "API_KEY") == {1: VALUE}
    assert decrypted(internal, key, "OTHER_KEY") == {1: OTHER_VALUE, 2: NEW_VALUE}
    assert decrypted(internal, key, "ENV_KEY") == {1: PEM}
    assert rows(internal, "UNKNOWN_KEY") == [] and rows(internal, "EMPTY") == []
    # the current note is kept, as the admin page's form keeps it
    assert [r["note"] for r in rows(internal, "OTHER_KEY")] == ["vendor key", "vendor key"]
    assert rows(internal, "ENV_KEY")[0]["note"] == ""
    # Each comparison with a stored value is a read of it, so it is audited.
    assert audit(internal)[before:] == [
        {"name": "API_KEY", "version": 1, "action": "compare", "detail": "command line import", "actor_id": None},
        {"name": "OTHER_KEY", "version": 1, "action": "compare", "detail": "command line import", "actor_id": None},
        {"name": "OTHER_KEY", "version": 2, "action": "set", "detail": "command line import", "actor_id": None},
        {"name": "ENV_KEY", "version": 1, "action": "set", "detail": "command line import", "actor_id": None},
    ]
    assert [(e.name, e.properties()) for e in events[-2:]] == [
        ("set-secret", {"secret_name": "OTHER_KEY", "version": 2}),
        ("set-secret", {"secret_name": "ENV_KEY", "version": 1}),
    ]
    assert_no_value(result.output, VALUE, NEW_VALUE, OTHER_VALUE, "sk-unknown-0000111122223333", "BADANBgkq")

    again = ok(run("import", dotenv_file, *options))
    assert {name: found[1] for name, found in import_table(again.output).items()} == {
        "API_KEY": "unchanged", "OTHER_KEY": "unchanged", "ENV_KEY": "unchanged",
        "UNKNOWN_KEY": "unknown", "EMPTY": "unknown",
    }
    assert "Nothing to store" in again.output


def test_import_an_empty_value_of_a_registered_secret_is_skipped(tmp_path, options, internal):
    result = ok(run("import", write_env(tmp_path, "API_KEY=\nOTHER_KEY=''\n"), *options))
    assert import_table(result.output) == {
        "API_KEY": (1, "empty", "empty value; not stored"),
        "OTHER_KEY": (2, "empty", "empty value; not stored"),
    }
    assert rows(internal) == []


def test_import_dry_run_stores_nothing(dotenv_file, options, internal, events):
    before_rows, before_audit, before_events = rows(internal), audit(internal), len(events)
    result = ok(run("import", dotenv_file, *options, "--dry-run"))
    assert {name: found[1] for name, found in import_table(result.output).items()} == {
        "API_KEY": "unchanged", "OTHER_KEY": "changed", "ENV_KEY": "new",
        "UNKNOWN_KEY": "unknown", "EMPTY": "unknown",
    }
    assert "Dry run: nothing was stored. 2 secrets would be stored." in result.output
    assert rows(internal) == before_rows
    # Only the comparisons the report shows are recorded.
    assert [row["action"] for row in audit(internal)[len(before_audit):]] == ["compare", "compare"]
    assert len(events) == before_events


def test_import_is_all_or_nothing_when_a_write_fails(dotenv_file, options, internal, events):
    before_rows, before_audit, before_events = rows(internal), audit(internal), len(events)
    conn = sqlite3.connect(internal)
    with conn:  # the second of the two inserts fails
        conn.execute(
            "create trigger fail_import before insert on datasette_secrets "
            "when new.name = 'ENV_KEY' begin select raise(abort, 'disk on fire'); end"
        )
    conn.close()
    failed(run("import", dotenv_file, *options), "refused this (disk on fire); nothing was changed.")
    assert rows(internal) == before_rows, "OTHER_KEY, written first, was rolled back"
    # The comparisons were made (and audited, as any read of a value) before the write failed.
    assert [row["action"] for row in audit(internal)[len(before_audit):]] == ["compare", "compare"]
    assert len(events) == before_events


def test_import_of_a_value_that_changed_meanwhile_stores_nothing(options, internal, key):
    """save_many decides inside its transaction: a plan made against version 1
    stores nothing once another change made version 2."""
    set_value(options, "API_KEY", VALUE)

    async def race():
        ds = Datasette(internal=internal, config={"plugins": {"datasette-secrets": {"encryption_key": key}}})
        await ds.invoke_startup()
        state = await core.ready(ds)
        insert(internal, "API_KEY", NEW_VALUE, key, version=2)  # another process's change
        with pytest.raises(core.Conflict, match="Changed meanwhile: API_KEY"):
            await core.save_many(ds, state, [("OTHER_KEY", "o", "", None), ("API_KEY", "x", "", 1)], None)
        assert await store.current(state.db, "OTHER_KEY") is None

    asyncio.run(race())
    assert decrypted(internal, key, "API_KEY") == {1: VALUE, 2: NEW_VALUE}


def test_import_a_stored_value_that_cannot_be_decrypted_counts_as_changed(tmp_path, options, internal, other_key, key):
    insert(internal, "API_KEY", VALUE, other_key)  # under a key this configuration lacks
    insert(internal, "OTHER_KEY", OTHER_VALUE, key)  # so the key itself is not wrong
    result = ok(run("import", write_env(tmp_path, f"API_KEY={NEW_VALUE}\n"), *options))
    assert import_table(result.output) == {"API_KEY": (1, "changed", "the stored value could not be decrypted")}
    newest = rows(internal, "API_KEY")[-1]
    assert newest["version"] == 2
    assert Key(key).decrypt("API_KEY", 2, newest["encrypted"]) == NEW_VALUE


def test_import_from_stdin(options, internal, key):
    result = ok(run("import", "-", *options, input=f"API_KEY={VALUE}\n"))
    assert "Stored 1 secret in one transaction: API_KEY version 1." in result.output
    assert decrypted(internal, key, "API_KEY") == {1: VALUE}


BAD_FILES = {
    "unparseable lines": (
        "API_KEY=fine\nsk-live-pasted-value-999\nOTHER_KEY=\"sk-open-quote-888\n",
        ["line 2: expected NAME=value", "line 3: the double-quoted value starting here is never closed"],
    ),
    "a name twice": ("API_KEY=one\nDATASETTE_SECRETS_API_KEY=two\n", ["line 2: API_KEY is set again (first on line 1)"]),
    "not UTF-8": (b"API_KEY=\xff\xfe\n", ["is not UTF-8 text"]),
    "a value too long": (
        "OTHER_KEY=ok\nAPI_KEY=" + "x" * (core.MAX_VALUE_LENGTH + 1) + "\n",
        ["Values too long (at most 16,384 characters) on line 2, so nothing was stored."],
    ),
}


@pytest.mark.parametrize("text, messages", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_import_a_bad_file_stores_nothing(text, messages, tmp_path, options, internal):
    path = write_env(tmp_path, text)
    for args in ([], ["--dry-run"]):
        result = failed(run("import", path, *options, *args), messages[0])
        for message in messages:
            assert message in result.output
        assert "nothing was stored" in result.output.lower()
        assert_no_value(result.output, "sk-live-pasted-value-999", "sk-open-quote-888")
    assert rows(internal) == []


def test_import_a_missing_file(tmp_path, options):
    failed(run("import", str(tmp_path / "nowhere.env"), *options), "Could not read")


def test_import_a_directory_is_refused(tmp_path, options):
    result = run("import", str(tmp_path), *options)
    assert result.exit_code == 2 and "is a directory" in result.output


def test_import_an_empty_file(tmp_path, options):
    result = ok(run("import", write_env(tmp_path, "# nothing yet\n"), *options))
    assert "holds no secrets" in result.output


def test_import_without_a_key_fails(tmp_path, internal, example_plugin):
    config = write_config(tmp_path, {})
    failed(
        run("import", write_env(tmp_path, "API_KEY=x\n"), "--internal", internal, "-c", config),
        "no encryption_key is configured",
    )
    assert rows(internal) == []


# The serve-like options every command shares

COMMANDS = {
    "list": (["list"], None),
    "set": (["set", "API_KEY"], VALUE),
    "delete": (["delete", "API_KEY"], None),
    "history": (["history", "API_KEY"], None),
    "import": (["import", "-"], f"API_KEY={VALUE}\n"),
}


@pytest.fixture(params=list(COMMANDS), ids=list(COMMANDS))
def command(request):
    return COMMANDS[request.param]


def test_each_command_needs_internal_for_the_internal_database(command, tmp_path, key, example_plugin):
    args, stdin = command
    config = write_config(tmp_path, {"encryption_key": key})
    failed(run(*args, "-c", config, input=stdin), "no --internal was given")


def test_each_command_refuses_a_missing_internal_file(command, tmp_path, key, example_plugin):
    args, stdin = command
    config = write_config(tmp_path, {"encryption_key": key})
    missing = tmp_path / "typo.db"
    failed(run(*args, "--internal", str(missing), "-c", config, input=stdin), "no such file")
    assert not missing.exists()


def test_each_command_refuses_a_database_not_attached(command, tmp_path, key, internal, example_plugin):
    args, stdin = command
    config = write_config(tmp_path, {"encryption_key": key, "database": "vault"})
    failed(run(*args, "--internal", internal, "-c", config, input=stdin), "the configured database 'vault' is not attached")


def test_each_command_refuses_a_malformed_key(command, tmp_path, internal, example_plugin):
    args, stdin = command
    config = write_config(tmp_path, {"encryption_key": "not a key"})
    result = failed(run(*args, "--internal", internal, "-c", config, input=stdin), "encryption_key")
    assert "generate-encryption-key" in result.output


def test_each_command_refuses_a_missing_database_file(command, tmp_path, options):
    args, stdin = command
    # set, delete and history never repeat it: it may be a value typed by mistake
    named = args[0] in ("list", "import")
    message = "does not exist" if named else "can only be database files that exist"
    result = failed(run(*args, str(tmp_path / "absent.db"), *options, input=stdin), message)
    assert ("absent.db" in result.output) == named


def test_commands_use_a_configured_database_file_and_dash_s(tmp_path, key, example_plugin):
    vault = new_database(tmp_path / "vault.db")
    args = [vault, "-s", "plugins.datasette-secrets.database", "vault",
            "-s", "plugins.datasette-secrets.encryption_key", key]
    ok(run("set", "API_KEY", *args, input=VALUE))  # no --internal needed: secrets live in vault.db
    assert decrypted(vault, key, "API_KEY") == {1: VALUE}
    ok(run("import", write_env(tmp_path, f"OTHER_KEY={OTHER_VALUE}\n"), *args))
    assert decrypted(vault, key, "OTHER_KEY") == {1: OTHER_VALUE}
    listed = {row["name"]: row["version"] for row in json.loads(ok(run("list", "--json", *args)).stdout)}
    assert listed == {"API_KEY": 1, "OTHER_KEY": 1, "ENV_KEY": None}
    assert "current" in ok(run("history", "API_KEY", *args)).output
    ok(run("delete", "API_KEY", *args))
    assert rows(vault, "API_KEY")[0]["deleted_at"] is not None


def test_help_lists_every_command():
    result = ok(run("--help"))
    for name in ("list", "set", "delete", "history", "import", "rotate-key", "generate-encryption-key"):
        assert f"  {name} " in result.output


def test_a_table_dropped_under_the_commands_is_a_message(options, internal):
    set_value(options, "API_KEY", VALUE)
    conn = sqlite3.connect(internal)
    with conn:  # the startup migration sees it applied, so does not make it again
        conn.execute("drop table datasette_secrets")
    conn.close()
    for args, stdin in (["list"], None), (["history", "API_KEY"], None), (["set", "API_KEY"], VALUE):
        failed(run(*args, *options, input=stdin), "table is missing or damaged")
