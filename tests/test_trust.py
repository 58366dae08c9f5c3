"""The trust review's findings: a manager without reveal-secrets (and everyone in
write-only mode) learns nothing about a value, by any path. One test (or more)
per finding; each failed before its fix."""

import json
import time

import pytest
import pytest_asyncio

from datasette_secrets import Secret, core, get_secret
from datasette_secrets.scrub import scrub
from secret_helpers import (
    HX,
    MANAGER,
    ROOT,
    audit_rows,
    insert_row,
    parse,
    row_of,
    secret_rows,
    secrets_plugin,
    store_value,
)

PIN = "4821"
LONG = 'sk-live-"quoted"\\back\nslash-é-0123456789'


async def int_check(datasette, value):
    return int(value) > 0, "a number"  # int() quotes the value in its ValueError


async def bytes_check(datasette, value):
    raise RuntimeError(f"bad header {value.encode()!r}")


async def echo_forms_check(datasette, value):
    return False, f"got {json.dumps(value)} / {ascii(value)} / tail {value[-8:]} / head {value[:-8]}"


@pytest_asyncio.fixture
async def trusted(register_plugin, make_datasette, monkeypatch, key):
    register_plugin(
        secrets_plugin(
            Secret("PIN", "a PIN"),
            Secret("INT_KEY", check=int_check),
            Secret("BYTES_KEY", check=bytes_check),
            Secret("ECHO_KEY", check=echo_forms_check),
            Secret("ENV_ECHO", check=echo_forms_check),
            Secret("ENCRYPTION_KEY", "a plugin that asks for the master key", check=echo_forms_check),
        ),
        "trusted-plugin",
    )
    ds = make_datasette()
    await ds.invoke_startup()
    return ds


async def preview(ds, text, actor):
    return await ds.client.post(
        "/-/secrets/-/import", data={"dotenv": text}, actor=actor, headers=HX
    )


# 1. The import preview is not an equality oracle.


@pytest.mark.asyncio
async def test_import_preview_tells_a_manager_without_reveal_nothing_about_stored_values(trusted):
    await store_value(trusted, "PIN", PIN)
    for guess in ("0000", PIN):
        page = await preview(trusted, f"PIN={guess}\n", MANAGER)
        assert page.status_code == 200
        text = parse(page).get_text(" ", strip=True)
        assert "Will be stored" in text
        assert "Unchanged" not in text and "Changed" not in text
    # No comparison was made, so none was audited.
    assert [row["action"] for row in await audit_rows(trusted)] == ["set"]


@pytest.mark.asyncio
async def test_import_preview_compares_for_a_revealer_and_audits_each_comparison(trusted):
    await store_value(trusted, "PIN", PIN)
    page = await preview(trusted, f"PIN={PIN}\n", ROOT)
    assert "Unchanged" in parse(page).get_text(" ", strip=True)
    compared = [row for row in await audit_rows(trusted) if row["action"] == "compare"]
    assert [(row["name"], row["version"], row["actor_id"]) for row in compared] == [("PIN", 1, "root")]


@pytest.mark.asyncio
async def test_import_comparisons_count_against_the_reveal_limit(register_plugin, make_datasette):
    register_plugin(secrets_plugin(Secret("PIN")), "pin-plugin")
    ds = make_datasette(settings={"reveals_per_minute": 2})
    await ds.invoke_startup()
    await store_value(ds, "PIN", PIN)
    statuses = []
    for _ in range(3):
        text = parse(await preview(ds, f"PIN={PIN}\n", ROOT)).get_text(" ", strip=True)
        statuses.append("Unchanged" in text)
    assert statuses == [True, True, False]


@pytest.mark.asyncio
async def test_write_only_mode_compares_for_nobody(register_plugin, make_datasette):
    register_plugin(secrets_plugin(Secret("PIN")), "pin-plugin")
    ds = make_datasette(settings={"reveal": False})
    await ds.invoke_startup()
    await store_value(ds, "PIN", PIN)
    text = parse(await preview(ds, f"PIN={PIN}\n", ROOT)).get_text(" ", strip=True)
    assert "Will be stored" in text and "Unchanged" not in text


@pytest.mark.asyncio
async def test_confirming_a_preview_without_reveal_stores_every_chosen_value(trusted):
    await store_value(trusted, "PIN", PIN)
    page = await preview(trusted, f"PIN={PIN}\n", MANAGER)
    token = parse(page).select_one("input[name=token]")["value"]
    response = await trusted.client.post(
        "/-/secrets/-/import/confirm", data={"token": token, "store": "PIN"}, actor=MANAGER
    )
    assert response.status_code == 302
    # Stored again (version 2): skipping it would have told the manager it was unchanged.
    assert [row["version"] for row in await secret_rows(trusted, "PIN")] == [1, 2]


# 2. Test messages carry nothing of the value, in any form, anywhere.


