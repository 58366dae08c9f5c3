"""Secrets mounted as files: DATASETTE_SECRETS_<NAME>_FILE, and the key from a $file."""

import json
import os

import pytest
import pytest_asyncio
from click.testing import CliRunner
from datasette.cli import cli
from datasette.utils import StartupError

from datasette_secrets import Secret, SecretFileError, core, files, get_secret
from cli_helpers import ok
from route_helpers import NAME_TEMPLATES, path
from secret_helpers import (
    HX,
    MANAGER,
    ROOT,
    audit_rows,
    new_database,
    parse,
    secrets_plugin,
    store_value,
    write_config,
)

VALUE = "Qz7Wk2Lm9Xc4Fp1Rt6"  # no 6-character run of it is on any page by chance
STORED = "stored-value-Hj5Tn8Rb3Vy6"
VARIABLE = "DATASETTE_SECRETS_FILED_KEY_FILE"


def good_check(datasette, value):
    # Quotes the value: the scrubber must take it out of the message.
    return True, f"accepted {value}"


@pytest.fixture
def filed_plugin(register_plugin):
    return register_plugin(
        secrets_plugin(Secret("FILED_KEY", "Mounted as a file", check=good_check), Secret("OTHER_KEY")),
        "filed-plugin",
    )


@pytest_asyncio.fixture
async def fds(filed_plugin, make_datasette):
    datasette = make_datasette()
    await datasette.invoke_startup()
    return datasette


@pytest.fixture
def secret_file(tmp_path, monkeypatch):
    """write(text): the file DATASETTE_SECRETS_FILED_KEY_FILE names now holds ``text``."""
    target = tmp_path / "filed_key"
    monkeypatch.setenv(VARIABLE, str(target))

    def write(text, mode="w"):
        with open(target, mode, newline="") as f:
            f.write(text)
        return target

    return write


async def state_of(ds):
    return await core.ready(ds)


def leaks(text, value=VALUE, run=6):
    """The 6-character runs of ``value`` that ``text`` holds."""
    return {value[i : i + run] for i in range(len(value) - run + 1) if value[i : i + run] in text}


def value_cell(page, name="FILED_KEY"):
    """The text of the secret's value cell on the list page (<wbr>s joined)."""
    cell = parse(page).select_one(f"tbody#secret-{name} td.secret-value")
    assert cell is not None, page.text
    return " ".join(cell.get_text().split())


# The value


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "contents, expected",
    [
        (VALUE, VALUE),
        (VALUE + "\n", VALUE),
        (VALUE + "\r\n", VALUE),
        (VALUE + "\n\n", VALUE + "\n"),  # one line break only
        (VALUE + "  \n", VALUE + "  "),  # other whitespace is part of the value
        ("line one\nline two\n", "line one\nline two"),
    ],
)
async def test_the_value_is_the_file_without_one_trailing_line_break(fds, secret_file, contents, expected):
    secret_file(contents)
    assert await get_secret(fds, "FILED_KEY") == expected


@pytest.mark.asyncio
async def test_order_variable_then_file_then_stored(fds, secret_file, monkeypatch):
    secret_file(VALUE + "\n")
    await store_value(fds, "FILED_KEY", STORED)
    assert await get_secret(fds, "FILED_KEY") == VALUE
    monkeypatch.setenv("DATASETTE_SECRETS_FILED_KEY", "from-the-variable")
    assert await get_secret(fds, "FILED_KEY") == "from-the-variable"
    page = await fds.client.get("/-/secrets", actor=ROOT)
    cell = value_cell(page)
    assert "DATASETTE_SECRETS_FILED_KEY_FILE is set too: the variable wins" in cell
    monkeypatch.delenv("DATASETTE_SECRETS_FILED_KEY")
    monkeypatch.delenv(VARIABLE)
    assert await get_secret(fds, "FILED_KEY") == STORED


