"""Personal secrets: every signed-in actor's own value, first for them in get_secret,
revealed, copied and tested by them alone; admins see who has one and may delete it."""

import pytest
import pytest_asyncio

from datasette_secrets import Secret, get_secret, flush_usage
from datasette_secrets.crypto import Key
from secret_helpers import HX, ROOT, MANAGER, audit_rows, parse, secrets_db, secrets_plugin, store_value

ALICE = {"id": "alice"}
BOB = {"id": "bob"}
ALICE_VALUE = "sk-alice-Zq7kW9xv0042"
SHARED_VALUE = "sk-shared-Lm8Rt5Nw4v"


async def echo_check(datasette, value):
    return value.startswith("sk-"), f"the key {value!r} works"


@pytest_asyncio.fixture
async def ds(register_plugin, make_datasette, events):
    register_plugin(
        secrets_plugin(
            Secret("AI_KEY", "Your own AI key", personal=True, check=echo_check),
            Secret("SHARED_KEY", "Only shared"),
        ),
        "personal-plugin",
    )
    datasette = make_datasette()
    await datasette.invoke_startup()
    return datasette


async def set_own(ds, actor, value, name="AI_KEY", headers=None):
    return await ds.client.post(
        f"/-/secrets/-/mine/{name}", data={"secret": value}, actor=actor, headers=headers or {}
    )


def test_personal_is_keyword_only_and_off_by_default():
    assert Secret("X").personal is False
    assert Secret("X", personal=True).personal is True
    with pytest.raises(TypeError):
        Secret("X", None, None, None, None, True)


@pytest.mark.asyncio
async def test_get_secret_gives_each_actor_their_own_value_first(ds, monkeypatch):
    assert (await set_own(ds, ALICE, ALICE_VALUE)).status_code == 302
    await store_value(ds, "AI_KEY", SHARED_VALUE)
    assert await get_secret(ds, "AI_KEY", "alice") == ALICE_VALUE
    assert await get_secret(ds, "AI_KEY", "bob") == SHARED_VALUE
    assert await get_secret(ds, "AI_KEY") == SHARED_VALUE  # no actor: never a personal value
    monkeypatch.setenv("DATASETTE_SECRETS_AI_KEY", "from-the-environment")
    assert await get_secret(ds, "AI_KEY", "alice") == ALICE_VALUE
    assert await get_secret(ds, "AI_KEY", "bob") == "from-the-environment"


@pytest.mark.asyncio
async def test_a_personal_value_is_bound_to_its_owner(ds):
    await set_own(ds, ALICE, ALICE_VALUE)
    await set_own(ds, BOB, "sk-bob-value-000000")
    db = secrets_db(ds)
    # Move alice's ciphertext onto bob's row: it must not decrypt as bob's.
    await db.execute_write(
        "update datasette_secrets_personal set encrypted = "
        "(select encrypted from datasette_secrets_personal where actor_id = 'alice') where actor_id = 'bob'"
    )
    from datasette_secrets import SecretDecryptionError

    from datasette_secrets.core import ready

    (await ready(ds)).cache.forget()  # as another process's write would be noticed
    with pytest.raises(SecretDecryptionError):
        await get_secret(ds, "AI_KEY", "bob")


@pytest.mark.asyncio
async def test_use_is_recorded_per_owner_without_a_write_per_read(ds):
    await set_own(ds, ALICE, ALICE_VALUE)
    for _ in range(5):
        await get_secret(ds, "AI_KEY", "alice")
    db = secrets_db(ds)
    before = (await db.execute("select last_used_at from datasette_secrets_personal")).first()[0]
    assert before is None
    await flush_usage(ds)
    after = (await db.execute("select last_used_at from datasette_secrets_personal")).first()[0]
    assert after is not None


