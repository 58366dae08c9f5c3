"""Tampering the plugin can see: a secret rolled back, or an old-format row planted.

Someone who can write the database can remove a secret's newest versions, so
an older value comes back, or put an old-format row (a 0.2/0.3 Fernet token, or
this plugin's first format, bound to the name only) on top of a secret. Within
one process the plugin refuses both: ``SecretTamperedError``, a
``SecretDecryptionError``, never the old value. Every change made through the
plugin (set, delete, restore, rotation) is served as before.
"""

import logging

import pytest
import pytest_asyncio

from datasette_secrets import Secret, SecretDecryptionError, SecretTamperedError, get_secret, rotation
from datasette_secrets.core import ready
from datasette_secrets.crypto import Key
from secret_helpers import (
    HX,
    ROOT,
    first_format,
    insert_row,
    legacy_token,
    parse,
    row_of,
    secrets_db,
    secrets_plugin,
    store_value,
)

VALUES = ["value-one-4f1c", "value-two-9a2e", "value-three-77d0"]


@pytest_asyncio.fixture
async def served(ds):
    """API_KEY stored three times, and version 3 served by get_secret."""
    for value in VALUES:
        await store_value(ds, "API_KEY", value)
    assert await get_secret(ds, "API_KEY") == VALUES[2]
    return ds


async def tamper(ds, clock, sql, params=()):
    """Change the table with plain SQL, as someone with write access to the file
    could, and let the plugin's look for outside writes come round."""
    await secrets_db(ds).execute_write(sql, list(params))
    clock.now += 1.1


def assert_no_value(text):
    for value in VALUES + ["planted-value-e3b1"]:
        assert value not in text


# Rollback: newer versions removed after this process served them


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "sql",
    [
        "delete from datasette_secrets where name = 'API_KEY' and version > 1",
        "update datasette_secrets set deleted_at = datetime('now') where name = 'API_KEY' and version > 1",
    ],
    ids=["rows deleted", "rows marked deleted"],
)
async def test_a_rolled_back_secret_is_refused(served, clock, caplog, sql):
    await tamper(served, clock, sql)
    caplog.set_level(logging.WARNING, logger="datasette_secrets")
    with pytest.raises(SecretTamperedError) as info:
        await get_secret(served, "API_KEY")
    message = str(info.value)
    assert "'API_KEY'" in message
    assert "version 1 is older than version 3" in message
    assert_no_value(message)
    assert (info.value.name, info.value.version) == ("API_KEY", 1)
    # Code written against SecretDecryptionError catches it too, every time.
    with pytest.raises(SecretDecryptionError):
        await get_secret(served, "API_KEY")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "older than version 3" in warnings[0]
    assert_no_value(warnings[0])


@pytest.mark.asyncio
async def test_a_rolled_back_secret_shows_why_on_the_list_page(served, clock):
    await tamper(served, clock, "delete from datasette_secrets where name = 'API_KEY' and version > 1")
    with pytest.raises(SecretTamperedError):
        await get_secret(served, "API_KEY")
    response = await served.client.get("/-/secrets", actor=ROOT)
    assert response.status_code == 200
    # A chip in words on the row, the reason on hover.
    chip = row_of(parse(response), "API_KEY").select_one(".secret-unreadable")
    assert chip.get_text() == "Can't read: changed outside Datasette"
    assert "version 1 is older than version 3" in chip["title"]
    assert_no_value(response.text)


@pytest.mark.asyncio
@pytest.mark.parametrize("action", ["reveal", "copy"])
async def test_a_rolled_back_secret_is_never_revealed(served, clock, action):
    await tamper(served, clock, "delete from datasette_secrets where name = 'API_KEY' and version > 1")
    response = await served.client.post(f"/-/secrets/API_KEY/{action}", actor=ROOT)
    assert response.status_code == 409
    assert "version 1 is older than version 3" in response.text
    assert_no_value(response.text)


