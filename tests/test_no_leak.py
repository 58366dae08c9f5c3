"""The trust property: whoever may not learn about a value learns nothing of it.

Values come from every source: stored (two versions of one secret, and one
whose check raises), an environment variable, a ``DATASETTE_SECRETS_<NAME>_FILE``
variable holding a value instead of a path (an easy mistake), an actor's own
value of a personal secret, and what intruders post. Checks are careless: their
messages quote the value in the usual forms (repr, bytes, JSON, ASCII) and in
forms a scrubber need not know: URL-encoded as httpx's ``params`` would, reversed,
base32, in 5-character chunks split by dashes or line breaks, as Basic auth's
base64, as spaced hex.

Who may learn what:

- nobody learns anything of any value from a cookie (signed cookies decoded),
  the audit table, a log line, the command line (``list``, ``list --json``,
  ``history``), or any page or fragment got by GET, root's and the owner's
  included: the audit page, ``audit.json`` and History after Tests among them;
- a manager without reveal-secrets, an anonymous visitor, an actor with no
  permission, and root in write-only mode (``reveal: false``) learn nothing
  from any route, by GET or POST, with or without ``HX-Request``, nor from the
  pages redirects lead to;
- root may learn the shared stored values (Reveal, Test), never a variable's,
  a file variable's, or an actor's own value;
- the owner may learn her own value from her Test, and nothing else;
- bob, granted manage-secrets and reveal-secrets on RAISE_KEY alone (the
  plugin's ``secrets:`` block), may learn RAISE_KEY's values (and what he
  posts to it) from every route, by GET or POST, and nothing else: no other
  value, and no response to him names ECHO_KEY, ENV_KEY, FILE_KEY or
  PLAIN_KEY; carol, granted reveal-secrets on it without manage-secrets,
  learns nothing.

"Learn" is any run of ``RUN`` characters of a value in any rendering above (the
escaped ones and the command line's printable form too). A value may share six
characters with a page by chance ("secret", say): a baseline round with fixed
placeholder values collects what the pages say anyway, and values sharing a
run with it are not drawn (``assume``).
"""

import asyncio
import base64
import html
import json
import logging
import os
import tempfile
from collections import namedtuple
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote_plus, unquote

import httpx2
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from itsdangerous import URLSafeSerializer

from datasette_secrets import Secret, SecretFileError, core, files, get_secret
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
OWNER = {"id": "olive"}  # keeps her own value of OWN_KEY; may do nothing else
BOB = {"id": "bob"}  # manages and reveals RAISE_KEY alone
CAROL = {"id": "carol"}  # reveal-secrets on RAISE_KEY without manage-secrets: nothing
SCOPED = {"RAISE_KEY": {"permissions": {"manage-secrets": BOB, "reveal-secrets": {"id": ["bob", "carol"]}}}}
NOT_BOBS = ("ECHO_KEY", "ENV_KEY", "FILE_KEY", "PLAIN_KEY")  # names bob is never shown (OWN_KEY is personal)


def url_encoded(value):
    """The value as httpx sends it in ``params`` (what a raise_for_status() message quotes)."""
    return str(httpx2.QueryParams({"k": value}))[2:]


def chunked(value, separator):
    return separator.join(value[i : i + 5] for i in range(0, len(value), 5))


def basic_auth(value):
    return base64.b64encode(f"user:{value}".encode()).decode()


def spaced_hex(value):
    return " ".join(f"{byte:02x}" for byte in value.encode())


def base32(value):
    return base64.b32encode(value.encode()).decode()


async def careless_check(datasette, value):
    """A careless plugin: its message quotes the value in every form above, each
    cut short, so all of them fit the 300 characters a message keeps."""
    forms = {
        "repr": repr(value),
        "bytes": repr(value.encode()),
        "json": json.dumps(value),
        "raw": value,
        "url": url_encoded(value),
        "reversed": value[::-1],
        "b32": base32(value),
        "dashes": chunked(value, "-"),
        "lines": chunked(value, "\n"),
        "basic": basic_auth(value),
        "hex": spaced_hex(value),
    }
    cut = {label: form[:24] for label, form in forms.items()}
    cut["url"] = f"GET /v1/models?api_key={cut['url']}"  # as httpx's raise_for_status() says it
    cut["basic"] = f"Authorization: Basic {cut['basic']}"
    return False, " ".join(f"{label} {form}" for label, form in cut.items())


