"""A row says what state its secret is in, and offers only what that state allows
(issue 21): a value that cannot be read carries a chip and no Reveal, Copy or Test
(and a Test or reveal asked for anyway is refused in words, never a 500); a value
set by the environment has no filled main action, only a quiet "Store a fallback
value"; a due row's age is words with the exact time in a title; the version and
the last change share one "Updated" cell."""

from datetime import datetime, timedelta, timezone

import pytest
import pytest_asyncio

from datasette_secrets import Secret
from datasette_secrets.crypto import Key
from secret_helpers import HX, ROOT, insert_row, parse, row_of, secrets_plugin, store_value

UNREADABLE_CHIP = "Can't read: saved with a different key"
DAMAGED_CHIP = "Can't read: damaged or changed outside Datasette"


def ok_check(datasette, value):
    return True, "fine"


@pytest_asyncio.fixture
async def states(register_plugin, make_datasette, key, other_key, monkeypatch):
    """GOOD (readable, with a check), FOREIGN (saved under a key this server does not
    have), DAMAGED (under this server's key, but another secret's ciphertext), SHADOWED
    (stored, and its variable set), PLAIN (not set)."""
    register_plugin(
        secrets_plugin(
            *(Secret(name, f"{name} for the tests", check=ok_check) for name in ("GOOD", "FOREIGN", "DAMAGED", "SHADOWED")),
            Secret("PLAIN", "Not set"),
        ),
        "row-states-plugin",
    )
    monkeypatch.setenv("DATASETTE_SECRETS_SHADOWED", "from-the-environment")
    ds = make_datasette()
    await ds.invoke_startup()
    await store_value(ds, "GOOD", "good-value-0123456789")
    await store_value(ds, "SHADOWED", "stored-under-the-variable")
    await insert_row(ds, "FOREIGN", Key(other_key).encrypt("FOREIGN", 1, "foreign-value"), Key(other_key).id)
    await insert_row(ds, "DAMAGED", Key(key).encrypt("GOOD", 1, "moved-from-good"), Key(key).id)
    return ds


async def list_page(ds):
    response = await ds.client.get("/-/secrets", actor=ROOT)
    assert response.status_code == 200
    return parse(response)


def text(element):
    """An element's text as a reader sees it: its whitespace runs as single spaces."""
    return " ".join(element.get_text().split())


def button_names(row):
    """The accessible names of a row's buttons and button-like links."""
    return [b.get("aria-label") or b.get_text(strip=True) for b in row.select("button, a.secret-primary, a.secret-fallback")]


# A value that cannot be read


@pytest.mark.asyncio
@pytest.mark.parametrize("name,chip", [("FOREIGN", UNREADABLE_CHIP), ("DAMAGED", DAMAGED_CHIP)])
async def test_an_unreadable_row_carries_a_chip_and_offers_nothing_that_reads_it(states, name, chip):
    page = await list_page(states)
    row = row_of(page, name)
    shown = row.select_one("td.secret-value .secret-unreadable")
    assert shown.get_text(strip=True) == chip
    # The technical reason on hover (key ids, not keys), not in the row's text.
    assert shown["title"].startswith(("Could not decrypt", "Refused"))
    assert not any(word in label for label in button_names(row) for word in ("Reveal", "Copy", "Test"))
    # Its neighbour, readable, keeps them all.
    good = button_names(row_of(page, "GOOD"))
    assert {"Reveal GOOD", "Copy GOOD", "Test GOOD"} <= set(good)


@pytest.mark.asyncio
@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
@pytest.mark.parametrize("action,verb", [("test", "tested"), ("reveal", "revealed or copied"), ("copy", "revealed or copied")])
async def test_asking_to_read_an_unreadable_value_is_refused_in_words(states, headers, action, verb):
    response = await states.client.post(f"/-/secrets/FOREIGN/{action}", actor=ROOT, headers=headers)
    assert response.status_code == 409
    message = f"The stored value of FOREIGN cannot be read (saved with a different key), so it cannot be {verb}"
    assert message in response.text
    assert "foreign-value" not in response.text


