"""The audit log at /-/secrets/-/audit: filters, pages, JSON, never a value."""

import pytest

from secret_helpers import HX, MANAGER, OTHER, ROOT, parse, store_value

VALUE = "audit-page-secret-value-77"


async def seed_history(ds):
    """API_KEY: set, note, set, restore, reveal, delete (by root); OTHER_KEY set by manager."""
    await store_value(ds, "API_KEY", VALUE + "-1", note="first")
    await store_value(ds, "API_KEY", "", note="changed note")
    await store_value(ds, "API_KEY", VALUE + "-2")
    assert (await ds.client.post("/-/secrets/API_KEY/restore", data={"version": "1"}, actor=ROOT)).status_code == 302
    assert (await ds.client.post("/-/secrets/API_KEY/reveal", actor=ROOT)).status_code == 200
    assert (await ds.client.post("/-/secrets/API_KEY/delete", actor=ROOT)).status_code == 302
    await store_value(ds, "OTHER_KEY", VALUE + "-other", actor=MANAGER)


def audit_table(response):
    """[(action label, secret, version, who)] of the page, top to bottom."""
    out = []
    for tr in parse(response).select("table.secrets-audit tbody tr"):
        cells = {td["data-label"]: td.get_text(" ", strip=True) for td in tr.find_all("td")}
        out.append((cells["Action"], cells["Secret"], cells["Version"], cells["Who"]))
    return out


@pytest.mark.asyncio
async def test_every_action_newest_first(ds):
    await seed_history(ds)
    response = await ds.client.get("/-/secrets/-/audit", actor=ROOT)
    assert response.status_code == 200
    assert audit_table(response) == [
        ("Stored a new version", "OTHER_KEY", "1", "manager"),
        ("Deleted", "API_KEY", "", "root"),
        ("Revealed", "API_KEY", "3", "root"),
        ("Restored an old version", "API_KEY", "3", "root"),
        ("Stored a new version", "API_KEY", "2", "root"),
        ("Changed the note", "API_KEY", "1", "root"),
        ("Stored a new version", "API_KEY", "1", "root"),
    ]
    assert VALUE not in response.text


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "query,expected",
    [
        ("secret=OTHER_KEY", ["OTHER_KEY"]),
        ("actor=manager", ["OTHER_KEY"]),
        ("action=reveal", ["API_KEY"]),
        ("action=delete&secret=API_KEY", ["API_KEY"]),
        ("action=delete&secret=OTHER_KEY", []),
        ("secret=NOBODY", []),
    ],
)
async def test_filters(query, expected, ds):
    await seed_history(ds)
    response = await ds.client.get(f"/-/secrets/-/audit?{query}", actor=ROOT)
    assert [secret for _, secret, _, _ in audit_table(response)] == expected
    if not expected:
        assert "matches these filters" in parse(response).select_one(".secrets-empty").get_text()
    data = (await ds.client.get(f"/-/secrets/-/audit.json?{query}", actor=ROOT)).json()
    assert [row["secret"] for row in data["rows"]] == expected


@pytest.mark.asyncio
async def test_json_follows_datasette_conventions(ds):
    await seed_history(ds)
    response = await ds.client.get("/-/secrets/-/audit.json?secret=API_KEY&action=reveal", actor=ROOT)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    data = response.json()
    assert data["ok"] is True
    assert data["next"] is None and data["next_url"] is None
    assert data["filters"] == {"secret": "API_KEY", "actor": None, "action": "reveal"}
    (row,) = data["rows"]
    assert set(row) == {"id", "time", "secret", "version", "action", "detail", "actor_id", "actor"}
    assert row["time"].endswith("Z") and "T" in row["time"]
    assert (row["secret"], row["version"], row["action"], row["actor_id"]) == ("API_KEY", 3, "reveal", "root")
    assert VALUE not in response.text


@pytest.mark.asyncio
async def test_pages_of_the_log(ds):
    for i in range(60):
        await store_value(ds, "API_KEY", f"{VALUE}-{i}")
    first = (await ds.client.get("/-/secrets/-/audit.json", actor=ROOT)).json()
    assert len(first["rows"]) == 50
    assert first["next_url"].startswith("http://localhost/-/secrets/-/audit.json?_next=")
    second = (await ds.client.get(first["next_url"].replace("http://localhost", ""), actor=ROOT)).json()
    assert len(second["rows"]) == 10 and second["next"] is None
    versions = [row["version"] for row in first["rows"] + second["rows"]]
    assert versions == list(range(60, 0, -1)), "newest first, nothing twice, nothing missed"

    page = parse(await ds.client.get("/-/secrets/-/audit", actor=ROOT))
    older = page.find("a", string="Older entries")
    assert older["hx-get"] == older["href"] and "_next=" in older["href"]
    fragment = await ds.client.get(older["href"], actor=ROOT, headers=HX)
    assert parse(fragment).find("html") is None
    assert len(audit_table(fragment)) == 10
    assert parse(fragment).find("a", string="Newest entries")["href"] == "/-/secrets/-/audit"


