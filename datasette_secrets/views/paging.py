"""The list's pages: how many rows a page shows, which page the request asks
for, a page's URL, and which page shows a given secret's row (``list_url``;
after a change without JavaScript, ``row_anchor`` and ``flash_page``)."""

from urllib.parse import urlencode

from datasette.utils.asgi import BadRequest

from .. import model

PAGE_SIZE = 50  # secrets per page of the list: forty at a glance, on one page


def page_number(request):
    """The ?page= asked for; past the last page means the last page."""
    text = request.args.get("page", "1")
    if not (text.isascii() and text.isdigit()) or int(text[:10]) < 1:
        raise BadRequest("The page must be a whole number, 1 or more")
    return int(text[:10]) if len(text) <= 10 else 10**10


def page_url(datasette, q, number, status=None):
    """The URL of page ``number`` of the list, filtered by ``q`` and ``status``."""
    pairs = (("q", q), ("status", status), ("page", number))
    query = urlencode({key: value for key, value in pairs if value and value != 1})
    return datasette.urls.path("/-/secrets") + (f"?{query}" if query else "")


async def list_url(datasette, state, entry):
    """The list page that shows ``entry`` (as it is: unchanged), scrolled to its row.

    The last listing built serves, in the list's order (model.RANKS); a redirect
    after a change goes to ``row_anchor`` instead, since the change may have
    moved the row to another page.
    """
    built = state.listing or await model.listing(datasette, state)
    model.unreadable(state, built)
    page = built.position(entry.name, state.settings.max_age_days) // PAGE_SIZE + 1
    query = f"?page={page}" if page > 1 else ""
    return datasette.urls.path("/-/secrets") + query + f"#secret-{entry.key}"


def row_anchor(datasette, entry):
    """The list at ``entry``'s row, with no page: after a change, the message a
    redirect leaves names the row, and the list opens at the page that shows it
    (``flash_page``). A redirect reads nothing to find it."""
    return datasette.urls.path("/-/secrets") + f"#secret-{entry.key}"


def flash_page(request, flash, names):
    """The page of the list to show: the one asked for (?page=), else the one with
    the row a change's message names (its position in ``names``), else the first."""
    if "page" in request.args or flash is None or flash.get("name") not in names:
        return page_number(request)
    return names.index(flash["name"]) // PAGE_SIZE + 1
