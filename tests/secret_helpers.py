"""Small helpers shared by the test modules (fixtures live in conftest.py)."""

import base64
import gc
import json
import os
import re
import sqlite3
import time
import types
from datetime import datetime, timezone

import datasette_test
from bs4 import BeautifulSoup
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from datasette import hookimpl
from datasette.plugins import pm
from markupsafe import Markup

from datasette_secrets import Secret
from datasette_secrets.crypto import _derive
from datasette_secrets.views.render import SharedBytecodeCache

ROOT = {"id": "root"}  # may manage and reveal (see conftest.DEFAULT_PERMISSIONS)
MANAGER = {"id": "manager"}  # may manage, may not reveal
OTHER = {"id": "alice"}  # may do nothing with secrets
HX = {"HX-Request": "true"}
CROSS_SITE = {"Sec-Fetch-Site": "cross-site"}

# root may manage and reveal; "manager" may manage but not reveal.
DEFAULT_PERMISSIONS = {
    "manage-secrets": {"id": [ROOT["id"], MANAGER["id"]]},
    "reveal-secrets": {"id": ROOT["id"]},
}

EXAMPLE_SECRETS = [
    Secret(
        "API_KEY",
        Markup("An <strong>example</strong> API key"),
        obtain_url="https://example.com/keys",
        obtain_label="Get an example key",
    ),
    Secret("OTHER_KEY", "Key for the other service"),
    Secret("ENV_KEY", "Usually set from the environment"),
]


# Compiled page templates shared by every Datasette the suite makes. Only for
# speed: each Datasette has its own (asynchronous) Jinja environment, and
# compiling the same templates again for each of hundreds of instances
# dominated the run time. Jinja checks each template's source checksum, so an
# edited template is still compiled afresh. (Fragments have their own cache.)
TEMPLATE_CACHE = SharedBytecodeCache()


def serve_one_app(datasette):
    """Only for speed: ``datasette.client`` builds Datasette's whole ASGI app
    afresh for each request (about a third of a small request's time), where a
    server builds it once. The app is kept until the registered plugins change
    (their routes and ``asgi_wrapper`` hooks are part of it)."""
    build = datasette.app
    built = {}

    def app():
        plugins = frozenset(map(id, pm.get_plugins()))
        if plugins not in built:
            built.clear()
            built[plugins] = build()
        return built[plugins]

    datasette.app = app


def new_datasette(key, permissions=DEFAULT_PERMISSIONS, settings=None, **kwargs):
    """A configured ``datasette_test.Datasette`` (the ``make_datasette`` fixture's).

    ``key=None`` configures no encryption key. Plugin settings (``database``,
    ``reveal``, ``reveal_seconds``, ...) go in ``settings``; anything else is
    passed to Datasette.
    """
    plugin_settings = {}
    if key is not None:
        plugin_settings["encryption_key"] = key
    plugin_settings.update(settings or {})
    datasette = datasette_test.Datasette(
        plugin_config={"datasette-secrets": plugin_settings},
        permissions=permissions,
        **kwargs,
    )
    # Speed-ups that lean on Datasette internals: skipped if those move.
    environment = getattr(datasette, "_jinja_env", None)
    if environment is not None:
        environment.bytecode_cache = TEMPLATE_CACHE
    if callable(getattr(datasette, "app", None)):
        serve_one_app(datasette)
    return datasette


def plugin_module(name, **hooks):
    """A plugin made of hook functions (decorated with @hookimpl), like a module."""
    module = types.ModuleType(name)
    for hook_name, function in hooks.items():
        setattr(module, hook_name, function)
    return module


def secrets_plugin(*secrets):
    """A plugin whose register_secrets hook returns ``secrets``."""

    @hookimpl
    def register_secrets():
        return list(secrets)

    return plugin_module("secrets_plugin", register_secrets=register_secrets)


def parse(page):
    """BeautifulSoup of a response, or of HTML text (a soup is returned as it is)."""
    if isinstance(page, BeautifulSoup):
        return page
    return BeautifulSoup(getattr(page, "text", page), "html.parser")


def secrets_db(ds, database=None):
    return ds.get_database(database) if database else ds.get_internal_database()


async def store_value(ds, name, value, note="", actor=ROOT):
    """Set a secret through the no-JS form, as an admin would."""
    response = await ds.client.post(
        f"/-/secrets/{name}", data={"secret": value, "note": note}, actor=actor
    )
    assert response.status_code == 302, response.text
    return response