@pytest.mark.asyncio
async def test_a_use_of_an_own_value_is_not_a_use_of_the_shared_value(ds):
    """The admin list's last use of the shared value stays bob's however often alice
    uses her own value, before the uses are written and after."""
    from datasette_secrets import model
    from datasette_secrets.core import ready

    state = await ready(ds)

    async def last_uses():
        listing = await model.listing(ds, state)
        (listed,) = [e for e in listing.entries(listing.names, state.usage.pending()) if e.name == "AI_KEY"]
        one = await model.entry(ds, state, "AI_KEY")
        return {(listed.last_used_at, listed.last_used_by), (one.last_used_at, one.last_used_by)}

    await store_value(ds, "AI_KEY", SHARED_VALUE)
    assert await get_secret(ds, "AI_KEY", "bob") == SHARED_VALUE
    await flush_usage(ds)
    (bobs,) = await last_uses()
    assert bobs[1] == "bob"
    await set_own(ds, ALICE, ALICE_VALUE)
    assert await get_secret(ds, "AI_KEY", "alice") == ALICE_VALUE
    assert await last_uses() == {bobs}  # not yet written
    await flush_usage(ds)
    assert await last_uses() == {bobs}
    db = secrets_db(ds)
    rows = (await db.execute("select name, last_used_by from datasette_secrets_usage")).rows
    assert [tuple(row) for row in rows] == [("AI_KEY", "bob")]
    own = (await db.execute("select last_used_at from datasette_secrets_personal")).single_value()
    assert own is not None  # alice's use is on her own value's row


@pytest.mark.asyncio
async def test_only_the_owner_reveals_copies_and_tests(ds):
    await set_own(ds, ALICE, ALICE_VALUE)
    reveal = await ds.client.post("/-/secrets/-/mine/AI_KEY/reveal", actor=ALICE, headers=HX)
    assert reveal.status_code == 200 and ALICE_VALUE in reveal.text
    copy = await ds.client.post("/-/secrets/-/mine/AI_KEY/copy", actor=ALICE)
    assert copy.text == ALICE_VALUE and copy.headers["x-content-type-options"] == "nosniff"
    test = await ds.client.post("/-/secrets/-/mine/AI_KEY/test", actor=ALICE, headers=HX)
    assert "✓" in test.text and "Zq7kW9" not in test.text  # the message passes the scrubber
    # Bob (and root) have no value of their own there: nothing of alice's is reachable.
    for actor in (BOB, ROOT):
        for action in ("reveal", "copy", "test"):
            response = await ds.client.post(f"/-/secrets/-/mine/AI_KEY/{action}", actor=actor, headers=HX)
            assert response.status_code == 404
            assert "Zq7kW9" not in response.text


@pytest.mark.asyncio
async def test_anonymous_actors_get_403_and_the_action_can_be_restricted(ds, register_plugin, make_datasette):
    assert (await ds.client.get("/-/secrets/-/mine")).status_code == 403
    assert (await set_own(ds, None, ALICE_VALUE)).status_code == 403
    restricted = make_datasette(permissions={"manage-own-secrets": {"id": "alice"}})
    await restricted.invoke_startup()
    assert (await restricted.client.get("/-/secrets/-/mine", actor=ALICE)).status_code == 200
    assert (await restricted.client.get("/-/secrets/-/mine", actor=BOB)).status_code == 403


@pytest.mark.asyncio
async def test_my_secrets_menu_link_for_signed_in_actors(ds):
    page = await ds.client.get("/", actor=ALICE)
    assert "/-/secrets/-/mine" in page.text
    assert "/-/secrets/-/mine" not in (await ds.client.get("/")).text


