"""Key checks supplied by plugins: Secret(check=...), the Test button, its limits."""

import asyncio
import sqlite3

import pytest
import pytest_asyncio

from datasette_secrets import Secret, checks
from secret_helpers import HX, MANAGER, OTHER, ROOT, audit_rows, parse, row_of, secrets_plugin, store_value

GOOD = "sk-good-0123456789abcdef"


async def shape_check(datasette, value):
    if value.startswith("sk-good"):
        return True, "Looks like a key: 3 models available"
    return False, f"Rejected: {value} is not a good key"  # a careless plugin echoing the value


async def broken_check(datasette, value):
    raise RuntimeError("the service is down")


async def raising_value_error_check(datasette, value):
    raise ValueError("quota exceeded")


async def slow_check(datasette, value):
    await asyncio.sleep(5)
    return True, "too late"


def wrong_shape_check(datasette, value):
    return "yes"


@pytest_asyncio.fixture
async def checked(register_plugin, make_datasette, monkeypatch):
    monkeypatch.setattr(checks, "CHECK_SECONDS", 0.2)
    register_plugin(
        secrets_plugin(
            Secret("SHAPED_KEY", "Has a check", check=shape_check),
            Secret("BROKEN_KEY", check=broken_check),
            Secret("SLOW_KEY", check=slow_check),
            Secret("ODD_KEY", check=wrong_shape_check),
            Secret("QUOTA_KEY", check=raising_value_error_check),
            Secret("PLAIN_KEY", "No check"),
        ),
        "checked-plugin",
    )
    ds = make_datasette()
    await ds.invoke_startup()
    return ds


async def press_test(ds, name, headers=HX, actor=ROOT):
    return await ds.client.post(f"/-/secrets/{name}/test", actor=actor, headers=headers)


def test_check_is_keyword_only_and_positional_fields_keep_their_order():
    secret = Secret("NAME", "desc", "https://example.com/", "Get it", check=shape_check)
    assert (secret.description, secret.obtain_url, secret.obtain_label) == ("desc", "https://example.com/", "Get it")
    with pytest.raises(TypeError):
        Secret("NAME", "desc", "https://example.com/", "Get it", shape_check)
    assert Secret("NAME").check is None


@pytest.mark.asyncio
async def test_button_only_with_a_check_and_a_value(checked, monkeypatch):
    page = parse(await checked.client.get("/-/secrets", actor=ROOT))
    assert page.find("button", string=lambda s: s and s.startswith("Test")) is None, "no values yet"
    await store_value(checked, "SHAPED_KEY", GOOD)
    await store_value(checked, "PLAIN_KEY", GOOD)
    monkeypatch.setenv("DATASETTE_SECRETS_SLOW_KEY", "from-env")
    page = parse(await checked.client.get("/-/secrets", actor=ROOT))
    for name, has_button in (("SHAPED_KEY", True), ("SLOW_KEY", True), ("PLAIN_KEY", False), ("BROKEN_KEY", False)):
        button = row_of(page, name).select_one(f"form[action='/-/secrets/{name}/test'] button")
        assert (button is not None) == has_button, name
        if button is not None:
            assert (button.get_text(strip=True), button["aria-label"]) == ("Test", f"Test {name}")
    assert (await press_test(checked, "PLAIN_KEY")).status_code == 404


@pytest.mark.asyncio
async def test_pass_and_fail_shown_in_place_never_the_value(checked):
    await store_value(checked, "SHAPED_KEY", GOOD)
    response = await press_test(checked, "SHAPED_KEY")
    assert response.status_code == 200
    # The result spans the row (the row comes back with it), focus back on Test.
    feedback = parse(response).select_one("tbody.secret > tr.secret-feedback > td")
    assert feedback["colspan"] == "6"
    assert feedback.get_text(strip=True) == "Test of SHAPED_KEY:✓ Looks like a key: 3 models available"
    assert parse(response).find(autofocus=True)["aria-label"] == "Test SHAPED_KEY"
    assert GOOD not in response.text

    bad = "sk-bad-value-that-is-long-9999"
    await store_value(checked, "SHAPED_KEY", bad)
    response = await press_test(checked, "SHAPED_KEY")
    result = parse(response).select_one(".secret-check-failed").get_text()
    assert result.startswith("✗ Rejected: ")
    # (The row around it shows the last four characters where the list does: not the message.)
    assert bad not in response.text and "9999" not in result, "a message echoing the value is scrubbed"
    audit = [a for a in await audit_rows(checked) if a["action"] == "check"]
    # Whether it passed, nothing of what the check said: the log is read by every manager.
    assert [(a["name"], a["version"], a["detail"]) for a in audit] == [
        ("SHAPED_KEY", 1, "passed"),
        ("SHAPED_KEY", 2, "failed"),
    ]
    assert not any(bad in (a["detail"] or "") for a in audit)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "name,expected",
    [
        ("BROKEN_KEY", "✗ The check failed with RuntimeError: the service is down"),
        ("SLOW_KEY", "✗ The check took longer than 0.2 seconds, so it was stopped."),
        ("ODD_KEY", "✗ The check did not return (ok, message): ValueError."),
        # an error raised by the check itself is reported as such, whatever its type
        ("QUOTA_KEY", "✗ The check failed with ValueError: quota exceeded"),
    ],
)
async def test_a_check_that_fails_to_run_is_a_failed_result_not_an_error(name, expected, checked):
    await store_value(checked, name, GOOD)
    response = await press_test(checked, name)
    assert response.status_code == 200
    assert parse(response).select_one("tr.secret-feedback.secret-failed .secret-check-failed").get_text() == expected


