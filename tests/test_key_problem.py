"""A well-formed but wrong encryption key is noticed before anything is stored.

``key`` is the configured key throughout; ``other_key`` is the key the stored
versions were written with (the right key, when it is not configured).
"""

import sqlite3

import pytest

from datasette_secrets import key_fit
from datasette_secrets.core import ready
from datasette_secrets.crypto import Key, Keyring
from cli_helpers import (
    NEW_VALUE,
    OTHER_VALUE,
    VALUE,
    failed,
    insert,
    ok,
    rows,
    run,
    write_env,
)
from secret_helpers import (
    LEGACY_ROWS,
    ROOT,
    build_legacy_db,
    insert_row,
    legacy_token,
    parse,
    store_value,
    write_config,
)


# key_problem itself


async def problem(make_datasette, internal, key, **settings):
    ds = make_datasette(key=key, internal=internal, settings=settings)
    await ds.invoke_startup()
    return await key_fit.key_problem(await ready(ds))


@pytest.fixture
def internal(tmp_path):
    return str(tmp_path / "internal.db")


async def stored_with(make_datasette, internal, key, *names):
    """Store a version of each name, through the admin page, with ``key``."""
    ds = make_datasette(key=key, internal=internal)
    await ds.invoke_startup()
    for name in names:
        await store_value(ds, name, VALUE)
    return ds


@pytest.mark.asyncio
async def test_nothing_stored_is_no_problem(example_plugin, make_datasette, internal, key):
    assert await problem(make_datasette, internal, key) is None


@pytest.mark.asyncio
async def test_the_right_key_is_no_problem(example_plugin, make_datasette, internal, key):
    await stored_with(make_datasette, internal, key, "API_KEY")
    assert await problem(make_datasette, internal, key) is None


@pytest.mark.asyncio
async def test_the_old_key_as_a_previous_key_is_no_problem(example_plugin, make_datasette, internal, key, other_key):
    await stored_with(make_datasette, internal, other_key, "API_KEY", "OTHER_KEY")
    assert await problem(make_datasette, internal, key, previous_encryption_keys=[other_key]) is None


@pytest.mark.asyncio
async def test_deleted_versions_count(example_plugin, make_datasette, internal, key):
    ds = await stored_with(make_datasette, internal, key, "API_KEY")
    assert (await ds.client.post("/-/secrets/API_KEY/delete", actor=ROOT)).status_code == 302
    assert await problem(make_datasette, internal, key) is None


@pytest.mark.asyncio
async def test_no_key_configured_is_left_to_the_code_that_says_so(example_plugin, make_datasette, internal, other_key):
    await stored_with(make_datasette, internal, other_key, "API_KEY")
    assert await problem(make_datasette, internal, None) is None


@pytest.mark.asyncio
async def test_a_wrong_key_is_named_by_key_ids_never_the_keys(example_plugin, make_datasette, internal, key, other_key):
    ds = await stored_with(make_datasette, internal, other_key, "API_KEY", "OTHER_KEY")
    await store_value(ds, "API_KEY", NEW_VALUE)
    message = await problem(make_datasette, internal, key)
    assert message is not None
    assert "decrypt none of the 3 stored versions" in message
    assert Key(other_key).id in message and Key(key).id in message
    assert key not in message and other_key not in message


@pytest.mark.asyncio
async def test_one_fitting_key_among_several_is_enough(example_plugin, make_datasette, internal, key, other_key):
    ds = await stored_with(make_datasette, internal, other_key, "API_KEY")
    await insert_row(ds, "OTHER_KEY", Key(key).encrypt("OTHER_KEY", 1, VALUE), Key(key).id)
    assert await problem(make_datasette, internal, key) is None


@pytest.mark.asyncio
async def test_legacy_rows_with_the_right_key(example_plugin, make_datasette, internal, key):
    build_legacy_db(internal, key, LEGACY_ROWS)
    assert await problem(make_datasette, internal, key) is None