@pytest.mark.asyncio
async def test_admins_see_who_and_may_delete_but_learn_nothing_of_the_value(ds, events):
    await set_own(ds, ALICE, ALICE_VALUE)
    for actor in (ROOT, MANAGER):
        page = await ds.client.get("/-/secrets/AI_KEY/owners", actor=actor)
        assert page.status_code == 200
        assert "alice" in page.text and "Zq7kW9" not in page.text
        listing = await ds.client.get("/-/secrets", actor=actor)
        assert "Zq7kW9" not in listing.text
        audit = await ds.client.get("/-/secrets/-/audit.json", actor=actor)
        assert "Zq7kW9" not in audit.text
    # The admin's routes for shared values offer nothing of a personal one.
    assert "Zq7kW9" not in (await ds.client.post("/-/secrets/AI_KEY/reveal", actor=ROOT, headers=HX)).text
    response = await ds.client.post("/-/secrets/AI_KEY/owners", data={"actor": "alice"}, actor=MANAGER)
    assert response.status_code == 302
    assert await get_secret(ds, "AI_KEY", "alice") is None
    rows = (await secrets_db(ds).execute("select deleted_at, deleted_by from datasette_secrets_personal")).rows
    assert [(row[0] is not None, row[1]) for row in rows] == [(True, "manager")]
    assert [e.name for e in events if "own" in e.name] == ["set-own-secret", "delete-own-secret"]
    assert ("personal-delete", "manager") in [(row["action"], row["actor_id"]) for row in await audit_rows(ds)]


@pytest.mark.asyncio
async def test_my_secrets_page_sets_replaces_and_deletes_in_place(ds):
    page = parse(await ds.client.get("/-/secrets/-/mine", actor=ALICE))
    assert page.find("a", attrs={"aria-label": "Set your AI_KEY"})
    assert page.select_one("tbody#mine-SHARED_KEY") is None  # not personal: not here
    row = await set_own(ds, ALICE, ALICE_VALUE, headers=HX)
    assert row.status_code == 200
    soup = parse(row)
    assert "Saved your own AI_KEY: version 1." in soup.get_text(" ", strip=True)
    assert soup.find("a", attrs={"aria-label": "Edit your AI_KEY"})
    assert ALICE_VALUE not in row.text
    await set_own(ds, ALICE, "sk-alice-second-value")
    assert await get_secret(ds, "AI_KEY", "alice") == "sk-alice-second-value"
    empty = await set_own(ds, ALICE, "   ", headers=HX)
    assert empty.status_code == 422 and "Enter a value" in empty.text
    deleted = await ds.client.post("/-/secrets/-/mine/AI_KEY/delete", actor=ALICE)
    assert deleted.status_code == 302
    assert await get_secret(ds, "AI_KEY", "alice") is None


@pytest.mark.asyncio
async def test_a_name_that_is_not_personal_is_404(ds):
    for name in ("SHARED_KEY", "NO_SUCH_KEY"):
        assert (await set_own(ds, ALICE, "v", name=name)).status_code == 404


@pytest.mark.asyncio
async def test_write_only_mode_reveals_no_own_value(register_plugin, make_datasette):
    register_plugin(secrets_plugin(Secret("AI_KEY", personal=True, check=echo_check)), "p")
    ds = make_datasette(settings={"reveal": False})
    await ds.invoke_startup()
    await set_own(ds, ALICE, ALICE_VALUE)
    for action in ("reveal", "copy", "test"):
        response = await ds.client.post(f"/-/secrets/-/mine/AI_KEY/{action}", actor=ALICE, headers=HX)
        assert response.status_code == 403
    assert await get_secret(ds, "AI_KEY", "alice") == ALICE_VALUE


@pytest.mark.asyncio
async def test_rotation_and_the_key_panel_count_and_re_encrypt_personal_values(
    register_plugin, make_datasette, key, other_key, tmp_path
):
    register_plugin(secrets_plugin(Secret("AI_KEY", personal=True)), "p")
    internal = str(tmp_path / "internal.db")
    old = make_datasette(key=other_key, internal=internal)
    await old.invoke_startup()
    await set_own(old, ALICE, ALICE_VALUE)
    ds = make_datasette(key=key, internal=internal, settings={"previous_encryption_keys": [other_key]})
    await ds.invoke_startup()
    assert await get_secret(ds, "AI_KEY", "alice") == ALICE_VALUE
    keys_page = parse(await ds.client.get("/-/secrets/-/keys", actor=ROOT)).get_text(" ", strip=True)
    assert "1 stored version is not yet under the current key" in keys_page
    response = await ds.client.post("/-/secrets/-/keys/rotate", actor=ROOT)
    assert response.status_code == 302
    rows = (await secrets_db(ds).execute("select encryption_key_name from datasette_secrets_personal")).rows
    assert [row[0] for row in rows] == [Key(key).id]
    fresh = make_datasette(key=key, internal=internal)  # the old key is gone now
    await fresh.invoke_startup()
    assert await get_secret(fresh, "AI_KEY", "alice") == ALICE_VALUE