async def raising_check(datasette, value):
    """A check that fails with an exception quoting the value."""
    raise ValueError(f"the service rejected {value!r} ({value.encode()!r}): {value}")


NAMES = ["ECHO_KEY", "RAISE_KEY", "ENV_KEY", "FILE_KEY", "OWN_KEY", "PLAIN_KEY"]
PLUGIN_SECRETS = [
    Secret("ECHO_KEY", "checked carelessly", check=careless_check),
    Secret("RAISE_KEY", "checked by raising", check=raising_check),
    Secret("ENV_KEY", "set from the environment", check=careless_check),
    Secret("FILE_KEY", "its _FILE variable holds the value, not a path", check=careless_check),
    Secret("OWN_KEY", "each actor's own", personal=True, check=careless_check),
    Secret("PLAIN_KEY", "no check"),
]
ENV_VAR = "DATASETTE_SECRETS_ENV_KEY"
FILE_VAR = files.file_variable("FILE_KEY")

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
Values = namedtuple("Values", "first second raising env file own posted")
VALUE_SETS = st.builds(
    Values,
    first=VALUES,
    second=VALUES,
    raising=VALUES,
    env=VALUES,
    file=VALUES.filter(lambda value: not os.path.isabs(value)),  # an absolute path is a path, not a value
    own=VALUES,
    posted=VALUES,
)
PLACEHOLDERS = Values(
    'Placeholder-one "quoted"',
    "Placeholder-two\\back",
    "Placeholder-three\nsecond line",
    "Placeholder-four-é-☃",
    "Placeholder-five-not-a-path",
    "Placeholder-six-own\ttab",
    "Placeholder-seven-posted",
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


def encodings(value):
    """The value as careless_check writes it, one piece per character of the
    value (a character with what the encoding puts after it), so that any RUN
    pieces in a row are RUN characters of the value."""
    last = len(value) - 1
    return [
        list(value),
        [quote_plus(ch) for ch in value],
        list(value[::-1]),
        [ch + ("-" if i % 5 == 4 and i < last else "") for i, ch in enumerate(value)],
        [ch + ("\n" if i % 5 == 4 and i < last else "") for i, ch in enumerate(value)],
        [" ".join(f"{byte:02x}" for byte in ch.encode()) + (" " if i < last else "") for i, ch in enumerate(value)],
    ]


# Base32 and base64 encode groups of bytes, not characters: a run is this many
# characters of the encoded text (over 6 bytes' worth), the constant "user:"
# of Basic auth and the padding left out.
BASE32_RUN, BASE64_RUN = 10, 8


def runs(value):
    """What, found in any output, means RUN characters of ``value`` were learned:
    every RUN characters in a row, in each encoding and each rendering of it, and
    the base32 and Basic-auth base64 texts' runs."""
    assert "".join(encodings(value)[1]) == url_encoded(value), "httpx encodes params as quote_plus does"
    found = set()
    for pieces in encodings(value):
        for render in renderers(value):
            shown = ["".join(render(ch) for ch in piece) for piece in pieces]
            found.update("".join(shown[i : i + RUN]) for i in range(len(shown) - RUN + 1))
    for text, size in ((base32(value).rstrip("="), BASE32_RUN), (basic_auth(value).rstrip("=")[8:], BASE64_RUN)):
        found.update(text[i : i + size] for i in range(len(text) - size + 1))
    return found


def stored(value):
    return core.clean_value(value)


def forbidden(values, audience):
    """The values ``audience`` may learn nothing of: nobody may learn any; root
    may learn the shared stored values; the owner only her own."""
    every = {
        "first": stored(values.first),
        "second": stored(values.second),
        "raising": stored(values.raising),
        "env": values.env,  # a variable's value, as given
        "file": values.file,
        "own": stored(values.own),
        "posted": stored(values.posted),  # what the intruders' forms store
    }
    allowed = {
        "nobody": (),
        "root": ("first", "second", "raising", "posted"),
        "owner": ("own",),
        "bob": ("raising", "posted"),  # RAISE_KEY's, and what he posts to it
    }[audience]
    return [value for key, value in every.items() if key not in allowed]


def quoted_dotenv(pairs):
    """A .env text that reads back exactly as ``pairs`` (double quotes, escaped)."""
    table = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})
    return "".join(f'{name}="{value.translate(table)}"\n' for name, value in pairs)