@pytest.mark.asyncio
async def test_legacy_rows_with_a_wrong_key(example_plugin, make_datasette, internal, key, other_key):
    build_legacy_db(internal, other_key, LEGACY_ROWS)
    message = await problem(make_datasette, internal, key)
    assert f"decrypt none of the {len(LEGACY_ROWS)} stored versions" in message
    assert "0.2/0.3" in message
    assert key not in message and other_key not in message


@pytest.mark.asyncio
async def test_few_legacy_rows_are_tried(example_plugin, make_datasette, internal, key, other_key, monkeypatch):
    legacy = [(f"NAME_{i}", 1, f"value-{i}", False) for i in range(40)]
    build_legacy_db(internal, other_key, legacy)
    tried = []
    real = Keyring._decrypt_legacy
    monkeypatch.setattr(Keyring, "_decrypt_legacy", lambda self, name, blob: tried.append(name) or real(self, name, blob))
    assert await problem(make_datasette, internal, key) is not None
    assert 1 <= len(tried) <= 2


@pytest.mark.asyncio
async def test_the_newest_legacy_rows_decide(example_plugin, make_datasette, internal, key, other_key):
    """0.2/0.3 wrote every row with the key configured then: the newest rows
    are under the key an admin would configure now."""
    build_legacy_db(internal, other_key, LEGACY_ROWS[:3])
    ds = make_datasette(key=key, internal=internal)
    await ds.invoke_startup()
    await insert_row(ds, "API_KEY", legacy_token(key, "newest"), "default", version=9)
    assert await problem(make_datasette, internal, key) is None


# The commands


@pytest.fixture
def wrong_key(tmp_path, key, other_key, example_plugin):
    """An internal database holding versions under ``other_key``, and the
    options of a configuration with only ``key``: (internal, options)."""
    internal = str(tmp_path / "internal.db")
    insert(internal, "API_KEY", VALUE, other_key)
    insert(internal, "API_KEY", NEW_VALUE, other_key, version=2)
    insert(internal, "OTHER_KEY", OTHER_VALUE, other_key, deleted=True)
    return internal, ["--internal", internal, "-c", write_config(tmp_path, {"encryption_key": key})]


WRONG_KEY = "decrypt none of the 3 stored versions"


def assert_no_key(output, *keys):
    for key in keys:
        assert key not in output


def test_set_with_a_wrong_key_stores_nothing(wrong_key, key, other_key):
    internal, options = wrong_key
    result = failed(run("set", "API_KEY", *options, input=OTHER_VALUE), WRONG_KEY)
    assert "Nothing was stored" in result.output and "--force" in result.output
    assert Key(other_key).id in result.output
    assert_no_key(result.output, key, other_key, OTHER_VALUE)
    assert len(rows(internal)) == 3


def test_set_with_a_wrong_key_does_not_ask_for_the_value(wrong_key, monkeypatch):
    from datasette_secrets import cli as secrets_cli

    monkeypatch.setattr(secrets_cli, "_read_value", lambda name: pytest.fail("asked for the value"))
    failed(run("set", "API_KEY", *wrong_key[1]), WRONG_KEY)


def test_set_with_a_wrong_key_and_force_stores(wrong_key, key):
    internal, options = wrong_key
    result = ok(run("set", "API_KEY", *options, "--force", input=OTHER_VALUE))
    assert "Saved API_KEY: version 3." in result.stdout
    assert WRONG_KEY in result.stderr
    newest = rows(internal)[-1]
    assert Key(key).decrypt("API_KEY", 3, newest["encrypted"]) == OTHER_VALUE


def test_import_with_a_wrong_key_stores_nothing(wrong_key, tmp_path, key, other_key):
    internal, options = wrong_key
    env = write_env(tmp_path, f"API_KEY={OTHER_VALUE}\n")
    result = failed(run("import", env, *options), WRONG_KEY)
    assert "Nothing was stored" in result.output
    assert_no_key(result.output, key, other_key, OTHER_VALUE)
    assert len(rows(internal)) == 3

    dry = ok(run("import", env, *options, "--dry-run"))  # stores nothing anyway: reports, and warns
    assert WRONG_KEY in dry.stderr and "Dry run: nothing was stored" in dry.stdout
    assert len(rows(internal)) == 3

    ok(run("import", env, *options, "--force"))
    assert len(rows(internal)) == 4


