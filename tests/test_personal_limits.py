"""Limits on own values, which every signed-in actor may write: at most 20 versions
kept per value, changes rate limited per actor, a deleted value pruned 30 days
after its delete, and a site-wide limit on what all own values hold together."""

import dataclasses

import sqlite3

import pytest

from datasette_secrets import Secret, get_secret, personal, store_personal
from datasette_secrets.crypto import Key
from secret_helpers import HX, ROOT, parse, secrets_db, secrets_plugin

ALICE = {"id": "alice"}
BOB = {"id": "bob"}
CAROL = {"id": "carol"}
MINE = "/-/secrets/-/mine/AI_KEY"
TOO_MANY = "Too many changes to your own values: at most 30 a minute."
FULL = "Nothing was saved: this site's own values are full"


async def echo_check(datasette, value):
    return value.startswith("sk-"), "the key works"


@pytest.fixture
def make_ds(register_plugin, make_datasette):
    register_plugin(
        secrets_plugin(Secret("AI_KEY", "Your own AI key", personal=True, check=echo_check)), "personal-plugin"
    )

    async def make(**settings):
        datasette = make_datasette(settings=settings)
        await datasette.invoke_startup()
        return datasette

    return make


async def set_own(ds, actor, value, headers=None):
    return await ds.client.post(MINE, data={"secret": value}, actor=actor, headers=headers or {})


async def saved(ds, actor, value):
    response = await set_own(ds, actor, value)
    assert response.status_code == 302, response.text
    return response


async def own_rows(ds, actor_id=None):
    """Rows of datasette_secrets_personal (one actor's, or all), in id order."""
    where, params = ("where actor_id = ?", [actor_id]) if actor_id else ("", [])
    sql = (
        "select id, actor_id, version, encrypted is not null as has_value, deleted_at "
        f"from datasette_secrets_personal {where} order by id"
    )
    return [dict(row) for row in await read_all(ds, sql, params)]


async def read_all(ds, sql, params=()):
    """Every row, without Datasette's time limit for queries: a busy machine may
    take more than its second to read the 10,000 rows of the site-wide test."""

    def read(conn):
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()

    return await secrets_db(ds).execute_fn(read)


async def versions(ds, actor_id):
    return [row["version"] for row in await own_rows(ds, actor_id)]


async def own_audit(ds):
    return [tuple(row) for row in await read_all(ds, "select action, actor_id from datasette_secrets_audit order by id")]


async def backdate_delete(ds, actor_id, days):
    await secrets_db(ds).execute_write(
        "update datasette_secrets_personal set deleted_at = datetime('now', ?) where actor_id = ?",
        [f"-{days} days", actor_id],
    )


@pytest.mark.asyncio
async def test_the_21st_version_prunes_the_oldest(make_ds):
    ds = await make_ds()
    for n in range(1, 21):
        await saved(ds, ALICE, f"sk-alice-{n:04}")
    await saved(ds, BOB, "sk-bob-0001")
    assert await versions(ds, "alice") == list(range(1, 21))
    assert await get_secret(ds, "AI_KEY", "alice") == "sk-alice-0020"  # this process has served version 20

    await saved(ds, ALICE, "sk-alice-0021")
    assert await versions(ds, "alice") == list(range(2, 22)), "the 21st version pruned the first"
    assert await versions(ds, "bob") == [1], "another actor's value is not touched"
    assert await get_secret(ds, "AI_KEY", "alice") == "sk-alice-0021"  # the newest stays: no rollback is seen
    history = parse(await ds.client.get(f"{MINE}/history", actor=ALICE))
    assert [row.get_text(" ", strip=True).split()[0] for row in history.select("tbody tr")] == [
        str(n) for n in range(21, 1, -1)
    ]

    # Deleted versions count too: a value deleted and set again keeps 20 rows in all.
    assert (await ds.client.post(f"{MINE}/delete", actor=ALICE)).status_code == 302
    await saved(ds, ALICE, "sk-alice-0022")
    assert await versions(ds, "alice") == list(range(3, 23))
    assert await get_secret(ds, "AI_KEY", "alice") == "sk-alice-0022"