@pytest.mark.asyncio
async def test_a_shadowed_value_is_tested_from_its_variable_even_when_the_stored_one_is_unreadable(
    register_plugin, make_datasette, other_key, monkeypatch
):
    register_plugin(secrets_plugin(Secret("SHADOWED", "x", check=ok_check)), "shadowed-plugin")
    monkeypatch.setenv("DATASETTE_SECRETS_SHADOWED", "from-the-environment")
    ds = make_datasette()
    await ds.invoke_startup()
    await insert_row(ds, "SHADOWED", Key(other_key).encrypt("SHADOWED", 1, "old"), Key(other_key).id)
    response = await ds.client.post("/-/secrets/SHADOWED/test", actor=ROOT, headers=HX)
    assert response.status_code == 200
    assert parse(response).select_one("tr.secret-feedback .secret-check-ok") is not None


# A value set by the environment (a variable, or a file it names)


@pytest_asyncio.fixture
async def outside(register_plugin, make_datasette, monkeypatch, tmp_path):
    """ENV_ONLY (its variable set, nothing stored), FILED (a file), SHADOWED (its
    variable set over a stored value)."""
    register_plugin(
        secrets_plugin(*(Secret(name, f"{name} for the tests") for name in ("ENV_ONLY", "FILED", "SHADOWED"))),
        "outside-plugin",
    )
    mounted = tmp_path / "filed"
    mounted.write_text("from-a-file\n")
    monkeypatch.setenv("DATASETTE_SECRETS_ENV_ONLY", "from-the-environment")
    monkeypatch.setenv("DATASETTE_SECRETS_FILED_FILE", str(mounted))
    monkeypatch.setenv("DATASETTE_SECRETS_SHADOWED", "from-the-environment")
    ds = make_datasette()
    await ds.invoke_startup()
    await store_value(ds, "SHADOWED", "stored-under-the-variable")
    return ds


@pytest.mark.asyncio
@pytest.mark.parametrize("name,badge", [("ENV_ONLY", "Set by environment"), ("FILED", "Set by file"), ("SHADOWED", "Set by environment")])
async def test_a_value_from_outside_offers_a_quiet_fallback_not_a_filled_main_action(outside, name, badge):
    page = await list_page(outside)
    row = row_of(page, name)
    assert row.select_one("td.secret-value .secret-badge").get_text(strip=True) == badge
    assert row.select(".secret-primary") == [], "it has a value already: no filled main action"
    (fallback,) = row.select("td.secret-actions a.secret-fallback")
    assert fallback.get_text(strip=True) == "Store a fallback value"
    assert fallback["aria-label"] == f"Store a fallback value for {name}"
    # The same editor as Set and Edit: its page without JavaScript, in place with htmx.
    assert fallback["href"] == fallback["hx-get"] == f"/-/secrets/{name}"


@pytest.mark.asyncio
@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
async def test_the_fallback_editor_says_what_a_fallback_is(outside, headers):
    response = await outside.client.get("/-/secrets/ENV_ONLY", actor=ROOT, headers=headers)
    assert response.status_code == 200
    form = parse(response).select_one("form.secret-form")
    note = form.select_one("p.secret-shadowed[role=note]").get_text(" ", strip=True)
    assert note.endswith(
        "What you store here is a fallback: plugins get it once DATASETTE_SECRETS_ENV_ONLY is unset."
    )
    if headers:
        assert form["aria-label"] == "Store a fallback value for ENV_ONLY"
    else:
        assert parse(response).find("h1").get_text() == "Store a fallback value for ENV_ONLY"
    assert "from-the-environment" not in response.text


@pytest.mark.asyncio
async def test_a_stored_fallback_is_used_once_the_variable_is_unset(outside, monkeypatch):
    from datasette_secrets import get_secret

    response = await outside.client.post("/-/secrets/ENV_ONLY", actor=ROOT, data={"secret": "the-fallback", "note": ""})
    assert response.status_code == 302
    assert await get_secret(outside, "ENV_ONLY") == "from-the-environment"
    monkeypatch.delenv("DATASETTE_SECRETS_ENV_ONLY")
    assert await get_secret(outside, "ENV_ONLY") == "the-fallback"
    # Back on the list it is an ordinary stored value, with Edit as its main action.
    row = row_of(await list_page(outside), "ENV_ONLY")
    assert [a["aria-label"] for a in row.select(".secret-primary")] == ["Edit ENV_ONLY"]


