"""A 4xx answer under /-/secrets: to an htmx request a fragment, since htmx swaps
error responses too; to a page request a page with a way back.

Datasette's ``forbidden`` and ``handle_exception`` hooks (in the package's
``__init__``) call ``error_fragment`` or ``error_page`` for requests under /-/secrets.
"""

import sqlite3

from datasette.database import QueryInterrupted
from datasette.utils.asgi import Response

from .. import core, model, store
from ..rules import MANAGE
from .base import is_htmx
from .parts import row_fragment
from .render import render


async def error_fragment(datasette, request, message, status):
    """An htmx request's 4xx error, in the page's notice; and at the row when it was
    about a secret whose row the request would have swapped (a stale confirmation,
    say), which then shows what is true now."""
    if status in (404, 409) and request.headers.get("hx-target", "").startswith("tbody#secret-"):
        row = await error_row(datasette, request, message, status)
        if row is not None:
            return row
    response = await render(datasette, request, "_secrets_error.html", {"message": message}, status)
    response.headers.update({"HX-Retarget": "#secrets-status", "HX-Reswap": "innerHTML"})
    return response


async def error_row(datasette, request, message, status):
    """The secret's row as it is now, with the error where its change's result would be;
    None when there is no such row (or it cannot be read either)."""
    # Permission first: the error may come from outside the views (an unknown route).
    if not await datasette.allowed(action=MANAGE, actor=request.actor):
        return None
    name = model.name_from_slug((request.url_vars or {}).get("name", ""))
    if name is None:
        return None
    try:
        state = await core.ready(datasette)
        entry = await model.entry(datasette, state, name)
        if entry is None:
            return None
        response = await row_fragment(datasette, request, state, entry, message=message, failed=True)
    except (store.SecretStoreError, sqlite3.Error, QueryInterrupted):
        return None
    response.status = status
    return response


def wants_fragment_error(datasette, request):
    return is_htmx(request) and request.path.startswith(datasette.urls.path("/-/secrets"))


# A signed-out visitor on My secrets is told what to do, not a permission's name.
SIGN_IN = "Sign in to keep your own API keys"
ERROR_TITLES = {403: "Not allowed", 404: "Not found"}


def wants_error_page(datasette, request):
    """A page (not htmx, not JSON or CSV) requested under /-/secrets."""
    path = request.path
    return (
        path.startswith(datasette.urls.path("/-/secrets"))
        and not is_htmx(request)
        and not path.endswith((".json", ".csv"))
        and "application/json" not in (request.headers.get("accept") or "")
    )


def error_message(datasette, request, message, status):
    """The words for a refusal: a signed-out visitor on My secrets is asked to sign in."""
    if status == 403 and request.actor is None and request.path.startswith(datasette.urls.path("/-/secrets/-/mine")):
        return SIGN_IN
    return message


async def way_back(datasette, request, status):
    """(label, url) of the page to go back to: My secrets from its own routes, else the
    list; Datasette's home page when that page would refuse the visitor too."""
    mine = datasette.urls.path("/-/secrets/-/mine")
    home = ("Back to the home page", datasette.urls.instance())
    if request.path.startswith(mine):
        if request.actor is None or status == 403 or request.path == mine:
            return home
        return ("Back to My secrets", mine)
    listing = datasette.urls.path("/-/secrets")
    try:
        state = await core.ready(datasette)
        sees_list = await state.scopes.any(datasette, request.actor)
    except (store.SecretStoreError, sqlite3.Error, QueryInterrupted):
        sees_list = False
    if not sees_list or request.path == listing:
        return home
    return ("Back to the secrets", listing)


async def error_page(datasette, request, message, status):
    """A whole page for a 4xx under /-/secrets: what went wrong, and a way back."""
    label, url = await way_back(datasette, request, status)
    html = await datasette.render_template(
        "secrets_error_page.html",
        {
            "title": "Sign in first" if message == SIGN_IN else ERROR_TITLES.get(status, "That could not be done"),
            "message": message,
            "back_label": label,
            "back_url": url,
            "plugin_static": lambda path: datasette.urls.static_plugins("datasette_secrets", path),
        },
        request=request,
    )
    return Response.html(html, status=status)