def test_rotate_key_with_a_wrong_key_changes_nothing(wrong_key, key, other_key):
    internal, options = wrong_key
    before = sqlite3.connect(internal).execute("select * from datasette_secrets").fetchall()
    result = failed(run("rotate-key", *options), WRONG_KEY)
    assert "Nothing was changed" in result.output and "--dry-run" in result.output
    assert_no_key(result.output, key, other_key)
    conn = sqlite3.connect(internal)
    assert conn.execute("select * from datasette_secrets").fetchall() == before
    assert conn.execute("select count(*) from datasette_secrets_audit where action = 'rotate'").fetchone() == (0,)
    conn.close()

    dry = run("rotate-key", *options, "--dry-run")  # reports every version that does not decrypt
    assert dry.exit_code == 1 and WRONG_KEY in dry.stderr
    assert "3 versions could not be decrypted" in dry.stdout

    forced = run("rotate-key", *options, "--force")
    assert forced.exit_code == 1 and "3 versions could not be decrypted" in forced.stdout
    assert sqlite3.connect(internal).execute("select * from datasette_secrets").fetchall() == before


def test_the_right_key_after_a_refusal_still_works(wrong_key, tmp_path, key, other_key):
    internal, _ = wrong_key
    config = write_config(tmp_path, {"encryption_key": key, "previous_encryption_keys": [other_key]}, "both.json")
    options = ["--internal", internal, "-c", config]
    ok(run("set", "API_KEY", *options, input=OTHER_VALUE))
    ok(run("import", write_env(tmp_path, f"OTHER_KEY={NEW_VALUE}\n"), *options))
    assert "Re-encrypted 3 versions" in ok(run("rotate-key", *options)).output


@pytest.mark.parametrize("right", [True, False])
def test_legacy_rows_decide_for_the_commands(right, tmp_path, key, other_key, example_plugin):
    internal = str(tmp_path / "internal.db")
    build_legacy_db(internal, key if right else other_key, LEGACY_ROWS)
    options = ["--internal", internal, "-c", write_config(tmp_path, {"encryption_key": key})]
    result = run("set", "API_KEY", *options, input=OTHER_VALUE)
    if right:
        ok(result)
        assert len(rows(internal)) == len(LEGACY_ROWS) + 1
    else:
        failed(result, f"decrypt none of the {len(LEGACY_ROWS)} stored versions")
        assert len(rows(internal)) == len(LEGACY_ROWS)


def test_each_command_help_documents_force():
    for command in ("set", "import", "rotate-key"):
        assert "--force" in ok(run(command, "--help")).output


# The admin page


@pytest.mark.asyncio
async def test_the_list_page_says_the_key_is_wrong(example_plugin, make_datasette, internal, key, other_key):
    await stored_with(make_datasette, internal, other_key, "API_KEY")
    ds = make_datasette(key=key, internal=internal)
    await ds.invoke_startup()
    page = await ds.client.get("/-/secrets", actor=ROOT)
    assert page.status_code == 200
    notice = parse(page).select_one('[role="alert"]')
    assert notice is not None
    text = notice.get_text(" ", strip=True)
    assert "decrypt none of the 1 stored version" in text and Key(other_key).id in text
    assert key not in page.text and other_key not in page.text


@pytest.mark.asyncio
async def test_the_list_page_with_the_right_key_has_no_notice(example_plugin, make_datasette, internal, key):
    await stored_with(make_datasette, internal, key, "API_KEY")
    ds = make_datasette(key=key, internal=internal)
    await ds.invoke_startup()
    page = await ds.client.get("/-/secrets", actor=ROOT)
    assert "decrypt none" not in page.text
