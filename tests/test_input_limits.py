"""Big and hostile input, at each limit and one over it.

Every route of the admin UI (from ``views.ROUTES``, by way of route_helpers),
given any form field or query argument the views read, answers with
something other than a 5xx: each field at its own stated limit (a value, a
note, .env text) and one character over it, and each filling Datasette's 2 MB
body limit, and one byte over that. No figure of time is asserted (the
machine may be busy): work at the limit takes less than ``LINEAR`` times the
work at a quarter of it (linear time, as a ratio of CPU times), and while
pasted .env text is read the event loop gets turns (a concurrent counter
moves). The command line's import reads at most the limit however big the
file, and pending import previews are bounded per actor and in all.
"""

import asyncio
import functools
import itertools
import json
import sqlite3
import sys
import time
from urllib.parse import quote_plus

import pytest
from click.testing import CliRunner
from datasette.cli import cli

from datasette_secrets import core, dotenv, get_secret
from datasette_secrets.state import PendingImports
from route_helpers import TEMPLATES, path
from secret_helpers import HX, LINEAR, MANAGER, ROOT, cpu_of, growth_of, parse, store_value

BODY_LIMIT = 2 * 1024 * 1024  # Datasette's max_post_body_bytes: a longer body is a 413
QUERY_LIMIT = 64_000  # httpx refuses a URL part over 64 KiB
FORM_FIELDS = ["secret", "note", "multiline", "version", "history", "dotenv", "token", "store"]
# The fields with a limit of their own, in characters (README: Limits).
FIELD_LIMITS = {"secret": core.MAX_VALUE_LENGTH, "note": core.MAX_NOTE_LENGTH, "dotenv": dotenv.MAX_TEXT}
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


def body_of(field, shape, size):
    """A urlencoded body of ``size`` bytes, all of it one field in ``shape``."""
    return f"{field}={shaped(shape, size - len(field) - 1, encode=True)}".encode()


class Judge:
    """What went wrong across one route's requests."""

    def __init__(self):
        self.failures = []

    def status(self, case, response):
        if response.status_code >= 500:
            self.failures.append(f"{case}: status {response.status_code}")

    def growth(self, case, ratio):
        if ratio >= LINEAR:
            self.failures.append(f"{case}: at the limit it took {ratio:.1f} times as long as at a quarter of it")