@pytest.mark.asyncio
async def test_an_empty_variable_is_ignored(fds, monkeypatch):
    await store_value(fds, "FILED_KEY", STORED)
    monkeypatch.setenv(VARIABLE, "")
    assert await get_secret(fds, "FILED_KEY") == STORED


# Changes on disk


@pytest.mark.asyncio
async def test_a_changed_file_is_read_again_after_a_second(fds, secret_file, clock):
    # the clock fixture: the plugin's clock, which the test moves instead of sleeping
    secret_file("first\n")
    assert await get_secret(fds, "FILED_KEY") == "first"
    secret_file("second, and longer\n")
    clock.now += 0.5
    assert await get_secret(fds, "FILED_KEY") == "first", "looked at once a second at most"
    clock.now += 0.5
    assert await get_secret(fds, "FILED_KEY") == "second, and longer"
    # The same size, rewritten in place: the mtime (and ctime) still tell.
    target = secret_file("second, and LONGER\n")
    os.utime(target, ns=(1, 1))
    clock.now += 1.0
    assert await get_secret(fds, "FILED_KEY") == "second, and LONGER"


@pytest.mark.asyncio
async def test_kubernetes_symlink_swap_is_seen(fds, tmp_path, monkeypatch, clock):
    # The layout of a Kubernetes secret volume: name -> ..data/name, ..data -> a timestamped dir.
    volume = tmp_path / "volume"
    volume.mkdir()
    (volume / "..2024_01").mkdir()
    (volume / "..2024_01" / "filed_key").write_text("old-value\n")
    (volume / "..data").symlink_to("..2024_01")
    (volume / "filed_key").symlink_to("..data/filed_key")
    monkeypatch.setenv(VARIABLE, str(volume / "filed_key"))
    assert await get_secret(fds, "FILED_KEY") == "old-value"
    (volume / "..2024_02").mkdir()
    (volume / "..2024_02" / "filed_key").write_text("new-value\n")  # same size as the old one
    (volume / "..data_tmp").symlink_to("..2024_02")
    os.replace(volume / "..data_tmp", volume / "..data")  # the atomic swap
    clock.now += 1.0
    assert await get_secret(fds, "FILED_KEY") == "new-value"


@pytest.mark.asyncio
async def test_between_looks_a_read_costs_no_system_call(fds, secret_file, monkeypatch, clock):
    secret_file(VALUE)
    assert await get_secret(fds, "FILED_KEY") == VALUE
    calls = []
    real_stat = os.stat
    monkeypatch.setattr(files.os, "stat", lambda *a, **k: calls.append(a) or real_stat(*a, **k))
    for _ in range(100):
        assert await get_secret(fds, "FILED_KEY") == VALUE
    assert calls == []
    clock.now += 1.0
    assert await get_secret(fds, "FILED_KEY") == VALUE
    assert len(calls) == 1


# Files that cannot be read


def unreadable_cases(tmp_path):
    directory = tmp_path / "a-directory"
    directory.mkdir()
    fifo = tmp_path / "a-fifo"
    os.mkfifo(fifo)
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xffsecret-bytes-\xfe\xfd")
    empty = tmp_path / "empty"
    empty.write_text("\n")
    large = tmp_path / "large"
    large.write_text("x" * (files.MAX_BYTES + 1))
    return [
        (tmp_path / "missing", "does not exist"),
        (directory, "is a directory, not a file"),
        (fifo, "is not a regular file"),  # and reading it does not hang
        (binary, "is not UTF-8 text"),
        (empty, "is empty"),
        (large, "is larger than 64 KiB"),
    ]


@pytest.mark.asyncio
async def test_a_file_that_cannot_be_read_raises_secret_file_error(fds, tmp_path, monkeypatch):
    await store_value(fds, "FILED_KEY", STORED)
    for target, reason in unreadable_cases(tmp_path):
        monkeypatch.setenv(VARIABLE, str(target))
        with pytest.raises(SecretFileError) as raised:
            await get_secret(fds, "FILED_KEY")
        assert str(raised.value) == f"{VARIABLE} names {target}, which {reason}"
        assert (raised.value.name, raised.value.path, raised.value.reason) == ("FILED_KEY", str(target), reason)
        # Nothing of the file is attached: no chained exception holding its bytes.
        assert raised.value.__cause__ is None and raised.value.__context__ is None
        assert "secret-bytes" not in str(raised.value)


