"""The trust property: whoever may not learn about values learns nothing of one.

For generated values (quotes, backslashes, line breaks, tabs, non-ASCII), no
response to an actor without reveal — a manager without reveal-secrets, an
anonymous visitor, an actor with no permission, and root in write-only mode
(``reveal: false``) — holds any run of ``RUN`` characters of a stored or
environment value, or of its escaped renderings (repr, ascii, JSON, the command
line's printable form). Looked at: every route of ``views.ROUTES`` by GET and
POST, with and without ``HX-Request``, the pages redirects lead to, every
header and every cookie (signed cookies decoded), the audit table's rows, and
the command line's ``list``, ``list --json``, ``history`` and ``import``.

A value may share six characters with a page by chance ("secret", say): a
baseline round with fixed placeholder values collects what the pages say
anyway, and values sharing a run with it are not drawn (``assume``).
"""

import asyncio
import html
import json
import os
import tempfile
from pathlib import Path
from urllib.parse import unquote

import httpx2
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from itsdangerous import URLSafeSerializer

from datasette_secrets import Secret, core
from cli_helpers import query, run
from route_helpers import TEMPLATES, has_name, path
from secret_helpers import (
    HX,
    MANAGER,
    OTHER,
    ROOT,
    audit_rows,
    new_database,
    parse,
    secrets_plugin,
    store_value,
    write_config,
)

# Reads a signed cookie's payload without its secret (a payload is not encrypted).
UNSIGNED = URLSafeSerializer("any secret")
RUN = 6  # characters in a row that count as learning part of a value
async def echo_check(datasette, value):
    """A careless plugin: its message quotes the value in every usual form."""
    return False, (
        f"repr {value!r} bytes {value.encode()!r} json {json.dumps(value)} "
        f"raw-json {json.dumps(value, ensure_ascii=False)} ascii {ascii(value)} "
        f"tail {value[-8:]} head {value[:-8]} whole {value}"
    )


async def raising_check(datasette, value):
    """A check that fails with an exception quoting the value."""
    raise ValueError(f"the service rejected {value!r} ({value.encode()!r}): {value}")


NAMES = ["ECHO_KEY", "RAISE_KEY", "ENV_KEY", "PLAIN_KEY"]
PLUGIN_SECRETS = [
    Secret("ECHO_KEY", "checked by echoing it", check=echo_check),
    Secret("RAISE_KEY", "checked by raising", check=raising_check),
    Secret("ENV_KEY", "set from the environment", check=echo_check),
    Secret("PLAIN_KEY", "no check"),
]
ENV_VAR = "DATASETTE_SECRETS_ENV_KEY"

# Pieces of a value: the characters escaping gets wrong, and any character UTF-8
# carries but lone surrogates (which cannot be sent) and control characters other
# than tab and line breaks (test_fuzz sends those).
PIECES = st.one_of(
    st.sampled_from(
        ["'", '"', "\\", "\n", "\r\n", "\t", " ", "é", "ß", "☃", "🔑", "😀", "\\n", "\\'", '\\"']
    ),
    st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
    st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", min_size=1, max_size=8),
)
VALUES = (
    st.lists(PIECES, min_size=4, max_size=80)
    .map("".join)
    .filter(lambda value: len(value) <= 200 and len(core.clean_value(value)) >= 8)
)
# (ECHO_KEY version 1, ECHO_KEY version 2, RAISE_KEY, ENV_KEY's variable, what intruders POST)
VALUE_SETS = st.tuples(VALUES, VALUES, VALUES, VALUES, VALUES)
PLACEHOLDERS = (
    'Placeholder-one "quoted"',
    "Placeholder-two\\back",
    "Placeholder-three\nsecond line",
    "Placeholder-four-é-☃",
    "Placeholder-five\ttab",
)


def _quoted(escape, quote):
    """One character as a Python string literal delimited by ``quote`` shows it."""
    return lambda ch: "\\" + ch if ch == quote else escape(ch)[1:-1]