@pytest.mark.asyncio
async def test_a_rolled_back_secret_is_never_tested(register_plugin, make_datasette, clock):
    checked = []

    async def check(datasette, value):
        checked.append(value)
        return True, "fine"

    register_plugin(secrets_plugin(Secret("CHECKED_KEY", check=check)), "checked-plugin")
    ds = make_datasette()
    for value in VALUES:
        await store_value(ds, "CHECKED_KEY", value)
    assert await get_secret(ds, "CHECKED_KEY") == VALUES[2]
    await tamper(ds, clock, "delete from datasette_secrets where version > 1")
    response = await ds.client.post("/-/secrets/CHECKED_KEY/test", actor=ROOT)
    assert response.status_code == 409
    assert "version 1 is older than version 3" in response.text
    assert checked == []


@pytest.mark.asyncio
async def test_a_new_value_replaces_a_reported_rollback(served, clock):
    await tamper(served, clock, "delete from datasette_secrets where name = 'API_KEY' and version > 1")
    with pytest.raises(SecretTamperedError):
        await get_secret(served, "API_KEY")
    # A note changes no version: still refused.
    await store_value(served, "API_KEY", "", note="looked at it")
    with pytest.raises(SecretTamperedError):
        await get_secret(served, "API_KEY")
    # A new value is version 2 (numbered after the rows left), and is served.
    await store_value(served, "API_KEY", "fresh-value")
    assert await get_secret(served, "API_KEY") == "fresh-value"
    response = await served.client.get("/-/secrets", actor=ROOT)
    assert "older than" not in row_of(parse(response), "API_KEY").get_text(" ", strip=True)
    # ...and a later rollback of that is refused again.
    await store_value(served, "API_KEY", "fresher-value")
    assert await get_secret(served, "API_KEY") == "fresher-value"
    await tamper(served, clock, "delete from datasette_secrets where name = 'API_KEY' and version = 3")
    with pytest.raises(SecretTamperedError):
        await get_secret(served, "API_KEY")


@pytest.mark.asyncio
async def test_restoring_replaces_a_reported_rollback(served, clock):
    await tamper(served, clock, "delete from datasette_secrets where name = 'API_KEY' and version > 1")
    with pytest.raises(SecretTamperedError):
        await get_secret(served, "API_KEY")
    response = await served.client.post("/-/secrets/API_KEY/restore", data={"version": "1"}, actor=ROOT)
    assert response.status_code == 302
    assert await get_secret(served, "API_KEY") == VALUES[0]


@pytest.mark.asyncio
async def test_every_version_deleted_is_not_a_rollback(served, clock):
    """Nothing live is nothing to serve: get_secret says None, as after a delete."""
    await tamper(served, clock, "update datasette_secrets set deleted_at = datetime('now')")
    assert await get_secret(served, "API_KEY") is None


# Planted rows: an old format on top of a secret that has current-format versions


@pytest.mark.asyncio
@pytest.mark.parametrize("row_format", ["fernet", "first format"])
async def test_an_old_format_row_planted_on_top_is_refused(served, key, clock, row_format):
    if row_format == "fernet":
        blob, key_id = legacy_token(key, "planted-value-e3b1"), "default"
    else:
        blob, key_id = first_format(key, "API_KEY", "planted-value-e3b1"), Key(key).id
    await insert_row(served, "API_KEY", blob, key_id, version=4)
    clock.now += 1.1
    with pytest.raises(SecretTamperedError) as info:
        await get_secret(served, "API_KEY")
    message = str(info.value)
    assert "'API_KEY'" in message and "old format" in message
    assert_no_value(message)
    response = await served.client.post("/-/secrets/API_KEY/reveal", actor=ROOT)
    assert response.status_code == 409
    assert "old format" in response.text
    assert_no_value(response.text)


@pytest.mark.asyncio
async def test_a_planted_row_is_refused_by_a_process_that_served_nothing(
    example_plugin, make_datasette, key, tmp_path
):
    """The format check needs no memory: a fresh start refuses the row too."""
    path = str(tmp_path / "internal.db")
    first = make_datasette(internal=path)
    await store_value(first, "API_KEY", VALUES[0])
    await insert_row(first, "API_KEY", legacy_token(key, "planted-value-e3b1"), "default", version=2)
    fresh = make_datasette(internal=path)
    with pytest.raises(SecretTamperedError):
        await get_secret(fresh, "API_KEY")


# What the plugin does itself is never refused