@pytest.mark.asyncio
async def test_a_missing_file_is_a_message_on_the_page(fds, tmp_path, monkeypatch):
    await store_value(fds, "FILED_KEY", STORED)
    missing = tmp_path / "missing"
    monkeypatch.setenv(VARIABLE, str(missing))
    page = await fds.client.get("/-/secrets", actor=ROOT)
    assert page.status_code == 200
    cell = value_cell(page)
    assert "Set by file" in cell and str(missing) in cell
    assert f"{VARIABLE} names {missing}, which does not exist" in cell
    # Test has nothing to run on: the stored value is not what plugins get.
    response = await fds.client.post("/-/secrets/FILED_KEY/test", actor=ROOT, headers=HX)
    assert response.status_code == 404
    # Once the file is there, it is read (a missing file is looked for again, too).
    (await state_of(fds)).files.check_every = 0
    missing.write_text(VALUE)
    assert await get_secret(fds, "FILED_KEY") == VALUE


# The admin page


@pytest.mark.asyncio
async def test_the_page_shows_the_path_never_the_contents(fds, secret_file):
    target = secret_file(VALUE + "\n")
    await store_value(fds, "FILED_KEY", STORED)
    for actor in (ROOT, MANAGER):
        page = await fds.client.get("/-/secrets", actor=actor)
        cell = value_cell(page)
        assert "Set by file" in cell and str(target) in cell
        assert "Shadows stored version 1" in cell
        row = parse(page).select_one("tbody#secret-FILED_KEY")
        assert row.find("button", string="Reveal") is None and row.find("button", string="Copy") is None
        assert not leaks(page.text)
    env_filter = await fds.client.get("/-/secrets?status=env", actor=ROOT)
    assert "FILED_KEY" in env_filter.text, "a file secret is listed under the Environment filter"


@pytest.mark.asyncio
async def test_no_route_shows_the_contents_to_root_or_a_manager(fds, secret_file):
    secret_file(VALUE + "\n")
    await store_value(fds, "FILED_KEY", STORED)
    for actor in (ROOT, MANAGER):
        for template in ["/-/secrets", "/-/secrets/-/audit", "/-/secrets/-/audit.json", *NAME_TEMPLATES]:
            url = path(template, "FILED_KEY")
            for method in ("GET", "POST"):
                for headers in ({}, HX):
                    response = await fds.client.request(method, url, actor=actor, headers=headers)
                    where = (actor["id"], method, url, bool(headers))
                    assert response.status_code < 500, where
                    assert not leaks(response.text), where
                    assert not leaks(json.dumps(dict(response.headers))), where
    assert not leaks(json.dumps(await audit_rows(fds)))
    assert await get_secret(fds, "FILED_KEY") == VALUE


@pytest.mark.asyncio
async def test_reveal_and_copy_are_refused_test_runs_on_the_file(fds, secret_file):
    secret_file(VALUE + "\n")
    await store_value(fds, "FILED_KEY", STORED)
    for action in ("reveal", "copy"):
        response = await fds.client.post(f"/-/secrets/FILED_KEY/{action}", actor=ROOT, headers=HX)
        assert response.status_code == 403
        assert "Values read from files are never revealed" in response.text
        assert not leaks(response.text)
    response = await fds.client.post("/-/secrets/FILED_KEY/test", actor=ROOT, headers=HX)
    assert response.status_code == 200
    # A value never revealed: the outcome only, not the check's words (which quoted it).
    assert parse(response).select_one(".secret-check-ok").get_text(strip=True) == "✓ Passed."
    assert not leaks(response.text), "the check's message went through the scrubber"
    (row,) = [a for a in await audit_rows(fds) if a["action"] == "check"]
    assert row["version"] is None
    # A manager without reveal-secrets may not test
    assert (await fds.client.post("/-/secrets/FILED_KEY/test", actor=MANAGER, headers=HX)).status_code == 403