@pytest.mark.asyncio
async def test_a_burst_past_the_rate_limit_is_refused_and_stores_nothing(make_ds, clock):
    # the clock fixture: a minute that passes only when the test moves it
    ds = await make_ds()
    for n in range(1, 31):
        await saved(ds, ALICE, f"sk-alice-{n:04}")
    before = await own_rows(ds), await own_audit(ds)

    page = await set_own(ds, ALICE, "sk-alice-one-too-many")
    assert page.status_code == 429
    assert page.headers["retry-after"] == "60"
    soup = parse(page)
    assert soup.select_one(".secret-field-error").get_text(strip=True) == (
        f"{TOO_MANY} Nothing was saved. Try again in 60 seconds."
    )
    assert soup.select_one("form input[name=secret]") is not None, "the form, to type the value again"
    assert "one-too-many" not in page.text

    fragment = await set_own(ds, ALICE, "sk-alice-one-too-many", headers=HX)
    assert fragment.status_code == 429
    row = parse(fragment).select_one("tbody#mine-AI_KEY")
    assert row.select_one("form input[name=secret]") is not None, "the row stays open on its form"
    assert TOO_MANY in row.select_one(".secret-field-error").get_text()

    deleted = await ds.client.post(f"{MINE}/delete", actor=ALICE)
    assert deleted.status_code == 429 and "Nothing was deleted." in deleted.text
    assert (await own_rows(ds), await own_audit(ds)) == before, "nothing stored, deleted or audited"
    assert await get_secret(ds, "AI_KEY", "alice") == "sk-alice-0030"

    await saved(ds, BOB, "sk-bob-0001")  # another actor's changes are counted apart
    clock.now += 61
    await saved(ds, ALICE, "sk-alice-0031")
    assert await get_secret(ds, "AI_KEY", "alice") == "sk-alice-0031"


@pytest.mark.asyncio
async def test_the_site_wide_limit_refuses_past_10000_versions(make_ds, key):
    ds = await make_ds()
    assert personal.LIMITS.site_versions == 10_000
    # 9,999 versions of other actors' own values, written straight into the table.
    filler = [(f"filler-{i}", b"\x02" + bytes(40), Key(key).id) for i in range(9_999)]
    await secrets_db(ds).execute_write_many(
        "insert into datasette_secrets_personal (name, actor_id, version, encrypted, encryption_key_name, "
        "created_at) values ('AI_KEY', ?, 1, ?, ?, datetime('now'))",
        filler,
    )
    await saved(ds, ALICE, "sk-alice-0001")  # the 10,000th
    before = await own_rows(ds), await own_audit(ds)

    page = await set_own(ds, BOB, "sk-bob-0001")
    assert page.status_code == 422
    message = parse(page).select_one(".secret-field-error").get_text(strip=True)
    assert message == (
        f"{FULL} (at most 10,000 versions and 64 MiB in all, a deleted value's counted "
        "for 30 days). Try again later, or tell an admin."
    )
    fragment = await set_own(ds, ALICE, "sk-alice-0002", headers=HX)  # her second version: the 10,001st
    assert fragment.status_code == 422
    assert FULL in parse(fragment).select_one("tbody#mine-AI_KEY .secret-field-error").get_text()
    assert (await own_rows(ds), await own_audit(ds)) == before
    assert await get_secret(ds, "AI_KEY", "bob") is None

    # A value deleted more than 30 days ago makes room at the next save.
    await backdate_delete(ds, "filler-0", 31)
    await saved(ds, BOB, "sk-bob-0001")
    assert await get_secret(ds, "AI_KEY", "bob") == "sk-bob-0001"
    assert [row["has_value"] for row in await own_rows(ds, "filler-0")] == [0]


@pytest.mark.asyncio
async def test_the_site_wide_byte_budget_refuses(make_ds, monkeypatch):
    ds = await make_ds()
    await saved(ds, ALICE, "sk-" + "a" * 1000)
    size = (await secrets_db(ds).execute("select length(encrypted) from datasette_secrets_personal")).single_value()
    # Bob's value, as long as alice's, is as long encrypted: one byte too many, then just enough.
    monkeypatch.setattr(personal, "LIMITS", dataclasses.replace(personal.LIMITS, site_bytes=2 * size - 1))
    page = await set_own(ds, BOB, "sk-" + "b" * 1000)
    assert page.status_code == 422 and FULL in parse(page).get_text()
    assert await versions(ds, "bob") == []
    monkeypatch.setattr(personal, "LIMITS", dataclasses.replace(personal.LIMITS, site_bytes=2 * size))
    await saved(ds, BOB, "sk-" + "b" * 1000)
    assert await versions(ds, "bob") == [1]


