"""The list's pages: how many rows a page shows, which page the request asks
for, a page's URL, and which page shows a given secret's row (``list_url``,
where a change without JavaScript redirects to)."""

import bisect
from urllib.parse import urlencode

from datasette.utils.asgi import BadRequest

from .. import model

PAGE_SIZE = 25  # secrets per page of the list


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
    """The list page that shows ``entry``, scrolled to its row.

    The last listing built serves, even if a change made it stale: a change
    moves a row at most by the few names added or removed meanwhile, and a
    redirect after each save must not read every summary again (under a burst
    of saves those reads queued past Datasette's time limit).
    """
    built = state.listing or await model.listing(datasette, state)
    names = built.names
    page = bisect.bisect_left(names, entry.name) // PAGE_SIZE + 1
    query = f"?page={page}" if page > 1 else ""
    return datasette.urls.path("/-/secrets") + query + f"#secret-{entry.key}"