@pytest.mark.asyncio
async def test_environment_value_is_what_gets_tested(checked, monkeypatch):
    monkeypatch.setenv("DATASETTE_SECRETS_SHAPED_KEY", GOOD)
    response = await press_test(checked, "SHAPED_KEY")
    # A value never revealed gives passed or failed, not the check's words.
    assert parse(response).select_one("tr.secret-feedback .secret-check-ok").get_text() == "✓ Passed."
    (row,) = [a for a in await audit_rows(checked) if a["action"] == "check"]
    assert (row["version"], row["detail"]) == (None, "passed")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "name,expected",
    [
        ("SHAPED_KEY", "✗ Failed."),  # its message would echo the value
        ("BROKEN_KEY", "✗ Failed: the check raised RuntimeError."),
    ],
)
async def test_a_value_never_revealed_gives_only_the_outcome_and_the_exception_type(
    name, expected, checked, monkeypatch
):
    monkeypatch.setenv(f"DATASETTE_SECRETS_{name}", "sk-bad-from-the-environment-42")
    response = await press_test(checked, name)
    assert parse(response).select_one("tr.secret-feedback .secret-check-failed").get_text() == expected
    assert "environment-42" not in response.text


@pytest.mark.asyncio
async def test_without_javascript_the_result_is_a_page_of_its_own_and_no_cookie(checked):
    await store_value(checked, "SHAPED_KEY", GOOD)
    response = await press_test(checked, "SHAPED_KEY", headers={})
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    page = parse(response)
    assert page.select_one("h1").get_text() == "Test of SHAPED_KEY"
    assert page.select_one(".secret-check-ok").get_text() == "✓ Looks like a key: 3 models available"
    # The way back is the list page that shows the secret.
    assert page.select_one("a.secrets-back")["href"] == "/-/secrets#secret-SHAPED_KEY"


class Unreadable:
    """A result that raises when asked for its truth or its text (a numpy array, say)."""

    def __bool__(self):
        raise ValueError("The truth value of an array with more than one element is ambiguous")

    def __str__(self):
        raise RuntimeError("no text here")


async def ambiguous_ok_check(datasette, value):
    return Unreadable(), f"checked {value}"


async def unprintable_message_check(datasette, value):
    return True, Unreadable()


class UnprintableError(Exception):
    def __str__(self):
        raise RuntimeError("cannot print me")


async def unprintable_error_check(datasette, value):
    raise UnprintableError()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "check,expected",
    [
        (ambiguous_ok_check, "✗ The check's result could not be read: ValueError."),
        (unprintable_message_check, "✗ The check's result could not be read: RuntimeError."),
        (unprintable_error_check, "✗ The check failed with UnprintableError."),
    ],
)
async def test_a_result_that_raises_when_read_is_a_failed_result_not_a_500(
    check, expected, register_plugin, make_datasette
):
    register_plugin(secrets_plugin(Secret("ODD_RESULT_KEY", check=check)), "odd-result-plugin")
    ds = make_datasette()
    await store_value(ds, "ODD_RESULT_KEY", GOOD)
    response = await press_test(ds, "ODD_RESULT_KEY")
    assert response.status_code == 200
    assert parse(response).select_one("tr.secret-feedback .secret-check-failed").get_text() == expected
    assert GOOD not in response.text


@pytest.mark.asyncio
async def test_limited_like_reveals_and_only_for_revealers(register_plugin, make_datasette):
    register_plugin(secrets_plugin(Secret("SHAPED_KEY", check=shape_check)), "checked-plugin")
    ds = make_datasette(settings={"reveals_per_minute": 2})
    await store_value(ds, "SHAPED_KEY", GOOD)
    # A test answers a question about the value: reveal-secrets only.
    for actor in (None, OTHER, MANAGER):
        assert (await press_test(ds, "SHAPED_KEY", actor=actor)).status_code == 403
    assert (await ds.client.get("/-/secrets/SHAPED_KEY/test", actor=ROOT)).status_code == 405
    statuses = [(await press_test(ds, "SHAPED_KEY", actor=ROOT)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = await press_test(ds, "SHAPED_KEY", actor=ROOT)
    assert "Too many tests" in response.text and response.headers["HX-Retarget"] == "#secrets-status"


@pytest.mark.asyncio
async def test_an_upgrade_forgets_the_messages_earlier_releases_kept_in_the_audit_log(
    example_plugin, make_datasette, tmp_path
):
    path = str(tmp_path / "internal.db")
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        create table datasette_secrets_audit (
            id integer primary key, name text not null, version integer, action text not null,
            detail text, actor_id text, created_at text not null
        );
        insert into datasette_secrets_audit (name, version, action, detail, actor_id, created_at) values
            ('API_KEY', 1, 'check', 'failed: HTTPStatusError for url ...?api_key=sk%2Dlive%2D42', 'root', '2026-01-01'),
            ('API_KEY', 1, 'check', 'passed: 3 models for sk-live-42', 'root', '2026-01-01'),
            ('API_KEY', 1, 'set', 'command line', 'root', '2026-01-01');
        """
    )
    conn.commit()
    conn.close()
    ds = make_datasette(internal=path)
    await ds.invoke_startup()
    rows = [(a["action"], a["detail"]) for a in await audit_rows(ds)]
    assert sorted(rows) == [("check", "failed"), ("check", "passed"), ("set", "command line")]