@pytest.mark.asyncio
async def test_a_deleted_value_is_pruned_30_days_after_its_delete(make_ds):
    ds = await make_ds()
    for n in range(1, 4):
        await saved(ds, ALICE, f"sk-alice-{n:04}")
    assert await get_secret(ds, "AI_KEY", "alice") == "sk-alice-0003"  # this process has served version 3
    assert (await ds.client.post(f"{MINE}/delete", actor=ALICE)).status_code == 302
    await saved(ds, BOB, "sk-bob-0001")
    assert (await ds.client.post(f"{MINE}/delete", actor=BOB)).status_code == 302

    await backdate_delete(ds, "alice", 31)
    await backdate_delete(ds, "bob", 29)
    await saved(ds, CAROL, "sk-carol-0001")  # any actor's own write prunes
    # Alice's newest row stays, without its ciphertext; bob's delete is too recent.
    assert [(r["version"], r["has_value"]) for r in await own_rows(ds, "alice")] == [(3, 0)]
    assert [(r["version"], r["has_value"]) for r in await own_rows(ds, "bob")] == [(1, 1)]
    history = parse(await ds.client.get(f"{MINE}/history", actor=ALICE)).select("tbody tr")
    assert [row.get_text(" ", strip=True).split()[0] for row in history] == ["3"]

    # No key counts the row, and no rotation would try to re-encrypt it.
    db = secrets_db(ds)
    assert sum((await store_personal.count_by_key(db)).values()) == 2  # bob's and carol's
    assert await store_personal.count_to_rotate(db, "another-key", b"\x02") == 2

    # Set again, the value is numbered after it: this process, which served
    # version 3, serves version 4 rather than refusing a version 1 as a rollback.
    await saved(ds, ALICE, "sk-alice-again")
    assert await versions(ds, "alice") == [3, 4]
    assert await get_secret(ds, "AI_KEY", "alice") == "sk-alice-again"

    # A delete prunes too.
    await backdate_delete(ds, "bob", 31)
    assert (await ds.client.post(f"{MINE}/delete", actor=CAROL)).status_code == 302
    assert [(r["version"], r["has_value"]) for r in await own_rows(ds, "bob")] == [(1, 0)]


@pytest.mark.asyncio
async def test_audit_rows_per_actor_are_bounded_by_the_rates(make_ds, clock):
    """Each minute an actor writes at most 30 audit rows for changes, 3 for reveals
    and copies and 3 for Tests (reveals_per_minute: 3), however hard they try."""
    ds = await make_ds(reveals_per_minute=3)

    async def a_minute_of_trying(minute):
        for n in range(35):
            await set_own(ds, ALICE, f"sk-alice-{minute}-{n:04}")
        for action in ("delete", "reveal", "copy", "test") * 5:
            await ds.client.post(f"{MINE}/{action}", actor=ALICE, headers=HX)

    await a_minute_of_trying(1)
    actions = [action for action, actor_id in await own_audit(ds) if actor_id == "alice"]
    assert (len(actions), actions.count("personal-set")) == (36, 30)
    clock.now += 61
    await a_minute_of_trying(2)
    assert [actor_id for _, actor_id in await own_audit(ds)].count("alice") == 72

    # An admin's delete of someone's own value needs a live value: one per value set.
    owners = "/-/secrets/AI_KEY/owners"
    assert (await ds.client.post(owners, data={"actor": "alice"}, actor=ROOT)).status_code == 302
    assert (await ds.client.post(owners, data={"actor": "alice"}, actor=ROOT)).status_code == 404
    assert [actor_id for _, actor_id in await own_audit(ds)].count("root") == 1


def test_the_command_line_is_refused_when_full(tmp_path, key, register_plugin, monkeypatch):
    from cli_helpers import failed, ok, run
    from secret_helpers import new_database, write_config

    register_plugin(secrets_plugin(Secret("AI_KEY", personal=True)), "p")
    monkeypatch.setattr(personal, "LIMITS", dataclasses.replace(personal.LIMITS, site_versions=1))
    internal = new_database(tmp_path / "internal.db")
    options = ["--internal", internal, "-c", write_config(tmp_path, {"encryption_key": key})]
    ok(run("set", "AI_KEY", "--actor", "alice", *options, input="sk-alice-0001\n"))
    failed(run("set", "AI_KEY", "--actor", "bob", *options, input="sk-bob-0001\n"), FULL)