@pytest.mark.asyncio
@pytest.mark.parametrize("template", TEMPLATES)
async def test_every_form_field_at_its_limit_and_over_it_is_answered_in_linear_time(ds, template):
    await store_value(ds, "API_KEY", "sk-stored-value-0001")
    url = path(template)
    judge = Judge()

    async def post(body, headers):
        if url.endswith("/delete"):  # something to delete each time, not a 404
            await store_value(ds, "API_KEY", "sk-stored-value-0002")
        return await cpu_of(lambda: ds.client.post(url, content=body, headers={**FORM, **headers}, actor=ROOT))

    for number, (field, shape) in enumerate(field_shapes(url)):
        headers = HX if number % 2 else {}  # fragments and pages both
        case = f"POST {url} {field}= {shape} htmx={bool(headers)}"

        async def measure(size):
            response, took = await post(body_of(field, shape, size), headers)
            judge.status(f"{case} of {size:,} bytes", response)
            return took

        judge.growth(case, await growth_of(measure, BODY_LIMIT // 4, BODY_LIMIT))
    for field, limit in FIELD_LIMITS.items():  # its own limit, then one character over
        for headers, size in (({}, limit), (HX, limit + 1)):
            body = f"{field}={quote_plus(shaped('whitespace run', size))}".encode()
            response, _ = await post(body, headers)
            judge.status(f"POST {url} {field}= of {size:,} characters htmx={bool(headers)}", response)
    over = body_of("secret", "whitespace run", BODY_LIMIT + 1)
    judge.status(f"POST {url} a body of {len(over):,} bytes", (await post(over, {}))[0])
    assert judge.failures == []


@pytest.mark.asyncio
@pytest.mark.parametrize("template", TEMPLATES)
async def test_every_query_argument_at_its_limit_is_answered_in_linear_time(ds, template):
    await store_value(ds, "API_KEY", "sk-stored-value-0001")
    url = path(template)
    judge = Judge()
    for number, arg in enumerate(QUERY_ARGS):
        headers = HX if number % 2 else {}
        case = f"GET {url}?{arg}= htmx={bool(headers)}"

        async def measure(size):
            query = f"{arg}={shaped('whitespace run', size, encode=True)}"
            response, took = await cpu_of(lambda: ds.client.get(f"{url}?{query}", headers=headers, actor=ROOT))
            judge.status(f"{case} of {size:,}", response)
            return took

        judge.growth(case, await growth_of(measure, QUERY_LIMIT // 4, QUERY_LIMIT))
    assert judge.failures == []


def entries(count):
    return "".join(f"K{n}=sk-value-{n}\n" for n in range(count))


@pytest.mark.asyncio
async def test_a_preview_of_the_most_entries_read_grows_linearly(ds):
    """A preview of MAX_ENTRIES entries, against one of a quarter as many."""
    responses = {}

    async def measure(count):
        responses[count], took = await cpu_of(
            lambda: ds.client.post(IMPORT, data={"dotenv": entries(count)}, headers=HX, actor=ROOT)
        )
        return took

    assert await growth_of(measure, dotenv.MAX_ENTRIES // 4, dotenv.MAX_ENTRIES) < LINEAR
    response = responses[dotenv.MAX_ENTRIES]
    assert response.status_code == 200
    assert len(parse(response).select("table.secrets-import-table tbody tr")) == dotenv.MAX_ENTRIES


RUN_TURN_WAIT = 10.0  # seconds a parse in a thread waits for the loop to turn once


@pytest.mark.asyncio
@pytest.mark.parametrize("url", [IMPORT, IMPORT + "/confirm"])
async def test_the_event_loop_gets_turns_while_pasted_text_is_read(ds, monkeypatch, url):
    """.env text is read in a thread: a counter that moves once a turn, run
    alongside, moves while the text (as long as may be read) is parsed."""
    turns = 0
    seen = {}
    read = dotenv.parse

    async def count_turns():
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    def parse_counted(text):
        seen["before"] = turns
        try:
            return read(text)
        finally:
            # In a thread, the loop takes its turns while this one waits for it; on the
            # loop's own thread nothing can turn it, and after RUN_TURN_WAIT it goes on
            # unturned. (A bound for the failing case only: no time is asserted, and a
            # busy machine that is slow to schedule the loop cannot fail the test.)
            waited = 0.0
            while turns == seen["before"] and waited < RUN_TURN_WAIT:
                time.sleep(0.001)
                waited += 0.001
            seen["after"] = turns

    text = shaped("many bad lines", dotenv.MAX_TEXT)
    form = {"dotenv": text}
    if url.endswith("/confirm"):  # a preview of a text that reads, as long as may be read
        text = "# a comment\n" * ((dotenv.MAX_TEXT - 20) // 12) + "API_KEY=sk-value-1\n"
        response = await ds.client.post(IMPORT, data={"dotenv": text}, headers=HX, actor=ROOT)
        form = {"token": parse(response).select_one("input[name=token]")["value"], "store": "API_KEY"}
    monkeypatch.setattr(dotenv, "parse", parse_counted)
    counter = asyncio.ensure_future(count_turns())
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0001)  # threads take turns often: a parse in a thread lets the loop in many times
    try:
        response = await ds.client.post(url, data=form, headers=HX, actor=ROOT)
    finally:
        sys.setswitchinterval(interval)
        counter.cancel()
    assert response.status_code < 500
    assert seen["after"] > seen["before"], "the event loop waited for the whole text to be read"


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


def refused(text):
    try:
        dotenv.parse(text)
    except dotenv.DotenvError:
        return True
    return False


def test_the_cli_import_reads_at_most_the_limit_and_refuses_over_it(tmp_path, cli_options, monkeypatch):
    """At the limit, one over it, and a file as big as a request body: the
    command reads no more than one character past the limit (a step budget: the
    parser is handed at most that), so any size is answered as quickly."""
    read = dotenv.parse
    handed = []
    monkeypatch.setattr(dotenv, "parse", lambda text: handed.append(len(text)) or read(text))
    env = tmp_path / "big.env"
    cases = [(shape, size) for size in (dotenv.MAX_TEXT, dotenv.MAX_TEXT + 1) for shape in SHAPES]
    for shape, size in cases + [("whitespace run", BODY_LIMIT)]:
        text = shaped(shape, size)
        text += "\n" * (size - len(text))  # exactly ``size``: blank lines after the shape
        env.write_text(text, encoding="utf-8")
        handed.clear()
        result = CliRunner().invoke(cli, ["secrets", "import", str(env), *cli_options])
        assert handed and max(handed) <= dotenv.MAX_TEXT + 1, (shape, size)
        assert "Traceback" not in result.output, (shape, size)
        if size > dotenv.MAX_TEXT:
            assert result.exit_code == 1, (shape, size)
            assert "longer than 262,144 characters (256 KiB), so none of it was read" in result.output
        else:  # nothing here is registered: a file read whole is reported, and stores nothing
            assert result.exit_code == (1 if refused(text) else 0), (shape, size)
    handed.clear()
    result = CliRunner().invoke(
        cli,
        ["secrets", "import", "-", *cli_options],
        input="API_KEY=sk-piped-value-0001\n" + " " * 2_000_000,
    )
    assert handed and max(handed) <= dotenv.MAX_TEXT + 1
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