@pytest.mark.asyncio
async def test_set_delete_set_again_and_restore_are_served(served):
    response = await served.client.post("/-/secrets/API_KEY/delete", actor=ROOT)
    assert response.status_code == 302
    assert await get_secret(served, "API_KEY") is None
    await store_value(served, "API_KEY", "after-delete")
    assert await get_secret(served, "API_KEY") == "after-delete"
    response = await served.client.post("/-/secrets/API_KEY/restore", data={"version": "1"}, actor=ROOT)
    assert response.status_code == 302
    assert await get_secret(served, "API_KEY") == VALUES[0]
    response = await served.client.post("/-/secrets/API_KEY/reveal", actor=ROOT)
    assert response.status_code == 200


@pytest.mark.asyncio
async def test_another_datasette_in_the_same_process_has_its_own_versions(served, make_datasette):
    other = make_datasette()  # its own internal database: API_KEY starts again at version 1
    await store_value(other, "API_KEY", "other-instance")
    assert await get_secret(other, "API_KEY") == "other-instance"
    assert await get_secret(served, "API_KEY") == VALUES[2]


@pytest.mark.asyncio
async def test_upgraded_rows_a_new_value_and_a_rotation_are_served(ds, key):
    """0.2/0.3 rows, then a version written now, then everything re-encrypted."""
    await insert_row(ds, "API_KEY", legacy_token(key, VALUES[0]), "default", version=1)
    await insert_row(ds, "API_KEY", legacy_token(key, VALUES[1]), "default", version=2)
    await insert_row(ds, "OTHER_KEY", first_format(key, "OTHER_KEY", VALUES[0]), Key(key).id)
    assert await get_secret(ds, "API_KEY") == VALUES[1]
    assert await get_secret(ds, "OTHER_KEY") == VALUES[0]
    await store_value(ds, "API_KEY", VALUES[2])
    assert await get_secret(ds, "API_KEY") == VALUES[2]
    state = await ready(ds)
    report = await rotation.rotate(ds, state, ROOT)
    assert report.rotated == 3 and not report.failed
    assert await get_secret(ds, "API_KEY") == VALUES[2]
    assert await get_secret(ds, "OTHER_KEY") == VALUES[0]
    response = await ds.client.post("/-/secrets/API_KEY/restore", data={"version": "1"}, actor=ROOT)
    assert response.status_code == 302
    assert await get_secret(ds, "API_KEY") == VALUES[0]


@pytest.mark.asyncio
async def test_the_format_check_queries_only_for_old_format_rows(ds, key, monkeypatch):
    """The extra query runs on a cache miss, and only when the live row is in an old format."""
    from datasette_secrets import store_keys

    calls = []
    original = store_keys.has_version_bound

    async def counting(*args):
        calls.append(args[1])
        return await original(*args)

    monkeypatch.setattr(store_keys, "has_version_bound", counting)
    await store_value(ds, "API_KEY", VALUES[0])
    await insert_row(ds, "OTHER_KEY", legacy_token(key, VALUES[1]), "default")
    for _ in range(3):
        assert await get_secret(ds, "API_KEY") == VALUES[0]
        assert await get_secret(ds, "OTHER_KEY") == VALUES[1]
    assert calls == ["OTHER_KEY"]


# Own values of a personal secret: one stack with shared values, so vetted alike

ALICE = {"id": "alice"}