@pytest.mark.asyncio
async def test_storing_behind_a_file_is_allowed_with_a_warning(fds, secret_file):
    target = secret_file(VALUE)
    form = await fds.client.get("/-/secrets/FILED_KEY", actor=ROOT)
    warning = parse(form).select_one("p.secret-shadowed[role=note]")
    assert warning is not None
    assert warning.get_text(" ", strip=True) == (
        f"The environment variable {VARIABLE} is set and takes precedence: "
        f"plugins get the contents of {target}, not a stored value, until it is unset. "
        f"What you store here is a fallback: plugins get it once {VARIABLE} is unset."
    )
    await store_value(fds, "FILED_KEY", STORED)
    assert await get_secret(fds, "FILED_KEY") == VALUE


# No secret is ever an encryption key


@pytest.mark.asyncio
async def test_a_file_holding_the_encryption_key_gives_nothing(fds, secret_file, key):
    secret_file(key + "\n")
    await store_value(fds, "FILED_KEY", STORED)
    assert await get_secret(fds, "FILED_KEY") == STORED
    page = await fds.client.get("/-/secrets", actor=ROOT)
    assert "Set by file" not in value_cell(page)
    assert key not in page.text


@pytest.mark.asyncio
async def test_a_secret_named_name_file_owns_its_variable(register_plugin, make_datasette, monkeypatch):
    register_plugin(secrets_plugin(Secret("TOKEN"), Secret("TOKEN_FILE")), "clashing-plugin")
    ds = make_datasette()
    monkeypatch.setenv("DATASETTE_SECRETS_TOKEN_FILE", "value-not-a-path")
    assert await get_secret(ds, "TOKEN_FILE") == "value-not-a-path"
    assert await get_secret(ds, "TOKEN") is None  # not a SecretFileError quoting that value as a path
    page = await ds.client.get("/-/secrets", actor=ROOT)
    assert page.status_code == 200
    assert "value-not-a-path" not in page.text


# The encryption key from a $file


@pytest.mark.asyncio
async def test_the_encryption_key_may_come_from_a_file(filed_plugin, make_datasette, key, tmp_path):
    key_file = tmp_path / "datasette-secrets-key"
    key_file.write_text(key + "\n")  # as `echo` or a Kubernetes secret leaves it
    ds = make_datasette(key={"$file": str(key_file)})
    await ds.invoke_startup()
    await store_value(ds, "OTHER_KEY", STORED)
    assert await get_secret(ds, "OTHER_KEY") == STORED
    # The same key given inline reads what the file's key stored.
    inline = make_datasette(key=key, internal=None)
    assert (await state_of(ds)).settings.keyring.primary.id == (await state_of(inline)).settings.keyring.primary.id


@pytest.mark.asyncio
async def test_a_missing_key_file_stops_startup_with_a_message(filed_plugin, make_datasette, tmp_path):
    missing = tmp_path / "no-key-here"
    ds = make_datasette(key={"$file": str(missing)})
    with pytest.raises(StartupError) as raised:
        await ds.invoke_startup()
    assert str(raised.value) == (
        f"datasette-secrets: a {{$file: ...}} in its configuration cannot be read "
        f"({missing}: No such file or directory)"
    )


# The command line