def renderers(value):
    """Ways a response or a terminal could show each character of ``value``:
    as it is, as repr/ascii show it (with the quotes repr picks for the whole
    value), in a JSON string (ASCII or not), and as the command line prints it."""
    quote = '"' if "'" in value and '"' not in value else "'"
    return [
        lambda ch: ch,
        _quoted(repr, quote),
        _quoted(ascii, quote),
        lambda ch: json.dumps(ch)[1:-1],
        lambda ch: json.dumps(ch, ensure_ascii=False)[1:-1],
        lambda ch: ch if ch.isprintable() or ch == "\n" else ch.encode("unicode_escape").decode(),
    ]


def runs(value):
    """Every RUN characters in a row of ``value``, in each rendering: what, found in
    any output, means RUN characters of the value were learned."""
    found = set()
    for render in renderers(value):
        shown = [render(ch) for ch in value]
        found.update("".join(shown[i : i + RUN]) for i in range(len(value) - RUN + 1))
    return found


def secret_values(values):
    """What must never be learned: stored values as stored, the variable as given."""
    first, second, raising, env, posted = values
    return [core.clean_value(value) for value in (first, second, raising, posted)] + [env]


def quoted_dotenv(pairs):
    """A .env text that reads back exactly as ``pairs`` (double quotes, escaped)."""
    table = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})
    return "".join(f'{name}="{value.translate(table)}"\n' for name, value in pairs)


def raw_dotenv(pairs):
    """The values pasted as they are, unquoted: some lines are bad, and no error may quote one."""
    return "".join(f"{name}={value}\n" for name, value in pairs)


class Seen:
    """Everything an actor was shown, each piece labelled with where it came from."""

    def __init__(self):
        self.pieces = {}  # text -> where it was seen first (most pages are seen many times)

    def add(self, where, text):
        text = str(text)
        self.pieces.setdefault(text, where)
        self.pieces.setdefault(unquote(html.unescape(text)), where + " (unescaped)")

    def response(self, where, response):
        self.add(where, response.text)
        if response.headers.get("content-type", "").startswith("application/json"):
            try:
                decoded = response.json()
            except ValueError:
                decoded = None
            self.add(where + " (json)", json.dumps(decoded, ensure_ascii=False))
        self.add(where + " (headers)", "\n".join(f"{k}: {v}" for k, v in response.headers.multi_items()))
        for name, value in response.cookies.items():
            self.add_cookie(f"{where} (cookie {name})", value)

    def add_cookie(self, where, value):
        """A cookie as sent, and its signed payload decoded: signing hides nothing."""
        self.add(where, value)
        _, payload = UNSIGNED.loads_unsafe(value)
        if payload is not None:
            self.add(where + " decoded", json.dumps(payload, ensure_ascii=False))

    def leaks(self, values):
        """(where, value, piece) for each value with a run of it (in any rendering) seen."""
        # Every rendered run is at least RUN characters long: index them by their start.
        by_start = {}
        for value in values:
            for piece in runs(value):
                by_start.setdefault(piece[:RUN], []).append((value, piece))
        found, reported = [], set()
        for text, where in self.pieces.items():
            for i in range(len(text) - RUN + 1):
                for value, piece in by_start.get(text[i : i + RUN], ()):
                    if (where, value) not in reported and text.startswith(piece, i):
                        reported.add((where, value))
                        found.append((where, value, piece))
        return found

    def baseline(self):
        """(all that was seen as one string, the set of its RUN-character pieces)."""
        grams = {text[i : i + RUN] for text in self.pieces for i in range(len(text) - RUN + 1)}
        return "\0".join(self.pieces), grams  # NUL never occurs in a value


def forms_for(route_template, name, values, token):
    """The POST bodies an intruder would try on a route: a new value, a restore,
    .env text holding every value (the stored ones too: an equality oracle), a confirm."""
    first, second, raising, env, posted = values
    pairs = list(zip(NAMES, (second, raising, env, posted))) + [("ECHO_KEY_OLD", first)]
    if route_template == "/-/secrets/-/import":
        return [{"dotenv": quoted_dotenv(pairs)}, {"dotenv": raw_dotenv(pairs)}]
    if route_template == "/-/secrets/-/import/confirm":
        return [{"token": token or "no-preview", "store": NAMES}]
    return [{"secret": posted, "note": "n", "version": "1"}]


