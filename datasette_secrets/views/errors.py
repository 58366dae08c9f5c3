"""A 4xx answer to an htmx request: a fragment, since htmx swaps error responses too.

Datasette's ``forbidden`` and ``handle_exception`` hooks (in the package's
``__init__``) call ``error_fragment`` for requests under /-/secrets.
"""

import sqlite3

from datasette.database import QueryInterrupted

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