def raw_dotenv(pairs):
    """The values pasted as they are, unquoted: some lines are bad, and no error may quote one."""
    return "".join(f"{name}={value}\n" for name, value in pairs)


class Seen:
    """Everything one audience was shown, each piece labelled with where it came from."""

    def __init__(self):
        self.pieces = {}  # text -> where it was seen first (most pages are seen many times)

    def add(self, where, text):
        text = str(text)
        self.pieces.setdefault(text, where)
        self.pieces.setdefault(unquote(html.unescape(text)), where + " (unescaped)")

    def add_cookie(self, where, value):
        """A cookie as sent, and its signed payload decoded: signing hides nothing."""
        self.add(where, value)
        _, payload = UNSIGNED.loads_unsafe(value)
        if payload is not None:
            self.add(where + " decoded", json.dumps(payload, ensure_ascii=False))

    def leaks(self, values):
        """(where, value, piece) for each value with a run of it (in any rendering) seen."""
        # Every run is at least RUN characters long: index them by their start.
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


class Seeing:
    """What each audience was shown: ``nobody`` (what no one may learn from),
    ``root`` and ``owner`` (the responses to their own Tests and reveals),
    ``bob`` (every response to him)."""

    AUDIENCES = ("nobody", "root", "owner", "bob")

    def __init__(self):
        self.nobody, self.root, self.owner, self.bob = Seen(), Seen(), Seen(), Seen()
        self.named = []  # (where, name): a response to bob naming a secret not his, unasked

    def names_for_bob(self, where, asked, response):
        """A response to bob names none of the secrets he may not manage, unless
        his request named it (a 404 for the URL he typed, his own pasted .env text)."""
        shown = response.text + str(response.headers)
        self.named += [(where, name) for name in NOT_BOBS if name in shown and name not in asked]

    def response(self, audience, where, response):
        """A response's body and headers for ``audience``; its cookies for nobody."""
        seen = getattr(self, audience)
        seen.add(where, response.text)
        if response.headers.get("content-type", "").startswith("application/json"):
            try:
                decoded = response.json()
            except ValueError:
                decoded = None
            seen.add(where + " (json)", json.dumps(decoded, ensure_ascii=False))
        seen.add(where + " (headers)", "\n".join(f"{k}: {v}" for k, v in response.headers.multi_items()))
        for name, value in response.cookies.items():
            self.nobody.add_cookie(f"{where} (cookie {name})", value)

    def leaks(self, values):
        return [
            (f"{audience}: {where}", value, piece)
            for audience in self.AUDIENCES
            for where, value, piece in getattr(self, audience).leaks(forbidden(values, audience))
        ] + [(f"bob: {where}", name, "the secret's name") for where, name in self.named]

    def baseline(self):
        """(all that was seen as one string, the set of its RUN-character pieces)."""
        texts = [text for audience in self.AUDIENCES for text in getattr(self, audience).pieces]
        grams = {text[i : i + RUN] for text in texts for i in range(len(text) - RUN + 1)}
        return "\0".join(texts), grams  # NUL never occurs in a value