def test_command_line_sets_deletes_and_counts_own_values(tmp_path, key, register_plugin):
    import json as json_module

    from cli_helpers import failed, ok, run
    from secret_helpers import new_database, write_config

    register_plugin(secrets_plugin(Secret("AI_KEY", personal=True), Secret("SHARED_KEY")), "p")
    internal = new_database(tmp_path / "internal.db")
    options = ["--internal", internal, "-c", write_config(tmp_path, {"encryption_key": key})]
    saved = ok(run("set", "AI_KEY", "--actor", "alice", *options, input=ALICE_VALUE + "\n"))
    assert "Saved alice's own AI_KEY: version 1." in saved.output and "Zq7kW9" not in saved.output
    ok(run("set", "AI_KEY", "--actor", "bob", *options, input="sk-bob-000000000\n"))
    rows = {row["name"]: row for row in json_module.loads(ok(run("list", "--json", *options)).output)}
    assert rows["AI_KEY"]["personal_values"] == 2 and rows["AI_KEY"]["source"] == "not set"
    assert rows["SHARED_KEY"]["personal_values"] is None
    assert "personal: 2 own values" in ok(run("list", *options)).output
    failed(run("set", "SHARED_KEY", "--actor", "alice", *options, input="x\n"), "is not a personal secret")
    ok(run("delete", "AI_KEY", "--actor", "alice", *options))
    failed(run("delete", "AI_KEY", "--actor", "alice", *options), "alice has no value of their own for AI_KEY")
    rows = {row["name"]: row for row in json_module.loads(ok(run("list", "--json", *options)).output)}
    assert rows["AI_KEY"]["personal_values"] == 1


@pytest.mark.asyncio
async def test_the_owner_sees_the_history_of_their_own_value(ds):
    await set_own(ds, ALICE, ALICE_VALUE)
    await set_own(ds, ALICE, "sk-alice-second-000")
    await ds.client.post("/-/secrets/AI_KEY/owners", data={"actor": "alice"}, actor=ROOT)
    page = await ds.client.get("/-/secrets/-/mine/AI_KEY/history", actor=ALICE)
    assert page.status_code == 200
    rows = [r.get_text(" ", strip=True) for r in parse(page).select("tbody tr")]
    assert [row.split()[0] for row in rows] == ["2", "1"]
    assert "by root (an admin)" in rows[0]
    assert "Zq7kW9" not in page.text and "second" not in page.text
    bob = await ds.client.get("/-/secrets/-/mine/AI_KEY/history", actor=BOB)
    assert "never stored" in bob.text


@pytest.mark.asyncio
async def test_the_admin_list_says_who_has_an_own_value_with_one_actors_lookup(ds, monkeypatch):
    await set_own(ds, ALICE, ALICE_VALUE)
    await set_own(ds, BOB, "sk-bob-value-000000")
    calls = []
    original = ds.actors_from_ids

    async def counted(ids):
        calls.append(list(ids))
        return await original(ids)

    monkeypatch.setattr(ds, "actors_from_ids", counted)
    page = await ds.client.get("/-/secrets", actor=MANAGER)
    about = parse(page).select_one("tbody#secret-AI_KEY tr.secret-about").get_text(" ", strip=True)
    assert "Personal: 2 own values (alice, bob)" in about
    assert len(calls) == 1 and {"alice", "bob"} <= set(calls[0])
    link = parse(page).select_one("tbody#secret-AI_KEY a[href='/-/secrets/AI_KEY/owners']")
    assert link is not None
    assert "Zq7kW9" not in page.text