def test_list_says_file(tmp_path, key, filed_plugin, monkeypatch):
    internal = new_database(tmp_path / "internal.db")
    target = tmp_path / "filed_key"
    target.write_text(VALUE + "\n")
    monkeypatch.setenv(VARIABLE, str(target))
    options = ["--internal", internal, "-c", write_config(tmp_path, {"encryption_key": key})]
    listed = json.loads(ok(CliRunner().invoke(cli, ["secrets", "list", "--json", *options])).stdout)
    assert {row["name"]: row["source"] for row in listed} == {"FILED_KEY": "file", "OTHER_KEY": "not set"}
    table = ok(CliRunner().invoke(cli, ["secrets", "list", *options])).output
    rows = {line.split()[0]: line.split()[1:] for line in table.splitlines()[1:]}
    assert rows["FILED_KEY"] == ["file", "never"]
    assert not leaks(table) and VALUE not in json.dumps(listed)


def test_a_missing_key_file_stops_a_command_with_a_message(tmp_path, filed_plugin):
    internal = new_database(tmp_path / "internal.db")
    missing = tmp_path / "no-key-here"
    options = ["--internal", internal, "-c", write_config(tmp_path, {"encryption_key": {"$file": str(missing)}})]
    result = CliRunner().invoke(cli, ["secrets", "list", *options])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert result.output == (
        f"Error: datasette-secrets: a {{$file: ...}} in its configuration cannot be read "
        f"({missing}: No such file or directory)\n"
    )


@pytest.mark.asyncio
async def test_an_import_says_the_file_takes_precedence(fds, secret_file):
    secret_file(VALUE + "\n")
    page = await fds.client.post(
        "/-/secrets/-/import", data={"dotenv": "FILED_KEY=sk-imported-value-000\n"}, actor=ROOT, headers=HX
    )
    text = parse(page).get_text(" ", strip=True)
    assert f"Shadowed: {VARIABLE} is set and takes precedence" in text
    assert not leaks(page.text)


def test_set_behind_a_file_warns_naming_the_file_variable(tmp_path, key, filed_plugin, monkeypatch):
    internal = new_database(tmp_path / "internal.db")
    target = tmp_path / "filed_key"
    target.write_text(VALUE + "\n")
    monkeypatch.setenv(VARIABLE, str(target))
    options = ["--internal", internal, "-c", write_config(tmp_path, {"encryption_key": key})]
    result = ok(CliRunner().invoke(cli, ["secrets", "set", "FILED_KEY", *options], input="sk-stored-000000\n"))
    assert f"Warning: {VARIABLE} is set, and takes precedence" in result.output
    assert not leaks(result.output)


@pytest.mark.asyncio
async def test_a_key_file_removed_after_startup_breaks_no_page(filed_plugin, make_datasette, key, tmp_path):
    import sqlite3

    vault = tmp_path / "vault.db"
    sqlite3.connect(vault).execute("create table things (id integer primary key)").connection.close()
    key_file = tmp_path / "datasette-secrets-key"
    key_file.write_text(key + "\n")
    ds = make_datasette(key={"$file": str(key_file)}, files=[str(vault)], settings={"database": "vault"})
    await ds.invoke_startup()
    key_file.unlink()
    for url in ("/vault/things", "/vault/datasette_secrets", "/-/secrets"):
        response = await ds.client.get(url, actor=ROOT)
        assert response.status_code == {"/vault/datasette_secrets": 403}.get(url, 200), url


@pytest.mark.asyncio
async def test_a_file_variable_holding_the_value_itself_is_never_shown(fds, monkeypatch):
    # An easy mistake: the value put in the _FILE variable instead of a path.
    monkeypatch.setenv(VARIABLE, VALUE)
    for actor in (MANAGER, ROOT):
        page = await fds.client.get("/-/secrets", actor=actor)
        fragment = await fds.client.get("/-/secrets/FILED_KEY/row", actor=actor, headers=HX)
        for text in (page.text, fragment.text):
            assert not leaks(text)
        assert "does not hold an absolute path" in value_cell(page)
    with pytest.raises(SecretFileError) as raised:
        await get_secret(fds, "FILED_KEY")
    assert not leaks(str(raised.value)) and raised.value.path is None
    assert str(raised.value) == f"{VARIABLE} {files.NOT_A_PATH}"