def forms_for(route_template, values, token):
    """The POST bodies an intruder would try on a route: a new value, a restore,
    .env text holding every value (the stored ones too: an equality oracle), a confirm.
    My secrets' forms hold no value: an intruder's own value is theirs to see."""
    pairs = list(zip(NAMES, (values.second, values.raising, values.env, values.file, values.own, values.posted)))
    if route_template == "/-/secrets/-/import":
        pairs.append(("ECHO_KEY_OLD", values.first))
        return [{"dotenv": quoted_dotenv(pairs)}, {"dotenv": raw_dotenv(pairs)}]
    if route_template == "/-/secrets/-/import/confirm":
        return [{"token": token or "no-preview", "store": NAMES}]
    if route_template.startswith("/-/secrets/-/mine"):
        return [{"note": "n", "version": "1"}]
    return [{"secret": values.posted, "note": "n", "version": "1"}]


async def follow(ds, seeing, where, response, actor, audience="nobody"):
    """A redirect followed as a browser would, with the cookies it set: the page, or None."""
    if response.status_code != 302:
        return None
    cookies = {name: value for name, value in response.cookies.items() if value}
    page = await ds.client.get(response.headers["location"], actor=actor, cookies=cookies)
    seeing.response(audience, where + " -> " + response.headers["location"], page)
    return page


# Delete last: reveal, copy and Test must find a value there to refuse.
IN_ORDER = sorted(TEMPLATES, key=lambda route_template: route_template.endswith("/delete"))


async def every_route(ds, seeing, actor, values, names=NAMES, post=True, audience="nobody"):
    """Every route, for each of ``names``, by GET (and POST), with and without
    htmx: all of it for ``audience`` (nobody, or bob)."""
    token = None
    label = (actor or {}).get("id", "anonymous")
    for route_template in IN_ORDER:
        for name in names if has_name(route_template) else [None]:
            url = path(route_template, name) if name else route_template
            for headers in ({}, HX):
                requests = [("GET", url + "?version=1", None)]
                if post:
                    requests += [("POST", url, form) for form in forms_for(route_template, values, token)]
                for method, target, form in requests:
                    response = await ds.client.request(method, target, actor=actor, headers=headers, data=form)
                    where = f"{label}: {method} {target} htmx={bool(headers)} -> {response.status_code}"
                    assert response.status_code < 500, where
                    seeing.response(audience, where, response)
                    page = await follow(ds, seeing, where, response, actor, audience)
                    if audience == "bob":
                        asked = f"{target} {json.dumps(form)}"
                        for answer in (response, page) if page is not None else (response,):
                            seeing.names_for_bob(where, asked, answer)
                    if route_template == "/-/secrets/-/import" and method == "POST":
                        found = parse(response).select_one("input[name=token]")
                        token = found["value"] if found else token
                        text = parse(response).get_text(" ", strip=True)
                        if audience == "nobody":  # bob may compare RAISE_KEY, his to reveal
                            assert "Unchanged" not in text, f"{where}: the preview compared values"


async def audit_table(ds, seeing, where):
    for row in await audit_rows(ds):
        seeing.nobody.add(f"{where}: audit row {row['action']} {row['name']}", row["detail"] or "")


@contextmanager
def environment(variables):
    """Set these variables for the block; the environment as it was afterwards."""
    before = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class LogLines(logging.Handler):
    def __init__(self, seen):
        super().__init__(logging.DEBUG)
        self.seen = seen

    def emit(self, record):
        self.seen.add(f"log {record.name} {record.levelname}", record.getMessage())


@contextmanager
def logged(seen):
    """Every log line written in the block, at any level, for ``seen``."""
    handler, logger = LogLines(seen), logging.getLogger()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


class Sites:
    """The sites a web round looks at, made once for all of a test's examples
    (each example stores its values as new versions). Reveal is on in the first,
    whose internal database is a file the command line reads too: root stores,
    tests, reveals and compares, the owner tests her own value, so the audit log
    and histories the others read hold all of that. The second is write-only
    (``reveal: false``): root may store, and learns nothing either. Rate limits
    are not met: the plugin's clock moves a minute between examples."""

    def __init__(self, make_datasette, key, folder, clock):
        internal = new_database(folder / "internal.db")
        self.ds = make_datasette(internal=internal, settings={"secrets": SCOPED})
        self.write_only = make_datasette(settings={"reveal": False})
        self.options = ["--internal", internal, "-c", write_config(folder, {"encryption_key": key})]
        self.clock = clock


