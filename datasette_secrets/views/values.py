"""What answers a question about a value: Reveal, Copy and Test.

Each needs what the rules call learning about a value (``reveal-secrets``,
and not write-only mode), is rate limited per actor and audited.
"""

from datasette import Response

from .. import checks, core
from ..core import Conflict
from ..crypto import SecretDecryptionError
from ..rules import MANAGE, REVEAL
from .base import VARY, SecretView, is_htmx, limit
from .context import COPIED, list_context
from .paging import list_url
from .parts import row_fragment
from .render import render_either, test_page

class RevealView(SecretView):
    actions = (MANAGE, REVEAL)
    learns = True

    async def post(self, request, datasette):
        version, value = await read_value(datasette, request, self, "revealed")
        context = await list_context(datasette, request, self.state, [self.entry])
        context.update(
            entry=self.entry,
            version=version,
            value=value,
            seconds=self.state.settings.reveal_seconds,
            back_url=await list_url(datasette, self.state, self.entry),
        )
        return await render_either(datasette, request, "secrets_reveal.html", "_secrets_revealed.html", context)


class CopyView(SecretView):
    """The current value as text for secrets.js to put on the clipboard, never shown.

    Allowed and audited exactly as a reveal (its audit row says "copied to the
    clipboard"). Without JavaScript the Copy button submits the Reveal form instead.
    """

    actions = (MANAGE, REVEAL)
    learns = True

    async def post(self, request, datasette):
        _, value = await read_value(datasette, request, self, "copied", COPIED)
        # X-Content-Type-Options: nosniff comes with every response here (the asgi_wrapper hook).
        return Response.text(value, headers={"Cache-Control": "no-store", **VARY})


class TestView(SecretView):
    """Run the plugin's check of this secret's value; the result, never the value."""

    learns = True

    async def post(self, request, datasette):
        state, entry = self.state, self.entry
        self.can.require("test")
        limit(state.checks, request, "tests")
        result = await checks.check(datasette, state, entry, request.actor)
        if not is_htmx(request):  # a page of its own: the result travels in no cookie
            context = await list_context(datasette, request, state, [entry])
            back = await list_url(datasette, state, entry)
            return await test_page(datasette, request, context, entry, result, entry.name, back, "Secrets")
        # The result spans the row, as a change's message does; focus back on Test.
        return await row_fragment(datasette, request, state, entry, focus="test", result=result, failed=not result.ok)


async def read_value(datasette, request, view, done_word, detail=None):
    """(version, value) for a reveal or a copy, after the rules' check and the
    actor's reveal limit; audited with ``detail``."""
    entry = view.entry
    view.can.require("reveal")
    limit(view.state.reveals, request, "reveals", f" Nothing was {done_word}.")
    try:
        version, value = await core.reveal(datasette, view.state, entry.name, request.actor, detail)
    except SecretDecryptionError as e:
        raise Conflict(str(e))
    if core.is_key(value):
        raise Conflict(f"{entry.name} holds a configured encryption key, which is never revealed")
    return version, value
