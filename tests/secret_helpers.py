"""Small helpers shared by the test modules (fixtures live in conftest.py)."""

import types

from bs4 import BeautifulSoup
from cryptography.fernet import Fernet
from datasette import hookimpl
from markupsafe import Markup

from datasette_secrets import Secret

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