async def web_round(sites, values, seeing):
    """What each audience was shown on the two sites, for one set of values."""
    ds = sites.ds
    await store_value(ds, "ECHO_KEY", values.first, note="first")
    await store_value(ds, "ECHO_KEY", values.second)
    await store_value(ds, "RAISE_KEY", values.raising)
    own = await ds.client.post("/-/secrets/-/mine/OWN_KEY", data={"secret": values.own}, actor=OWNER)
    assert own.status_code == 302, own.text
    for headers in ({}, HX):
        # FILE_KEY's variable holds no path: no value to test (404), and it says so without quoting it.
        for name, status in (("ECHO_KEY", 200), ("RAISE_KEY", 200), ("ENV_KEY", 200), ("FILE_KEY", 404)):
            response = await ds.client.post(f"/-/secrets/{name}/test", actor=ROOT, headers=headers)
            assert response.status_code == status, response.text
            seeing.response("root", f"root: Test {name} htmx={bool(headers)}", response)
        response = await ds.client.post("/-/secrets/-/mine/OWN_KEY/test", actor=OWNER, headers=headers)
        assert response.status_code == 200, response.text
        seeing.response("owner", f"owner: Test OWN_KEY htmx={bool(headers)}", response)
    pairs = [("ECHO_KEY", values.second), ("RAISE_KEY", values.raising), ("OWN_KEY", values.own)]
    preview = await ds.client.post("/-/secrets/-/import", data={"dotenv": quoted_dotenv(pairs)}, actor=ROOT, headers=HX)
    seeing.response("root", "root: import preview", preview)
    revealed = await ds.client.post("/-/secrets/ECHO_KEY/reveal", actor=ROOT, headers=HX)
    seeing.response("root", "root: reveal ECHO_KEY", revealed)
    with pytest.raises(SecretFileError) as refused:  # what a plugin asking for it is told
        await get_secret(ds, "FILE_KEY")
    seeing.nobody.add("get_secret FILE_KEY", str(refused.value))

    # After the Tests: every page, the audit page, audit.json and History among them.
    await every_route(ds, seeing, MANAGER, values)
    for actor in (None, OTHER):
        # Refused before a name is even read: one name (with a value and a check) will do.
        await every_route(ds, seeing, actor, values, names=["ECHO_KEY"])
    await every_route(ds, seeing, CAROL, values, names=["RAISE_KEY"])
    # bob: everything, his secret and others (his reveals and Tests of RAISE_KEY among it).
    await every_route(ds, seeing, BOB, values, names=["RAISE_KEY", "ECHO_KEY", "ENV_KEY", "OWN_KEY"], audience="bob")
    # Root and the owner by GET: the names whose value root may not learn, and ECHO_KEY's Tests.
    await every_route(ds, seeing, ROOT, values, names=["ECHO_KEY", "ENV_KEY", "FILE_KEY", "OWN_KEY"], post=False)
    await every_route(ds, seeing, OWNER, values, names=["OWN_KEY", "ECHO_KEY"], post=False)
    await audit_table(ds, seeing, "reveal site")

    await store_value(sites.write_only, "ECHO_KEY", values.first, note="first")
    await store_value(sites.write_only, "ECHO_KEY", values.second)
    await store_value(sites.write_only, "RAISE_KEY", values.raising)
    await every_route(sites.write_only, seeing, ROOT, values, names=["ECHO_KEY", "RAISE_KEY", "ENV_KEY", "FILE_KEY"])
    await audit_table(sites.write_only, seeing, "write-only site")


