"""A list page's plain rows are kept as rendered (views/context.RowCache, issue 21's
speed target 5): a second render of the same page does not run the row macro again,
and what it shows is byte for byte what a fresh render shows, for every viewer and
every state of a row; a save, a delete, a minute passing or another viewer shows at
once, never a row rendered for someone or something else."""

from datetime import datetime, timedelta, timezone

import jinja2
import pytest
import pytest_asyncio

from datasette_secrets import Secret
from datasette_secrets.crypto import Key
from datasette_secrets.state import STATES
from datasette_secrets.views import context as context_module
from datasette_secrets.views.context import RowCache
from secret_helpers import MANAGER, ROOT, insert_row, parse, row_of, secrets_plugin, store_value

BOB = {"id": "bob"}  # granted GOOD alone (manage and reveal)
VIEWERS = {"root": ROOT, "manager": MANAGER, "bob": BOB}
GRANTS = {"GOOD": {"permissions": {"manage-secrets": {"id": "bob"}, "reveal-secrets": {"id": "bob"}}}}
REGISTERED = ("GOOD", "SHORT", "PLAIN", "GONE", "OLD", "ENV_ONLY", "FILED", "FOREIGN")


@pytest_asyncio.fixture
async def world(register_plugin, make_datasette, other_key, monkeypatch, tmp_path):
    """A row in each state: set (GOOD; SHORT too short for a hint, so only the
    viewer's rules tell its rows apart), not set (PLAIN), deleted (GONE), due (OLD),
    from the environment (ENV_ONLY), from a file (FILED), unreadable (FOREIGN), an
    orphan (RETIRED), and a personal secret (AI_KEY) with root's own value."""
    register_plugin(
        secrets_plugin(
            *(Secret(name, f"{name} <for> the tests") for name in REGISTERED),
            Secret("AI_KEY", "Your own AI key", personal=True),
        ),
        "row-cache-plugin",
    )
    mounted = tmp_path / "filed"
    mounted.write_text("from-a-file\n")
    monkeypatch.setenv("DATASETTE_SECRETS_ENV_ONLY", "from-the-environment")
    monkeypatch.setenv("DATASETTE_SECRETS_FILED_FILE", str(mounted))
    ds = make_datasette(settings={"max_age_days": 30, "secrets": GRANTS})
    await ds.invoke_startup()
    for name in ("GOOD", "GONE", "OLD"):
        await store_value(ds, name, f"value-of-{name.lower()}-0123456789", note=f"note of {name}")
    await store_value(ds, "SHORT", "tiny")
    stamp = (datetime.now(timezone.utc) - timedelta(days=45)).strftime("%Y-%m-%d %H:%M:%S")
    await ds.get_internal_database().execute_write(
        "update datasette_secrets set created_at = ?, updated_at = ? where name = 'OLD'", [stamp, stamp]
    )
    assert (await ds.client.post("/-/secrets/GONE/delete", actor=ROOT)).status_code == 302
    await insert_row(ds, "FOREIGN", Key(other_key).encrypt("FOREIGN", 1, "foreign-value"), Key(other_key).id)
    await insert_row(ds, "RETIRED", Key(other_key).encrypt("RETIRED", 1, "retired-value"), Key(other_key).id)
    own = await ds.client.post("/-/secrets/-/mine/AI_KEY", data={"secret": "sk-own-value-0123"}, actor=ROOT)
    assert own.status_code in (200, 302)
    return ds


@pytest.fixture
def row_calls(monkeypatch):
    """How many times the row macro ran."""
    calls = []
    original = jinja2.runtime.Macro.__call__

    def counted(self, *args, **kwargs):
        if self.name == "row":
            calls.append(args[0].name if args else None)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(jinja2.runtime.Macro, "__call__", counted)
    return calls


def cache_of(ds):
    return STATES[id(ds)].row_cache


async def page(ds, actor, url="/-/secrets"):
    response = await ds.client.get(url, actor=actor)
    assert response.status_code == 200
    return response.text


PAGES = [(viewer, "/-/secrets") for viewer in VIEWERS] + [("root", "/-/secrets/-/mine")]