@pytest_asyncio.fixture
async def own_served(register_plugin, make_datasette):
    """alice's own AI_KEY stored three times, version 3 served to her; ``checked``
    lists the values its check was given."""
    checked = []

    async def check(datasette, value):
        checked.append(value)
        return True, "fine"

    register_plugin(secrets_plugin(Secret("AI_KEY", personal=True, check=check)), "personal-plugin")
    ds = make_datasette()
    await ds.invoke_startup()
    for value in VALUES:
        response = await ds.client.post("/-/secrets/-/mine/AI_KEY", data={"secret": value}, actor=ALICE)
        assert response.status_code == 302
    assert await get_secret(ds, "AI_KEY", "alice") == VALUES[2]
    ds.checked = checked
    return ds


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "sql",
    [
        "delete from datasette_secrets_personal where actor_id = 'alice' and version > 1",
        "update datasette_secrets_personal set deleted_at = datetime('now') where actor_id = 'alice' and version > 1",
    ],
    ids=["rows deleted", "rows marked deleted"],
)
async def test_a_rolled_back_own_value_is_refused_as_a_shared_one_is(own_served, clock, sql):
    await tamper(own_served, clock, sql)
    with pytest.raises(SecretTamperedError) as info:
        await get_secret(own_served, "AI_KEY", "alice")
    assert "alice's own value: version 1 is older than version 3" in str(info.value)
    assert (info.value.name, info.value.version) == ("AI_KEY", 1)
    assert_no_value(str(info.value))
    for action in ("reveal", "copy", "test"):
        response = await own_served.client.post(f"/-/secrets/-/mine/AI_KEY/{action}", actor=ALICE, headers=HX)
        assert response.status_code == 409
        assert "version 1 is older than version 3" in response.text
        assert_no_value(response.text)
    assert own_served.checked == []
    # A new value of alice's own replaces it (version 2, numbered after the rows left).
    response = await own_served.client.post("/-/secrets/-/mine/AI_KEY", data={"secret": "fresh-own"}, actor=ALICE)
    assert response.status_code == 302
    assert await get_secret(own_served, "AI_KEY", "alice") == "fresh-own"


@pytest.mark.asyncio
@pytest.mark.parametrize("row_format", ["fernet", "first format"])
async def test_an_old_format_own_row_is_refused(own_served, key, clock, row_format):
    """The plugin never wrote an own value in an old format: such a row was planted."""
    if row_format == "fernet":
        blob, key_id = legacy_token(key, "planted-value-e3b1"), "default"
    else:
        blob, key_id = first_format(key, "AI_KEY", "planted-value-e3b1"), Key(key).id
    await secrets_db(own_served).execute_write(
        "insert into datasette_secrets_personal (name, actor_id, version, encrypted, encryption_key_name, created_at) "
        "values ('AI_KEY', 'alice', 4, ?, ?, datetime('now'))",
        [blob, key_id],
    )
    clock.now += 1.1
    with pytest.raises(SecretTamperedError) as info:
        await get_secret(own_served, "AI_KEY", "alice")
    assert "old format" in str(info.value)
    assert_no_value(str(info.value))
    response = await own_served.client.post("/-/secrets/-/mine/AI_KEY/reveal", actor=ALICE, headers=HX)
    assert response.status_code == 409 and "old format" in response.text
    assert_no_value(response.text)


# The plugin's own writes are told from anyone else's by a generation that triggers
# bump; without those triggers a change by SQL is still seen


DELETE_TRIGGER = "datasette_secrets_generation_secrets_delete"


@pytest.mark.asyncio
async def test_a_rollback_around_a_dropped_trigger_is_refused(served, clock):
    """Dropped, rows deleted and the trigger made again, in one transaction: the
    generation did not move, but the schema did, so everything is read again."""
    from datasette_secrets import migrations

    def around(conn):
        conn.execute(f"drop trigger {DELETE_TRIGGER}")
        conn.execute("delete from datasette_secrets where name = 'API_KEY' and version > 1")
        conn.execute(migrations.GENERATION_TRIGGERS[DELETE_TRIGGER])

    await secrets_db(served).execute_write_fn(around)
    clock.now += 1.1
    with pytest.raises(SecretTamperedError):
        await get_secret(served, "API_KEY")


@pytest.mark.asyncio
async def test_without_its_triggers_every_commit_counts_as_a_change(served, clock, caplog):
    caplog.set_level(logging.WARNING, logger="datasette_secrets")
    await tamper(served, clock, f"drop trigger {DELETE_TRIGGER}")
    assert await get_secret(served, "API_KEY") == VALUES[2]
    # A rollback a second later bumps nothing, and is seen all the same.
    await tamper(served, clock, "delete from datasette_secrets where name = 'API_KEY' and version > 1")
    with pytest.raises(SecretTamperedError):
        await get_secret(served, "API_KEY")
    warnings = [r.getMessage() for r in caplog.records if "triggers" in r.getMessage()]
    assert len(warnings) == 1 and "dropped or changed outside the plugin" in warnings[0]