class Client:
    """Requests as datasette.client makes them, to one ASGI app: datasette.client
    builds the app afresh for each request, which would be most of this file's time."""

    def __init__(self, datasette):
        self.datasette = datasette
        self.app = datasette.app()

    async def request(self, method, path, actor=None, cookies=None, **kwargs):
        cookies = dict(cookies or {})
        if actor is not None:
            cookies["ds_actor"] = self.datasette.client.actor_cookie(actor)
        transport = httpx2.ASGITransport(app=self.app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://localhost", cookies=cookies) as client:
            return await client.request(method, path, **kwargs)


async def follow(client, seen, where, response, actor):
    """A redirect followed as a browser would, with the cookies it set."""
    if response.status_code != 302:
        return
    cookies = {name: value for name, value in response.cookies.items() if value}
    page = await client.request("GET", response.headers["location"], actor=actor, cookies=cookies)
    seen.response(where + " -> " + response.headers["location"], page)


# Delete last: reveal, copy and Test must find a value there to refuse.
IN_ORDER = sorted(TEMPLATES, key=lambda route_template: route_template.endswith("/delete"))


async def every_route(ds, seen, actor, values, names=NAMES):
    """Every route, for each of ``names``, by GET and POST, with and without htmx."""
    client = Client(ds)
    token = None
    label = (actor or {}).get("id", "anonymous")
    for route_template in IN_ORDER:
        for name in names if has_name(route_template) else [None]:
            url = path(route_template, name) if name else route_template
            for headers in ({}, HX):
                requests = [("GET", url + "?version=1", None)] + [
                    ("POST", url, form) for form in forms_for(route_template, name, values, token)
                ]
                for method, target, form in requests:
                    response = await client.request(method, target, actor=actor, headers=headers, data=form)
                    where = f"{label}: {method} {target} htmx={bool(headers)} -> {response.status_code}"
                    assert response.status_code < 500, where
                    seen.response(where, response)
                    await follow(client, seen, where, response, actor)
                    if route_template == "/-/secrets/-/import" and method == "POST":
                        found = parse(response).select_one("input[name=token]")
                        token = found["value"] if found else token
                        text = parse(response).get_text(" ", strip=True)
                        assert "Unchanged" not in text, f"{where}: the preview compared values"
    seen.response(f"{label}: audit.json", await client.request("GET", "/-/secrets/-/audit.json", actor=actor))


async def audit_table(ds, seen, where):
    for row in await audit_rows(ds):
        seen.add(f"{where}: audit row {row['action']} {row['name']}", row["detail"] or "")


def with_environment(value):
    """Set ENV_KEY's variable; returns the function that restores the environment."""
    before = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = value

    def restore():
        if before is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = before

    return restore


def sites(make_datasette):
    """The two sites a round looks at, made once for all of a test's examples
    (each example stores its values as new versions). Reveal is on in the first:
    root stores, tests, reveals and compares, so the audit log and histories the
    others read hold all of that. The second is write-only (``reveal: false``):
    root may store, and learns nothing either. Root's Tests are not rate limited
    here: every example's must run."""
    unlimited = {"reveals_per_minute": 1_000_000}
    return make_datasette(settings=unlimited), make_datasette(settings={"reveal": False, **unlimited})


async def web_round(sites, values):
    """Everything the actors without reveal were shown for one set of values, and the
    results of root's Tests (scrubbed for everyone, root included)."""
    first, second, raising, env, posted = values
    ds, write_only = sites
    restore_environment = with_environment(env)
    try:
        seen = Seen()
        await store_value(ds, "ECHO_KEY", first, note="first")
        await store_value(ds, "ECHO_KEY", second)
        await store_value(ds, "RAISE_KEY", raising)
        for name in ("ECHO_KEY", "RAISE_KEY", "ENV_KEY"):
            for headers in ({}, HX):
                response = await ds.client.post(f"/-/secrets/{name}/test", actor=ROOT, headers=headers)
                assert response.status_code == 200, response.text
                # A Test's result is scrubbed even for root, who may learn the value.
                where = f"root: Test {name} htmx={bool(headers)}"
                seen.add(where, response.text)
                for cookie, value in response.cookies.items():
                    seen.add_cookie(f"{where} (cookie {cookie})", value)
        pairs = [("ECHO_KEY", second), ("RAISE_KEY", raising)]
        await ds.client.post("/-/secrets/-/import", data={"dotenv": quoted_dotenv(pairs)}, actor=ROOT, headers=HX)
        await ds.client.post("/-/secrets/ECHO_KEY/reveal", actor=ROOT, headers=HX)
        await every_route(ds, seen, MANAGER, values)
        for actor in (None, OTHER):
            # Refused before a name is even read: one name (with a value and a check) will do.
            await every_route(ds, seen, actor, values, names=["ECHO_KEY"])
        await audit_table(ds, seen, "reveal site")

        await store_value(write_only, "ECHO_KEY", first, note="first")
        await store_value(write_only, "ECHO_KEY", second)
        await store_value(write_only, "RAISE_KEY", raising)
        await every_route(write_only, seen, ROOT, values)
        await audit_table(write_only, seen, "write-only site")
        return seen
    finally:
        restore_environment()


BASELINES = {}  # kind -> Seen.baseline() of a round with the placeholder values


def assume_no_chance_overlap(kind, compute, values):
    """Only values that share no run with what the pages say anyway."""
    if kind not in BASELINES:
        BASELINES[kind] = compute(PLACEHOLDERS).baseline()
    said, grams = BASELINES[kind]
    for value in secret_values(values):
        assume(not any(piece[:RUN] in grams and piece in said for piece in runs(value)))


@pytest.fixture
def registered(register_plugin):
    return register_plugin(secrets_plugin(*PLUGIN_SECRETS), "no-leak-plugin")


def test_no_response_to_an_actor_without_reveal_holds_part_of_a_value(registered, make_datasette):
    with asyncio.Runner() as runner:
        both = sites(make_datasette)
        compute = lambda values: runner.run(web_round(both, values))  # noqa: E731

        @given(values=VALUE_SETS)
        def check(values):
            assume_no_chance_overlap("web", compute, values)
            leaks = compute(values).leaks(secret_values(values))
            assert not leaks, "\n".join(f"{where}: {run!r} of {value!r}" for where, value, run in leaks[:10])

        check()


def command_line_round(key, values):
    """The output of list, list --json, history and import, in write-only mode."""
    first, second, raising, env, posted = values
    restore_environment = with_environment(env)
    with tempfile.TemporaryDirectory() as folder:
        try:
            internal = new_database(os.path.join(folder, "internal.db"))
            config = write_config(Path(folder), {"encryption_key": key, "reveal": False})
            options = ["--internal", internal, "-c", config]
            seen = Seen()
            for name, value in (("ECHO_KEY", first), ("ECHO_KEY", second), ("RAISE_KEY", raising)):
                result = run("set", name, *options, input=value)
                assert result.exit_code == 0, result.output
                seen.add(f"set {name}", result.output)
            env_file = os.path.join(folder, "stored.env")
            pairs = [("ECHO_KEY", second), ("RAISE_KEY", raising), ("ENV_KEY", env), ("PLAIN_KEY", posted)]
            Path(env_file).write_text(quoted_dotenv(pairs), encoding="utf-8")
            commands = [["list"], ["list", "--json"]] + [["history", name] for name in NAMES]
            commands += [["import", env_file, "--dry-run"], ["import", env_file]]
            for command in commands:
                result = run(*command, *options)
                where = "datasette secrets " + " ".join(command)
                assert result.exit_code == 0, f"{where}: {result.output}"
                seen.add(where, result.output)
                if command[0] == "import":
                    assert "unchanged" not in result.output, f"{where} compared values in write-only mode"
            for row in query(internal, "select action, detail from datasette_secrets_audit"):
                seen.add(f"audit row {row['action']}", row["detail"] or "")
            return seen
        finally:
            restore_environment()


@given(values=VALUE_SETS)
def test_the_command_line_in_write_only_mode_prints_no_part_of_a_value(values, registered, key):
    compute = lambda values: command_line_round(key, values)  # noqa: E731
    assume_no_chance_overlap("command line", compute, values)
    leaks = compute(values).leaks(secret_values(values))
    assert not leaks, "\n".join(f"{where}: {run!r} of {value!r}" for where, value, run in leaks[:10])