@pytest.mark.asyncio
async def test_every_viewer_and_state_renders_the_same_with_rows_kept_or_not(world):
    ds = world
    # Not kept: every row rendered by the macro, each time.
    STATES[id(ds)].row_cache = RowCache(0)
    fresh = {(viewer, url): await page(ds, VIEWERS[viewer], url) for viewer, url in PAGES}
    STATES[id(ds)].row_cache = RowCache()
    # Kept: cold, then warm, and warm again in another order (another viewer's rows in the cache first).
    for rounds in (PAGES, PAGES, list(reversed(PAGES))):
        for viewer, url in rounds:
            assert await page(ds, VIEWERS[viewer], url) == fresh[viewer, url], (viewer, url)
    assert len(cache_of(ds)) > 0
    # The pages differ where the viewers and states do: the test compares something.
    root, manager, bob = (parse(fresh[v, "/-/secrets"]) for v in ("root", "manager", "bob"))
    names = {row["id"] for row in root.select("tbody.secret")}
    assert {f"secret-{n}" for n in (*REGISTERED, "RETIRED", "AI_KEY")} == names
    assert row_of(root, "GOOD").select_one("button[data-copy]") is not None
    assert row_of(manager, "GOOD").select_one("button[data-copy]") is None
    assert row_of(root, "SHORT").select_one("button[data-copy]") is not None
    assert row_of(manager, "SHORT").select_one("button[data-copy]") is None
    assert [row["id"] for row in bob.select("tbody.secret")] == ["secret-GOOD"]
    assert row_of(root, "OLD").select_one(".secret-due") is not None
    assert "value-of" not in "".join(fresh.values()) and "sk-own" not in "".join(fresh.values())


@pytest.mark.asyncio
async def test_a_second_render_runs_the_row_macro_for_no_plain_row(world, row_calls):
    ds = world
    for viewer, url in PAGES:
        STATES[id(ds)].row_cache = RowCache()  # cold (bob's GOOD row is root's: the same rules' answer)
        row_calls.clear()
        first = await page(ds, VIEWERS[viewer], url)
        assert row_calls, (viewer, url)  # rendered, the first time
        row_calls.clear()
        assert await page(ds, VIEWERS[viewer], url) == first
        assert row_calls == [], (viewer, url)


def updated_text(html, name):
    return " ".join(row_of(parse(html), name).select_one("td.secret-updated").get_text().split())


@pytest.mark.asyncio
async def test_a_save_a_delete_and_a_minute_passing_show_in_the_next_render(world, row_calls, monkeypatch):
    ds = world
    before = await page(ds, ROOT)
    assert await page(ds, ROOT) == before
    assert updated_text(before, "GOOD").startswith("v1 · just now")
    # A save: the new version (and note) at once.
    await store_value(ds, "GOOD", "another-value-0123456789", note="a new note")
    saved = await page(ds, ROOT)
    assert updated_text(saved, "GOOD").startswith("v2 · ")
    assert row_of(parse(saved), "GOOD").select_one("td.secret-note").get_text() == "a new note"
    # A delete: the row says so, and offers Restore.
    assert (await ds.client.post("/-/secrets/GOOD/delete", actor=ROOT)).status_code == 302
    deleted = row_of(parse(await page(ds, ROOT)), "GOOD")
    assert "Deleted" in deleted.select_one("td.secret-updated").get_text()
    assert deleted.select_one("button.secret-primary").get_text() == "Restore"
    # Two minutes pass, nothing is written (the cache epoch stays): the words move on.
    warm = await page(ds, ROOT)
    row_calls.clear()
    assert await page(ds, ROOT) == warm and row_calls == []

    class Later(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(minutes=2)

    monkeypatch.setattr(context_module, "datetime", Later)
    later = await page(ds, ROOT)
    assert "Deleted 2 minutes ago" in updated_text(later, "GOOD")
    assert row_calls  # rows whose words changed were rendered again


@pytest.mark.asyncio
async def test_another_viewer_never_gets_rows_kept_for_root(world):
    ds = world
    STATES[id(ds)].row_cache = RowCache(0)
    manager_fresh = await page(ds, MANAGER)
    STATES[id(ds)].row_cache = RowCache()
    root_page = parse(await page(ds, ROOT))
    assert row_of(root_page, "GOOD").select_one("button[data-copy]") is not None
    manager_page = await page(ds, MANAGER)
    assert manager_page == manager_fresh
    assert all(row.select_one("button[data-copy]") is None for row in parse(manager_page).select("tbody.secret"))


def test_the_cache_keeps_at_most_its_size_and_forgets_an_old_epoch():
    rows = RowCache(size=2)
    assert rows.get(1, "a") is None
    for key in ("a", "b", "c"):
        rows.put(key, key.upper())
    assert len(rows) == 2 and rows.get(1, "a") is None and rows.get(1, "c") == "C"
    assert rows.get(2, "c") is None and len(rows) == 0  # a new epoch: nothing from before