# Due for rotation, and the one Updated cell


@pytest.mark.asyncio
@pytest.mark.parametrize("days,words", [(45, "45 days ago"), (100, "3 months ago"), (800, "2 years ago")])
async def test_a_due_row_says_how_long_ago_in_words_with_the_utc_time_in_its_title(
    register_plugin, make_datasette, days, words
):
    register_plugin(secrets_plugin(Secret("OLD_KEY", "old")), "due-plugin")
    ds = make_datasette(settings={"max_age_days": 30})
    await ds.invoke_startup()
    await store_value(ds, "OLD_KEY", "old-value-0123456789")
    stamp = (datetime.now(timezone.utc) - timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")
    await ds.get_internal_database().execute_write(
        "update datasette_secrets set created_at = ?, updated_at = ?, updated_by = 'a-rather-long-actor-name'", [stamp, stamp]
    )
    row = row_of(await list_page(ds), "OLD_KEY")
    updated = row.select_one("td.secret-updated")
    assert text(updated) == f"Due for rotation v1 · {words} by a-rather-long-actor-name"
    assert updated.select_one(".secret-due")["title"] == "Stored more than 30 days ago: due for rotation"
    assert updated.find("time")["title"] == stamp + " UTC"
    # The value cell keeps only the mask and its buttons.
    value = row.select_one("td.secret-value")
    assert value.select(".secret-due") == []
    assert [b.get_text() for b in value.select("button")] == ["Reveal", "Copy"]


@pytest.mark.asyncio
async def test_the_version_and_the_last_change_share_one_updated_cell(outside):
    await store_value(outside, "FILED", "stored-under-the-file")
    await store_value(outside, "FILED", "stored-again")
    page = await list_page(outside)
    headers = [th.get_text(" ", strip=True) for th in page.select("table.secrets-table thead th")]
    assert headers == ["Secret", "Value", "Note", "Updated", "Last used", "Actions"]
    assert len(page.select("table.secrets-table colgroup col")) == 6
    filed = row_of(page, "FILED")
    assert text(filed.select_one("td.secret-updated")) == "v2 · just now by root"
    assert filed.select_one("td.secret-updated .secret-version").get_text() == "2"
    # Nothing stored: nothing to say, and no stray separator.
    assert row_of(page, "ENV_ONLY").select_one("td.secret-updated").get_text(strip=True) == ""
    # Every row spans the same columns: whatever opens under a row spans them all.
    assert {td["colspan"] for td in page.select("tr.secret-about > td")} == {"6"}


@pytest.mark.asyncio
async def test_with_a_wrong_key_every_stored_row_carries_the_chip_under_the_plain_banner(
    register_plugin, make_datasette, key, other_key, tmp_path
):
    register_plugin(secrets_plugin(*(Secret(name, name, check=ok_check) for name in ("ONE", "TWO"))), "wrong-key-plugin")
    internal = str(tmp_path / "internal.db")
    before = make_datasette(key=other_key, internal=internal)
    await before.invoke_startup()
    await store_value(before, "ONE", "one-value-0123456789")
    await store_value(before, "TWO", "two-value-0123456789")
    ds = make_datasette(key=key, internal=internal)
    await ds.invoke_startup()
    page = await list_page(ds)
    assert page.select_one("main .secrets-wrong-key h2").get_text() == "The encryption key looks wrong"
    for name in ("ONE", "TWO"):
        row = row_of(page, name)
        assert text(row.select_one("td.secret-value .secret-unreadable")) == UNREADABLE_CHIP
        # Nothing reads the value, and nothing is stored until the key is fixed: History and Delete stay.
        verbs = {label.split()[0] for label in button_names(row)}
        assert not verbs & {"Reveal", "Copy", "Test", "Edit", "Set", "Store"}, verbs
        assert {f"History of {name}", f"Delete {name}"} <= set(button_names(row))
    assert "one-value" not in str(page) and "two-value" not in str(page)
