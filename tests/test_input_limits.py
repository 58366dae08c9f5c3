"""Big and hostile input, from 1 byte to Datasette's 2 MB body limit.

Every route of the admin UI (from ``views.ROUTES``, by way of route_helpers),
given any form field or query argument the views read at any of those
sizes, answers within a second with something other than a 5xx, and while it
works an anonymous ``GET /-/versions.json`` is answered too: the in-process
client shares one event loop, so work that blocks the loop shows up as that
small request waiting. The command line's import refuses oversized text at
once, and pending import previews are bounded per actor and in all.
"""

import asyncio
import functools
import itertools
import json
import sqlite3
import time
from urllib.parse import quote_plus

import pytest
from click.testing import CliRunner
from datasette.cli import cli

from datasette_secrets import core, dotenv, get_secret
from datasette_secrets.state import PendingImports
from route_helpers import TEMPLATES, path
from secret_helpers import HX, MANAGER, ROOT, parse, store_value

LIMIT = 1.0  # seconds for any answer, and for the small request made meanwhile
BODY_LIMIT = 2 * 1024 * 1024  # Datasette's max_post_body_bytes: a longer body is a 413
SIZES = [1, 1_000, 64_000, 1_000_000, BODY_LIMIT]  # bytes of a field, encoded as sent
QUERY_SIZES = [1, 1_000, 64_000]  # httpx refuses a URL part over 64 KiB
FORM_FIELDS = ["secret", "note", "multiline", "version", "history", "dotenv", "token", "store"]
QUERY_ARGS = ["q", "status", "page", "_next", "secret", "actor", "action"]
FORM = {"content-type": "application/x-www-form-urlencoded"}

# Text shaped to make a careless parser slow: {description: (start, piece, end)},
# the piece repeated; a function piece gives the nth piece.
SHAPES = {
    "whitespace run": ("A=x", " ", "y"),
    "many entries": ("", lambda n: f"K{n}=v\n", ""),
    "many bad lines": ("", "x\n", ""),
    "unclosed quote": ('A="', "x\n", ""),
}
# Every field gets the whitespace run; the import page's .env field every shape.
IMPORT = "/-/secrets/-/import"


def field_shapes(url):
    extra = [("dotenv", shape) for shape in SHAPES if shape != "whitespace run"] if url == IMPORT else []
    return [(field, "whitespace run") for field in FORM_FIELDS] + extra


