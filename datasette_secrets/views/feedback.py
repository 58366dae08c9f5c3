"""Where a secret's row is on the list, and how a change's message gets there.

With JavaScript the message comes back in the row fragment; without it, a
change redirects to the list page that shows the row (``list_url``) and the
message travels in a signed, one-time cookie (``redirect_with_flash``).
"""

import bisect
import time
from urllib.parse import urlencode

from datasette import Response
from datasette.utils.asgi import BadRequest
from itsdangerous import BadSignature

from .. import core, model

PAGE_SIZE = 25  # secrets per page of the list


def page_number(request):
    """The ?page= asked for; past the last page means the last page."""
    text = request.args.get("page", "1")
    if not (text.isascii() and text.isdigit()) or int(text[:10]) < 1:
        raise BadRequest("The page must be a whole number, 1 or more")
    return int(text[:10]) if len(text) <= 10 else 10**10


def page_url(datasette, q, number, status=None):
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


# Without JavaScript a change redirects, and the page it lands on shows its
# message (the list: at the changed row). The message travels in a signed
# cookie read once (as Datasette's own flash messages do). It is bound to the
# actor who made the change and lives FLASH_SECONDS, so a cookie planted by
# another page on the same host (cookies ignore ports) shows nothing. It is
# the plugin's only flash mechanism (Datasette's ds_messages is never used:
# it is readable by scripts, unbound and lives for ever), and it carries only
# messages about what was done ("Saved", "Deleted"), never text derived from
# a value: a Test answers with a page of its own instead (see values.py).
FLASH_COOKIE = "ds_secrets_done"
FLASH_NAMESPACE = "datasette-secrets-done"
FLASH_SECONDS = 60


def redirect_with_message(datasette, request, url, message, name=None, undo=False):
    """A redirect to ``url``, whose page then shows ``message`` once (at the
    row of the secret ``name``, on the list)."""
    response = Response.redirect(url)
    flash = {
        "name": name,
        "message": message,
        "undo": undo,
        "actor": core.actor_id_of(request.actor),
        "at": int(time.time()),
    }
    response.set_cookie(
        FLASH_COOKIE,
        datasette.sign(flash, FLASH_NAMESPACE),
        max_age=FLASH_SECONDS,
        path=datasette.urls.path("/-/secrets"),
        httponly=True,
        samesite="strict",
    )
    return response


async def redirect_with_flash(datasette, request, state, entry, message, undo=False):
    """A redirect to the list page that shows ``entry``, its message at the row."""
    url = await list_url(datasette, state, entry)
    return redirect_with_message(datasette, request, url, message, name=entry.name, undo=undo)


def read_flash(datasette, request):
    """The message a redirect left for this actor, or None."""
    cookie = request.cookies.get(FLASH_COOKIE)
    if not cookie:
        return None
    try:
        flash = datasette.unsign(cookie, FLASH_NAMESPACE)
    except BadSignature:
        return None
    if not (isinstance(flash, dict) and isinstance(flash.get("message"), str)):
        return None
    if not (flash.get("name") is None or isinstance(flash["name"], str)):
        return None
    if flash.get("actor") != core.actor_id_of(request.actor):
        return None
    at = flash.get("at")
    if not isinstance(at, int) or not (0 <= time.time() - at <= FLASH_SECONDS):
        return None
    return flash


def clear_flash(datasette, response):
    """Forget the message once the list has shown it."""
    response.set_cookie(
        FLASH_COOKIE, "", expires=0, max_age=0, path=datasette.urls.path("/-/secrets"), httponly=True
    )
