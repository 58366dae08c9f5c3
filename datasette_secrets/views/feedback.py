"""How a change's message gets to the page that shows it.

With JavaScript the message comes back in the row fragment; without it, a
change redirects to the list at the row (``paging.row_anchor``) and the
message travels in a signed, one-time cookie (``redirect_with_flash``) that
names the row, so the list opens at the page that shows it.
"""

import time

from datasette import Response
from itsdangerous import BadSignature

from .. import core
from .paging import row_anchor

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
    """A redirect to the list at ``entry``'s row, its message at the row (the
    message names the row, and the list opens at the page that shows it)."""
    return redirect_with_message(datasette, request, row_anchor(datasette, entry), message, name=entry.name, undo=undo)


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