@functools.cache
def shaped(shape, size, encode=False):
    """The shape in at most ``size`` characters (URL-encoded, as sent, if
    ``encode``), made once for all the requests that send it."""
    write = quote_plus if encode else str
    start, piece, end = SHAPES[shape]
    start, end = write(start), write(end)
    room = max(size - len(start) - len(end), 0)
    if isinstance(piece, str):
        middle = write(piece) * (room // len(write(piece)))
    else:
        pieces, used = [], 0
        for n in itertools.count():
            one = write(piece(n))
            if used + len(one) > room:
                break
            pieces.append(one)
            used += len(one)
        middle = "".join(pieces)
    return (start + middle + end)[:size]


async def alongside(ds, send):
    """(response, seconds it took, the longest wait of small requests made one
    after another while it worked): ``send()`` makes the big request."""
    began = last = time.perf_counter()
    big = asyncio.ensure_future(send())
    longest = 0.0
    while True:
        await asyncio.sleep(0)  # the big request goes first, then after each small one
        if big.done():
            break
        small = await ds.client.get("/-/versions.json")
        assert small.status_code == 200
        # from the end of the last one: the loop blocked between two counts too
        longest, last = max(longest, time.perf_counter() - last), time.perf_counter()
    response = await big
    return response, time.perf_counter() - began, longest


def judge(case, response, took, small_waited):
    """What went wrong with one request, or None."""
    problems = []
    if response.status_code >= 500:
        problems.append(f"status {response.status_code}")
    if took >= LIMIT:
        problems.append(f"answered after {took:.2f}s")
    if small_waited >= LIMIT:
        problems.append(f"a small request made meanwhile waited {small_waited:.2f}s")
    return f"{case}: {', '.join(problems)}" if problems else None


@pytest.mark.asyncio
@pytest.mark.parametrize("template", TEMPLATES)
async def test_every_form_field_at_every_size_answers_in_time_without_blocking(ds, template):
    await store_value(ds, "API_KEY", "sk-stored-value-0001")
    url = path(template)
    failures = []
    for field, shape in field_shapes(url):
        for number, size in enumerate(SIZES):
            value = shaped(shape, min(size, BODY_LIMIT - len(field) - 1), encode=True)
            body = f"{field}={value}".encode()
            assert len(body) <= BODY_LIMIT
            headers = {**FORM, **(HX if number % 2 else {})}  # fragments and pages both
            if url.endswith("/delete"):  # something to delete each time, not a 404
                await store_value(ds, "API_KEY", f"sk-stored-value-{field}-{number}")

            def send():
                return ds.client.post(url, content=body, headers=headers, actor=ROOT)

            response, took, small_waited = await alongside(ds, send)
            failures.append(judge(f"POST {url} {field}= {shape} of {size:,}", response, took, small_waited))
    assert [failure for failure in failures if failure] == []


@pytest.mark.asyncio
@pytest.mark.parametrize("template", TEMPLATES)
async def test_every_query_argument_at_every_size_answers_in_time_without_blocking(ds, template):
    await store_value(ds, "API_KEY", "sk-stored-value-0001")
    url = path(template)
    failures = []
    for arg in QUERY_ARGS:
        for number, size in enumerate(QUERY_SIZES):
            query = f"{arg}={shaped('whitespace run', size, encode=True)}"
            headers = HX if number % 2 else {}

            def send():
                return ds.client.get(f"{url}?{query}", headers=headers, actor=ROOT)

            response, took, small_waited = await alongside(ds, send)
            failures.append(judge(f"GET {url}?{arg}= of {size:,}", response, took, small_waited))
    assert [failure for failure in failures if failure] == []


@pytest.mark.asyncio
async def test_a_preview_of_the_most_entries_read_answers_in_time_without_blocking(ds):
    text = "".join(f"K{n}=sk-value-{n}\n" for n in range(dotenv.MAX_ENTRIES))

    def send():
        return ds.client.post(IMPORT, data={"dotenv": text}, headers=HX, actor=ROOT)

    response, took, small_waited = await alongside(ds, send)
    assert judge("a preview of MAX_ENTRIES entries", response, took, small_waited) is None
    assert response.status_code == 200
    assert len(parse(response).select("table.secrets-import-table tbody tr")) == dotenv.MAX_ENTRIES


@pytest.mark.asyncio
async def test_a_paste_over_the_limit_is_refused_with_the_limit_on_the_import_page(ds):
    text = "API_KEY=sk-pasted-value-0001\n" + " " * dotenv.MAX_TEXT
    for headers in ({}, HX):
        response = await ds.client.post(
            "/-/secrets/-/import", data={"dotenv": text}, headers=headers, actor=ROOT
        )
        assert response.status_code == 422
        shown = parse(response).select_one("#import-results").get_text(" ", strip=True)
        assert "longer than 262,144 characters (256 KiB), so none of it was read" in shown
        assert "sk-pasted-value-0001" not in response.text
    assert await get_secret(ds, "API_KEY") is None


# The command line


@pytest.fixture
def cli_options(tmp_path, key, example_plugin):
    internal = tmp_path / "internal.db"
    sqlite3.connect(internal).close()
    config = tmp_path / "datasette.json"
    config.write_text(json.dumps({"plugins": {"datasette-secrets": {"encryption_key": key}}}))
    return ["--internal", str(internal), "-c", str(config)]


def import_file(tmp_path, cli_options, text):
    env = tmp_path / "big.env"
    env.write_text(text, encoding="utf-8")
    began = time.perf_counter()
    result = CliRunner().invoke(cli, ["secrets", "import", str(env), *cli_options])
    return result, time.perf_counter() - began


def refused(text):
    try:
        dotenv.parse(text)
    except dotenv.DotenvError:
        return True
    return False


def test_the_cli_import_reads_any_size_quickly_and_refuses_over_the_limit(tmp_path, cli_options):
    _, startup = import_file(tmp_path, cli_options, "A")  # a bad one-byte file: the command's own cost
    for size in SIZES:
        for shape in SHAPES:
            text = shaped(shape, size)
            result, took = import_file(tmp_path, cli_options, text)
            assert took < startup + LIMIT, (shape, size, took)
            assert "Traceback" not in result.output, (shape, size)
            if size > dotenv.MAX_TEXT:
                assert result.exit_code == 1, (shape, size)
                assert "longer than 262,144 characters (256 KiB), so none of it was read" in result.output
            else:  # nothing here is registered: a file read whole is reported, and stores nothing
                assert result.exit_code == (1 if refused(text) else 0), (shape, size)
    result = CliRunner().invoke(
        cli,
        ["secrets", "import", "-", *cli_options],
        input="API_KEY=sk-piped-value-0001\n" + " " * 2_000_000,
    )
    assert result.exit_code == 1
    assert "standard input is not a .env file this can read, so nothing was stored" in result.output
    assert "longer than 262,144 characters (256 KiB)" in result.output
    assert "sk-piped-value-0001" not in result.output


# Pending import previews


TEXT = "API_KEY=sk-imported-value-0001\n"


async def preview(ds, actor, text=TEXT):
    response = await ds.client.post("/-/secrets/-/import", data={"dotenv": text}, headers=HX, actor=actor)
    assert response.status_code == 200, response.text
    return parse(response).select_one("input[name=token]")["value"]


async def confirm(ds, token, actor):
    return await ds.client.post(
        "/-/secrets/-/import/confirm",
        content=f"token={token}&store=API_KEY",
        headers={**FORM, **HX},
        actor=actor,
    )


@pytest.mark.asyncio
async def test_an_actor_keeps_at_most_three_previews_and_cannot_push_out_another_actors(ds):
    theirs = await preview(ds, MANAGER)
    mine = [await preview(ds, ROOT) for _ in range(PendingImports.MAX_COUNT + 5)]
    for token in mine[: -PendingImports.PER_ACTOR]:
        answer = await confirm(ds, token, ROOT)
        assert answer.status_code == 409 and "paste the .env text again" in answer.text
    for token in mine[-PendingImports.PER_ACTOR :]:
        assert (await confirm(ds, token, ROOT)).status_code == 200
    assert (await confirm(ds, theirs, MANAGER)).status_code == 200
    assert await get_secret(ds, "API_KEY") == "sk-imported-value-0001"


@pytest.mark.asyncio
async def test_previews_in_all_are_bounded_in_number_and_in_bytes_oldest_first(ds):
    imports = (await core.ready(ds)).imports
    count = PendingImports.MAX_COUNT + 5
    tokens = [imports.add(f"actor-{n}", TEXT) for n in range(count)]
    kept = [n for n, token in enumerate(tokens) if imports.take(token, f"actor-{n}") == TEXT]
    assert kept == list(range(5, count))

    # 4-byte characters, each text just under 1 MiB: 16 fit in MAX_BYTES (16 MiB)
    big = "A='" + "\U0001f511" * (dotenv.MAX_TEXT - 100) + "'"
    tokens = [imports.add(f"actor-{n}", big) for n in range(20)]
    kept = [n for n, token in enumerate(tokens) if imports.take(token, f"actor-{n}") is not None]
    assert kept == list(range(4, 20))