async def secret_rows(ds, name=None, database=None):
    sql = "select * from datasette_secrets"
    params = []
    if name is not None:
        sql += " where name = ?"
        params.append(name)
    result = await secrets_db(ds, database).execute(sql + " order by id", params)
    return [dict(row) for row in result.rows]


async def usage_row(ds, name, database=None):
    """The row of datasette_secrets_usage for ``name`` (its last use), or None."""
    result = await secrets_db(ds, database).execute(
        "select last_used_at, last_used_by, version from datasette_secrets_usage where name = ?", [name]
    )
    row = result.first()
    return dict(row) if row else None


async def audit_rows(ds, database=None):
    result = await secrets_db(ds, database).execute(
        "select name, version, action, detail, actor_id, created_at "
        "from datasette_secrets_audit order by id"
    )
    return [dict(row) for row in result.rows]


async def insert_row(ds, name, encrypted, key_name, version=1, note=None, deleted_at=None, database=None):
    """Write a row straight into the secrets table, bypassing the plugin."""
    await secrets_db(ds, database).execute_write(
        "insert into datasette_secrets "
        "(name, version, encrypted, encryption_key_name, note, deleted_at, created_at, updated_at) "
        "values (?, ?, ?, ?, ?, ?, datetime('now'), datetime('now'))",
        [name, version, encrypted, key_name, note, deleted_at],
    )


def legacy_token(key, value):
    """A value encrypted the way datasette-secrets 0.2/0.3 did it."""
    return Fernet(key).encrypt(value.encode("utf-8"))


async def follow(ds, response, actor=ROOT):
    """Follow a redirect the way a browser would, carrying the cookies it set
    (Datasette's flash messages, and this plugin's message for the changed row)."""
    assert response.status_code == 302, response.text
    cookies = {name: value for name, value in response.cookies.items() if value}
    return await ds.client.get(response.headers["location"], actor=actor, cookies=cookies)


def flash_messages(page):
    """Messages a redirect left: Datasette's own, and the notice of a changed row."""
    soup = parse(page)
    return [p.get_text(" ", strip=True) for p in soup.select("p.message-info, #secrets-status p")]


def opener(soup, url):
    """The control that opens ``url`` without JavaScript: a link to it, or a button
    whose ``formaction`` (else its form's ``action``) it is; None if there is none."""
    link = soup.find("a", href=url)
    if link is not None:
        return link
    for button in soup.find_all("button"):
        form = button.find_parent("form")
        if (button.get("formaction") or (form.get("action") if form else None)) == url:
            return button
    return None


def row_feedback(page, name):
    """The message shown at a secret's row after a change, or None."""
    cell = parse(page).select_one(f"tbody#secret-{name} tr.secret-feedback td")
    return cell.get_text(" ", strip=True) if cell else None


def row_of(soup, name):
    """The <tbody> of one secret in the list table (or a fragment)."""
    return soup.select_one(f"tbody#secret-{name}")


def shown(response):
    """The names of the secrets listed on a page, in order."""
    return [code.get_text() for code in parse(response).select("tbody.secret th.secret-name code")]


async def snapshot(ds, database=None):
    """Every stored version and audit row: compare two to show nothing was written."""
    return await secret_rows(ds, database=database), await audit_rows(ds, database=database)


# The published datasette-secrets 0.2's table (0.3a0 dropped "redacted").
SCHEMA_0_2 = """
create table datasette_secrets (
    id integer primary key,
    name text not null,
    note text,
    version integer not null default 1,
    encrypted blob,
    encryption_key_name text not null,
    redacted text,
    created_at text,
    created_by text,
    updated_at text,
    updated_by text,
    deleted_at text,
    deleted_by text,
    last_used_at text,
    last_used_by text
)
"""
# (name, version, value, deleted): in insertion (id) order.
LEGACY_ROWS = [
    ("API_KEY", 1, "api-one", False),
    ("API_KEY", 2, "api-two", False),
    ("OTHER_KEY", 1, "other-one", False),
    ("API_KEY", 3, "api-three", False),
    ("OTHER_KEY", 2, "other-two-deleted", True),
    ("ENV_KEY", 1, "env-one", True),
    ("RETIRED_PLUGIN_KEY", 1, "orphan-one", False),
]


