"""What the commands print is safe: no value typed as an argument is echoed,
and no text read from the database drives the terminal."""

import sqlite3

import pytest

from cli_helpers import NEW_VALUE, VALUE, insert, ok, rows, run, set_value
from secret_helpers import new_database

# Escape sequences a stored name or actor id could carry: colour, a window
# title (OSC, ended by BEL), and the one-byte C1 form of CSI.
EVIL = "EVIL\x1b[31mNAME\x1b]0;owned\x07\x9b2J"
TERMINAL_CONTROLS = ("\x1b", "\x07", "\x9b")


def assert_safe(output):
    for control in TERMINAL_CONTROLS:
        assert control not in output, repr(output)


# A value typed as an argument by mistake


def test_set_with_a_value_as_an_argument_never_echoes_it(options, internal):
    result = run("set", "API_KEY", VALUE, *options, input=NEW_VALUE)
    assert result.exit_code == 1, result.output
    assert "never from an argument" in result.output and "Nothing was stored" in result.output
    assert VALUE not in result.output and VALUE[-4:] not in result.output
    assert rows(internal) == []


def test_set_with_several_stray_arguments_echoes_none(options, internal):
    result = run("set", "API_KEY", "sk-first-stray-1234", "sk-second-stray-5678", *options, input=NEW_VALUE)
    assert result.exit_code == 1
    assert "stray" not in result.output
    assert rows(internal) == []


def test_set_still_takes_database_files_that_exist(tmp_path, options, internal, key):
    other = new_database(tmp_path / "other.db")
    ok(run("set", "API_KEY", other, *options, input=VALUE))
    assert len(rows(internal)) == 1


@pytest.mark.parametrize("command", ["delete", "history"])
def test_delete_and_history_never_echo_a_stray_argument(command, options, internal):
    set_value(options, "API_KEY", VALUE)
    result = run(command, "API_KEY", NEW_VALUE, *options)
    assert result.exit_code == 1, result.output
    assert NEW_VALUE not in result.output and NEW_VALUE[-4:] not in result.output
    assert rows(internal)[0]["deleted_at"] is None


# Text read from the database


@pytest.fixture
def evil_rows(internal, options, key, other_key):
    """API_KEY readable with the configured key, and an orphan whose name,
    key id and actor ids carry escape sequences, under a key not configured."""
    set_value(options, "API_KEY", VALUE)
    insert(internal, EVIL, VALUE, other_key)
    conn = sqlite3.connect(internal)
    with conn:
        conn.execute(
            "update datasette_secrets set encryption_key_name = ?, created_by = ?, updated_by = ? where name = ?",
            ["\x1b[31mbad", "\x1b[2Jmallory", "\x1b[2Jmallory", EVIL],
        )
    conn.close()


def test_rotate_key_lists_an_undecryptable_name_escaped(evil_rows, options):
    result = run("rotate-key", *options)
    assert result.exit_code == 1, result.output
    assert "1 version could not be decrypted" in result.output
    assert_safe(result.output)
    assert "EVIL\\x1b[31mNAME" in result.output
    assert "\\x1b[31mbad" in result.output  # its key id, in the counts and in the list


def test_list_escapes_names_and_actors(evil_rows, options):
    result = ok(run("list", *options))
    assert_safe(result.output)
    assert "EVIL\\x1b[31mNAME" in result.output and "\\x1b[2Jmallory" in result.output


def test_history_escapes_names_key_ids_and_actors(evil_rows, options):
    result = ok(run("history", EVIL, *options))
    assert_safe(result.output)
    assert "\\x1b[31mbad" in result.output and "\\x1b[2Jmallory" in result.output


def test_delete_escapes_the_name_it_confirms(evil_rows, options):
    result = ok(run("delete", EVIL, *options))
    assert_safe(result.output)
    assert "Deleted EVIL\\x1b[31mNAME" in result.output


def test_messages_about_unknown_names_are_escaped(options):
    for command in ("set", "delete", "history"):
        result = run(command, "NO\x1b[31mSUCH", *options, input=VALUE)
        assert result.exit_code == 1
        assert_safe(result.output)