def test_scrub_removes_quoted_escaped_and_partial_forms():
    value = LONG
    message = (
        f"ValueError: {value!r}; bytes {value.encode()!r}; json {json.dumps(value)}; "
        f"all but the tail: {value[:-8]}; a line: {value.splitlines()[1]}"
    )
    scrubbed = scrub(message, value)
    assert "ValueError" in scrubbed and "json" in scrubbed
    for form in (value, repr(value), value[:-8], "slash-é-0123", "0123456789", "sk-live-"):
        assert form not in scrubbed
    assert not any(value[i : i + 6] in scrubbed for i in range(len(value) - 5))


def test_scrub_removes_a_short_value_and_keeps_other_text():
    assert scrub("PIN 4821 is wrong", PIN) == "PIN ••• is wrong"
    assert scrub("nothing of it here", "a-long-secret-value") == "nothing of it here"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "name,value",
    [("INT_KEY", "not-a-number-but-a-key-Z9"), ("BYTES_KEY", LONG), ("ECHO_KEY", LONG)],
)
async def test_check_messages_hold_no_part_of_the_value(trusted, name, value):
    await store_value(trusted, name, value)
    fragment = await trusted.client.post(f"/-/secrets/{name}/test", actor=ROOT, headers=HX)
    page = await trusted.client.post(f"/-/secrets/{name}/test", actor=ROOT)  # without JavaScript
    assert page.status_code == 200
    audit = await trusted.client.get("/-/secrets/-/audit.json", actor=MANAGER)
    stored = core.clean_value(value)
    for text in (fragment.text, page.text, audit.text, page.headers.get("set-cookie", "")):
        assert not _shares_run(text, stored), text


@pytest.mark.asyncio
async def test_check_messages_hold_no_part_of_an_environment_value(trusted, monkeypatch):
    monkeypatch.setenv("DATASETTE_SECRETS_ENV_ECHO", LONG)
    fragment = await trusted.client.post("/-/secrets/ENV_ECHO/test", actor=ROOT, headers=HX)
    assert fragment.status_code == 200
    assert "✗" in fragment.text
    audit = await trusted.client.get("/-/secrets/-/audit.json", actor=MANAGER)
    for text in (fragment.text, audit.text):
        assert not _shares_run(text, LONG)


@pytest.mark.asyncio
async def test_test_needs_reveal_secrets(trusted):
    await store_value(trusted, "ECHO_KEY", LONG)
    response = await trusted.client.post("/-/secrets/ECHO_KEY/test", actor=MANAGER, headers=HX)
    assert response.status_code == 403
    page = await trusted.client.get("/-/secrets", actor=MANAGER)
    assert parse(page).find("button", attrs={"aria-label": "Test ECHO_KEY"}) is None
    assert parse(await trusted.client.get("/-/secrets", actor=ROOT)).find(
        "button", attrs={"aria-label": "Test ECHO_KEY"}
    )


@pytest.mark.asyncio
async def test_write_only_mode_tests_for_nobody(register_plugin, make_datasette):
    register_plugin(secrets_plugin(Secret("ECHO_KEY", check=echo_forms_check)), "echo-plugin")
    ds = make_datasette(settings={"reveal": False})
    await ds.invoke_startup()
    await store_value(ds, "ECHO_KEY", LONG)
    response = await ds.client.post("/-/secrets/ECHO_KEY/test", actor=ROOT, headers=HX)
    assert response.status_code == 403


# 5. Test of a value that cannot be decrypted is a message, not a 500.


@pytest.mark.asyncio
async def test_test_of_an_undecryptable_value_is_a_409(trusted, other_key):
    # A row under a key this Datasette does not have (removed too early).
    from datasette_secrets.crypto import Key

    foreign = Key(other_key)
    await insert_row(trusted, "ECHO_KEY", foreign.encrypt("ECHO_KEY", 1, LONG), foreign.id)
    response = await trusted.client.post("/-/secrets/ECHO_KEY/test", actor=ROOT, headers=HX)
    assert response.status_code == 409
    assert "cannot be tested" in response.text


# 7. No secret ever resolves to a configured encryption key.


@pytest.mark.asyncio
async def test_a_secret_never_resolves_to_the_encryption_key(trusted, monkeypatch, key):
    monkeypatch.setenv("DATASETTE_SECRETS_ENCRYPTION_KEY", key)
    monkeypatch.setenv("DATASETTE_SECRETS_ENV_ECHO", key + "\n")
    assert await get_secret(trusted, "ENCRYPTION_KEY") is None
    assert await get_secret(trusted, "ENV_ECHO") is None
    # Not listed as set from the environment, so nothing offers to test it.
    page = parse(await trusted.client.get("/-/secrets", actor=ROOT))
    assert page.find("button", attrs={"aria-label": "Test ENCRYPTION_KEY"}) is None
    response = await trusted.client.post("/-/secrets/ENCRYPTION_KEY/test", actor=ROOT, headers=HX)
    assert response.status_code == 404
    assert key not in response.text


@pytest.mark.asyncio
async def test_a_stored_copy_of_the_key_is_never_served_or_revealed(trusted, key):
    await store_value(trusted, "PIN", key)
    assert await get_secret(trusted, "PIN") is None
    response = await trusted.client.post("/-/secrets/PIN/reveal", actor=ROOT, headers=HX)
    assert response.status_code == 409
    assert key not in response.text