def build_legacy_db(path, key, rows, schema=SCHEMA_0_2):
    """A table as the published plugin left it: ``rows`` as Fernet tokens, noted and dated."""
    fernet = Fernet(key)
    conn = sqlite3.connect(path)
    conn.execute(schema)
    for i, (name, version, value, deleted) in enumerate(rows):
        conn.execute(
            "insert into datasette_secrets (name, note, version, encrypted, encryption_key_name, "
            "created_at, created_by, updated_at, updated_by, deleted_at, deleted_by) "
            "values (?, ?, ?, ?, 'default', ?, 'legacy-admin', ?, 'legacy-admin', ?, ?)",
            [
                name,
                f"note for {value}",
                version,
                fernet.encrypt(value.encode("utf-8")),
                f"2024-01-01 00:00:{i:02d}",
                f"2024-01-01 00:00:{i:02d}",
                "2024-02-01 00:00:00" if deleted else None,
                "legacy-admin" if deleted else None,
            ],
        )
    conn.commit()
    conn.close()


def first_format(key, name, value):
    """A ciphertext in this plugin's first format (0x01: bound to the name only)."""
    aead = AESGCM(_derive(base64.urlsafe_b64decode(key), b"datasette-secrets value key v1"))
    nonce = os.urandom(12)
    return b"\x01" + nonce + aead.encrypt(nonce, value.encode(), b"datasette-secrets:" + name.encode())


def write_config(tmp_path, plugin_config, name="datasette.json"):
    """A Datasette configuration file giving this plugin ``plugin_config``; its path."""
    path = tmp_path / name
    path.write_text(json.dumps({"plugins": {"datasette-secrets": plugin_config}}))
    return str(path)


def new_database(path):
    """An empty SQLite file at ``path`` (as a string)."""
    conn = sqlite3.connect(path)
    conn.execute("vacuum")  # writes the file's header: it exists, and is empty
    conn.close()
    return str(path)


class FakeClock:
    """A monotonic clock that moves only when a test moves it (``clock.now += 1.1``):
    given to the plugin as its State's clock (conftest's ``clock`` fixture)."""

    def __init__(self, now=None):
        # From where the real clock is, so deadlines set before it was given still hold.
        self.now = time.monotonic() if now is None else now

    def __call__(self):
        return self.now


SQLITE_NOW = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")  # datetime('now')'s form


def written_between(timestamp, began, ended=None):
    """Whether a time in SQLite's datetime('now') form (UTC, whole seconds) lies
    between two Unix times, ``ended`` now by default: it was written then, however
    long the machine took (no figure of seconds)."""
    assert SQLITE_NOW.match(timestamp), timestamp
    moment = datetime.strptime(timestamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    return int(began) <= moment <= (time.time() if ended is None else ended)


def cpu_seconds(call, at_least=0.02):
    """CPU seconds one ``call()`` takes, repeated until the calls took ``at_least``
    in all (a fast call timed once is mostly noise). CPU time, not wall clock: a
    process waiting for the CPU on a busy machine is not charged for the wait."""
    calls = 1
    while True:
        # The garbage collector off while timing: its passes grow with everything
        # else the process holds, which is noise here, not the call's own work.
        gc.collect()
        gc.disable()
        try:
            began = time.process_time()
            for _ in range(calls):
                call()
            took = time.process_time() - began
        finally:
            gc.enable()
        if took >= at_least:
            return took / calls
        calls *= 4 if took < at_least / 8 else 2


LINEAR = 8  # work at 4n over work at n: linear is 4, quadratic 16


def growth(measure, small, large, rounds=5):
    """How many times longer the work at ``large`` takes than at ``small``:
    ``measure(size)`` gives one measurement (seconds), and the best of up to
    ``rounds`` of each is compared, stopping once the ratio is under LINEAR.
    A ratio, not a figure: whatever the machine's load, linear work at 4n
    stays under LINEAR times the work at n, and quadratic work does not."""
    best_small = best_large = float("inf")
    for _ in range(rounds):
        best_small, best_large = min(best_small, measure(small)), min(best_large, measure(large))
        if best_large < LINEAR * best_small:
            break
    return best_large / best_small


async def growth_of(measure, small, large, rounds=5):
    """``growth`` for a coroutine function ``measure`` (requests to a Datasette)."""
    best_small = best_large = float("inf")
    for _ in range(rounds):
        best_small, best_large = min(best_small, await measure(small)), min(best_large, await measure(large))
        if best_large < LINEAR * best_small:
            break
    return best_large / best_small


async def cpu_of(request):
    """(response, CPU seconds the process spent answering it): the in-process
    client runs the whole request in this process, threads included."""
    began = time.process_time()
    response = await request()
    return response, time.process_time() - began