@pytest.mark.asyncio
@pytest.mark.parametrize("cursor", ["abc", "-1", "1.5", "9" * 30, ""])
async def test_a_bad_cursor_is_a_400(cursor, ds):
    response = await ds.client.get(f"/-/secrets/-/audit?_next={cursor}", actor=ROOT)
    assert response.status_code == 400
    assert "_next must be a cursor" in response.text


@pytest.mark.asyncio
async def test_only_managers(ds):
    await seed_history(ds)
    for path in ("/-/secrets/-/audit", "/-/secrets/-/audit.json"):
        for actor in (None, OTHER):
            response = await ds.client.get(path, actor=actor)
            assert response.status_code == 403
            assert "API_KEY" not in response.text
        assert (await ds.client.get(path, actor=MANAGER)).status_code == 200
        assert (await ds.client.post(path, actor=ROOT)).status_code == 405


@pytest.mark.asyncio
async def test_actors_resolved_with_one_call(ds, monkeypatch):
    await seed_history(ds)
    calls = []
    original = ds.actors_from_ids

    async def counting(ids):
        calls.append(list(ids))
        return {actor_id: {"id": actor_id, "name": actor_id.title()} for actor_id in ids}

    monkeypatch.setattr(ds, "actors_from_ids", counting)
    response = await ds.client.get("/-/secrets/-/audit", actor=ROOT)
    assert calls == [["manager", "root"]]
    assert ("Stored a new version", "OTHER_KEY", "1", "Manager") in audit_table(response)
    assert original is not None


@pytest.mark.asyncio
async def test_reachable_from_each_secrets_history(ds):
    await store_value(ds, "API_KEY", VALUE)
    history = parse(await ds.client.get("/-/secrets/API_KEY/history", actor=ROOT, headers=HX))
    link = history.select_one("a[href^='/-/secrets/-/audit']")
    assert link.get_text(" ", strip=True) == "Audit log of API_KEY"
    assert link["href"] == "/-/secrets/-/audit?secret=API_KEY"
    assert [secret for _, secret, _, _ in audit_table(await ds.client.get(link["href"], actor=ROOT))] == ["API_KEY"]
    index = parse(await ds.client.get("/-/secrets", actor=ROOT))
    assert index.find("a", string="Audit log")["href"] == "/-/secrets/-/audit"


@pytest.mark.asyncio
async def test_a_copy_is_listed_as_copied_and_own_acts_in_plain_words(ds):
    await store_value(ds, "API_KEY", VALUE)
    assert (await ds.client.post("/-/secrets/API_KEY/copy", actor=ROOT)).status_code == 200
    assert (await ds.client.post("/-/secrets/API_KEY/reveal", actor=ROOT)).status_code == 200
    # Own values' rows as store_personal writes them (the detail names the owner).
    db = ds.get_internal_database()
    for action, detail in (
        ("personal-check", "own value of alice"),
        ("personal-reveal", "own value of alice; copied to the clipboard"),
    ):
        await db.execute_write(
            "insert into datasette_secrets_audit (name, version, action, detail, actor_id, created_at)"
            " values ('AI_KEY', 1, ?, ?, 'alice', datetime('now'))",
            [action, detail],
        )
    response = await ds.client.get("/-/secrets/-/audit", actor=ROOT)
    rows = parse(response).select("table.secrets-audit tbody tr")
    cells = [{td["data-label"]: td.get_text(" ", strip=True) for td in tr.find_all("td")} for tr in rows]
    assert [(c["Action"], c["Detail"]) for c in cells] == [
        ("Copied their own value", "own value of alice"),
        ("Tested their own value", "own value of alice"),
        ("Revealed", ""),
        ("Copied", ""),
        ("Stored a new version", ""),
    ]
    # The stored rows are unchanged: a copy is still a reveal, for the JSON and the filter.
    data = (await ds.client.get("/-/secrets/-/audit.json?secret=API_KEY&action=reveal", actor=ROOT)).json()
    assert [(r["action"], r["detail"]) for r in data["rows"]] == [("reveal", None), ("reveal", "copied to the clipboard")]
    soup = parse(response)
    assert soup.select_one("label[for=audit-actor]").get_text() == "Who"
    assert soup.select_one("#audit-action option[value=reveal]").get_text() == "Revealed or copied"
    assert "Actor id" not in response.text
    assert all("secret-when" in tr.find("td")["class"] for tr in rows)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "action,words",
    [
        ("wrap-key", "Stored a key wrapped by the key provider"),
        ("rewrap-key", "Rewrapped the data keys to the provider's newest key"),
        ("new-data-key", "Made a new data key"),
        ("unwrap-key", "Wrote the data key to a file"),
    ],
)
async def test_the_data_keys_rows_are_worded(action, words, ds):
    # Written by the key commands under a key_provider (envelope.py), about every secret at once.
    await ds.get_internal_database().execute_write(
        "insert into datasette_secrets_audit (name, version, action, detail, actor_id, created_at) "
        "values ('*', null, ?, 'data key abc', null, datetime('now'))",
        [action],
    )
    response = await ds.client.get("/-/secrets/-/audit", actor=ROOT)
    assert audit_table(response)[0][0] == words