# 10. The no-JavaScript message cookie is the actor's own, and short-lived.


@pytest.mark.asyncio
async def test_message_cookie_is_bound_to_its_actor(trusted):
    response = await store_value(trusted, "PIN", PIN)
    cookies = {name: value for name, value in response.cookies.items() if value}
    mine = await trusted.client.get("/-/secrets", actor=ROOT, cookies=cookies)
    assert row_of(parse(mine), "PIN").select_one("tr.secret-feedback")
    theirs = await trusted.client.get("/-/secrets", actor=MANAGER, cookies=cookies)
    assert row_of(parse(theirs), "PIN").select_one("tr.secret-feedback") is None


@pytest.mark.asyncio
async def test_message_cookie_expires(trusted, monkeypatch):
    response = await store_value(trusted, "PIN", PIN)
    header = response.headers["set-cookie"]
    assert "Max-Age=60" in header and "Path=/-/secrets" in header
    cookies = {name: value for name, value in response.cookies.items() if value}
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    page = await trusted.client.get("/-/secrets", actor=ROOT, cookies=cookies)
    assert row_of(parse(page), "PIN").select_one("tr.secret-feedback") is None


# 11. Copy's plain text is never sniffed as HTML.


@pytest.mark.asyncio
async def test_copy_says_nosniff(trusted):
    await store_value(trusted, "PIN", "<script>alert(1)</script>-value")
    response = await trusted.client.post("/-/secrets/PIN/copy", actor=ROOT, headers=HX)
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-type"].startswith("text/plain")


# Environment-variable secrets: one rule for the page, the import and the CLI.


@pytest.mark.asyncio
async def test_a_value_may_be_stored_behind_an_environment_variable_with_a_warning(trusted, monkeypatch):
    monkeypatch.setenv("DATASETTE_SECRETS_PIN", "from-the-environment")
    form = await trusted.client.get("/-/secrets/PIN", actor=ROOT)
    assert form.status_code == 200
    assert "takes precedence" in parse(form).get_text(" ", strip=True)
    await store_value(trusted, "PIN", PIN)
    assert await get_secret(trusted, "PIN") == "from-the-environment"
    page = await preview(trusted, "PIN=9999\n", ROOT)
    text = parse(page).get_text(" ", strip=True)
    assert "Shadowed" in text and "Changed" in text
    delete = await trusted.client.post("/-/secrets/PIN/delete", actor=ROOT)
    assert delete.status_code == 302
    monkeypatch.delenv("DATASETTE_SECRETS_PIN")
    assert await get_secret(trusted, "PIN") is None


def _shares_run(text, value, size=6):
    return any(value[i : i + size] in text for i in range(len(value) - size + 1))


# The command line asks the same rules: no comparison in write-only mode.


def test_command_line_import_compares_nothing_in_write_only_mode(tmp_path, key, example_plugin):
    from cli_helpers import ok, run
    from secret_helpers import new_database, write_config

    internal = new_database(tmp_path / "internal.db")
    options = ["--internal", internal, "-c", write_config(tmp_path, {"encryption_key": key, "reveal": False})]
    ok(run("set", "API_KEY", *options, input="sk-live-same-value-1234\n"))
    env = tmp_path / "same.env"
    env.write_text("API_KEY=sk-live-same-value-1234\n")
    output = ok(run("import", str(env), *options)).output
    assert "unchanged" not in output
    assert "store" in output
    assert "Stored 1 secret" in output


# 6. A key that fits nothing stored stores nothing from the page either.


@pytest.mark.asyncio
async def test_the_page_refuses_to_store_with_a_key_that_fits_nothing(trusted, other_key):
    from datasette_secrets.crypto import Key

    foreign = Key(other_key)
    await insert_row(trusted, "PIN", foreign.encrypt("PIN", 1, PIN), foreign.id)
    page = parse(await trusted.client.get("/-/secrets", actor=ROOT))
    assert page.find("button", attrs={"aria-label": "Edit PIN"}) is None
    for name in ("PIN", "INT_KEY"):
        response = await trusted.client.post(f"/-/secrets/{name}", data={"secret": "new", "note": ""}, actor=ROOT)
        assert response.status_code == 409
        assert "decrypt none" in response.text
    response = await preview(trusted, "INT_KEY=5\n", ROOT)
    assert response.status_code == 409
    assert len(await secret_rows(trusted)) == 1


# 8 (and its cousins). A value typed where a name goes is never repeated.


@pytest.mark.parametrize("argument", ["sk-live-0123456789abcdef", "API_KEY=sk-live-0123456789abcdef"])
def test_a_value_typed_as_the_name_is_not_repeated(tmp_path, key, example_plugin, argument):
    from cli_helpers import failed, run
    from secret_helpers import new_database, write_config

    internal = new_database(tmp_path / "internal.db")
    options = ["--internal", internal, "-c", write_config(tmp_path, {"encryption_key": key})]
    for command in ("set", "delete", "history"):
        result = failed(run(command, argument, *options, input="x\n"), "not a secret name")
        assert "0123456789abcdef" not in result.output
