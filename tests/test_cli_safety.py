"""What the commands print is safe: no text read from the database drives the terminal."""

import sqlite3

import pytest

from test_commands import VALUE, insert, new_database, ok, run, set_value, write_config

# Escape sequences a stored name or actor id could carry: colour, a window
# title (OSC, ended by BEL), and the one-byte C1 form of CSI.
EVIL = "EVIL\x1b[31mNAME\x1b]0;owned\x07\x9b2J"
TERMINAL_CONTROLS = ("\x1b", "\x07", "\x9b")


@pytest.fixture
def internal(tmp_path):
    return new_database(tmp_path / "internal.db")


@pytest.fixture
def options(tmp_path, internal, key, example_plugin):
    return ["--internal", internal, "-c", write_config(tmp_path, {"encryption_key": key})]


def assert_safe(output):
    for control in TERMINAL_CONTROLS:
        assert control not in output, repr(output)


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