def observe(sites, runner, values):
    """A web round, then the command line on the first site's database."""
    seeing = Seeing()
    sites.clock.now += 61  # a minute later: every rate limit is met afresh
    with environment({ENV_VAR: values.env, FILE_VAR: values.file}), logged(seeing.nobody):
        runner.run(web_round(sites, values, seeing))
        for command in [["list"], ["list", "--json"]] + [["history", name] for name in NAMES]:
            result = run(*command, *sites.options)
            where = "datasette secrets " + " ".join(command)
            assert result.exit_code == 0, f"{where}: {result.output}"
            seeing.nobody.add(where, result.output)
    return seeing


BASELINES = {}  # kind -> Seeing.baseline() of a round with the placeholder values


def assume_no_chance_overlap(kind, compute, values):
    """Only values that share no run with what the pages say anyway."""
    if kind not in BASELINES:
        BASELINES[kind] = compute(PLACEHOLDERS).baseline()
    said, grams = BASELINES[kind]
    for value in forbidden(values, "nobody"):
        assume(not any(piece[:RUN] in grams and piece in said for piece in runs(value)))


def report(leaks):
    return "\n".join(f"{where}: {run!r} of {value!r}" for where, value, run in leaks[:10])


@pytest.fixture
def registered(register_plugin):
    return register_plugin(secrets_plugin(*PLUGIN_SECRETS), "no-leak-plugin")


def test_no_one_learns_part_of_a_value_they_may_not_reveal(registered, make_datasette, key, tmp_path, clock):
    with asyncio.Runner() as runner:
        sites = Sites(make_datasette, key, tmp_path, clock)
        compute = lambda values: observe(sites, runner, values)  # noqa: E731

        @given(values=VALUE_SETS)
        def check(values):
            assume_no_chance_overlap("web", compute, values)
            leaks = compute(values).leaks(values)
            assert not leaks, report(leaks)

        check()


def command_line_round(key, values):
    """The output of set, list, list --json, history and import, in write-only mode."""
    with tempfile.TemporaryDirectory() as folder, environment({ENV_VAR: values.env, FILE_VAR: values.file}):
        internal = new_database(os.path.join(folder, "internal.db"))
        config = write_config(Path(folder), {"encryption_key": key, "reveal": False})
        options = ["--internal", internal, "-c", config]
        seeing = Seeing()
        with logged(seeing.nobody):
            for name, value, more in (
                ("ECHO_KEY", values.first, []),
                ("ECHO_KEY", values.second, []),
                ("RAISE_KEY", values.raising, []),
                ("OWN_KEY", values.own, ["--actor", OWNER["id"]]),
            ):
                result = run("set", name, *options, *more, input=value)
                assert result.exit_code == 0, result.output
                seeing.nobody.add(f"set {name} {more}", result.output)
            env_file = os.path.join(folder, "stored.env")
            pairs = [("ECHO_KEY", values.second), ("RAISE_KEY", values.raising), ("ENV_KEY", values.env)]
            pairs += [("FILE_KEY", values.file), ("OWN_KEY", values.own), ("PLAIN_KEY", values.posted)]
            Path(env_file).write_text(quoted_dotenv(pairs), encoding="utf-8")
            commands = [["list"], ["list", "--json"]] + [["history", name] for name in NAMES]
            commands += [["import", env_file, "--dry-run"], ["import", env_file]]
            for command in commands:
                result = run(*command, *options)
                where = "datasette secrets " + " ".join(command)
                assert result.exit_code == 0, f"{where}: {result.output}"
                seeing.nobody.add(where, result.output)
                if command[0] == "import":
                    assert "unchanged" not in result.output, f"{where} compared values in write-only mode"
            for row in query(internal, "select action, detail from datasette_secrets_audit"):
                seeing.nobody.add(f"audit row {row['action']}", row["detail"] or "")
        return seeing


@given(values=VALUE_SETS)
def test_the_command_line_in_write_only_mode_prints_no_part_of_a_value(values, registered, key):
    compute = lambda values: command_line_round(key, values)  # noqa: E731
    assume_no_chance_overlap("command line", compute, values)
    leaks = compute(values).leaks(values)
    assert not leaks, report(leaks)
