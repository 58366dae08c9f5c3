"""What answers a question about a value (Reveal, Copy, Test) and the mask
put back after a reveal: one code path for a shared value and an actor's own.

Each view serves /-/secrets/NAME/...; its ``Own`` twin, with base.OwnView
first among its bases, serves /-/secrets/-/mine/NAME/... with the same
handler. ``self.owner`` (None for a shared value) says whose value it is and
``self.can`` (the rules) who may: for a shared value ``reveal-secrets``, for
an own one its owner alone, and nobody in write-only mode. Each answer is
rate limited per actor and audited.
"""

from datasette import Response

from .. import checks, core, personal
from ..core import Conflict
from ..crypto import SecretDecryptionError
from ..rules import MANAGE, REVEAL
from .base import VARY, OwnView, SecretView, is_htmx, limit
from .context import COPIED, focus_of
from .parts import entry_context, row_fragment, row_url
from .render import render, render_either, test_page


class RevealView(SecretView):
    """The value, shown for ``reveal_seconds`` (a page of its own without JavaScript)."""

    actions = (MANAGE, REVEAL)
    learns = True

    async def post(self, request, datasette):
        version, value = await read_value(datasette, request, self, "revealed")
        context = await entry_context(datasette, request, self.state, self.entry)
        context.update(
            version=version,
            value=value,
            seconds=self.state.settings.reveal_seconds,
            back_url=await row_url(datasette, self.state, self.entry),
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
        if self.owner is None:
            result = await checks.check(datasette, state, entry, request.actor)
        else:
            result = await personal.check(datasette, state, entry)
        if not is_htmx(request):  # a page of its own: the result travels in no cookie
            context = await entry_context(datasette, request, state, entry)
            title = entry.name if self.owner is None else f"your own {entry.name}"
            back = await row_url(datasette, state, entry)
            return await test_page(datasette, request, context, entry, result, title, back, context["home_label"])
        # The result spans the row, as a change's message does; focus back on Test.
        return await row_fragment(datasette, request, state, entry, focus="test", result=result, failed=not result.ok)


class MaskView(SecretView):
    """The masked value again, after a reveal's time is up (htmx); without JavaScript, the row."""

    async def get(self, request, datasette):
        if not is_htmx(request):
            return Response.redirect(await row_url(datasette, self.state, self.entry))
        context = await entry_context(datasette, request, self.state, self.entry)
        context["focus"] = focus_of(request)
        return await render(datasette, request, "_secrets_masked.html", context)


class OwnRevealView(OwnView, RevealView):
    """The signed-in actor's own value, shown."""


class OwnCopyView(OwnView, CopyView):
    """The signed-in actor's own value, for the clipboard."""


class OwnTestView(OwnView, TestView):
    """The plugin's check of the signed-in actor's own value (audited without its outcome)."""


class OwnMaskView(OwnView, MaskView):
    """The signed-in actor's own value masked again."""


async def read_value(datasette, request, view, done_word, detail=None):
    """(version, value) for a reveal or a copy, after the rules' check and the
    actor's reveal limit; audited with ``detail``."""
    entry = view.entry
    view.can.require("reveal")
    limit(view.state.reveals, request, "reveals", f" Nothing was {done_word}.")
    if view.owner is not None:
        return await personal.reveal(datasette, view.state, entry.name, view.owner, detail)
    try:
        version, value = await core.reveal(datasette, view.state, entry.name, request.actor, detail)
    except SecretDecryptionError as e:
        raise Conflict(str(e))
    if core.is_key(value):
        raise Conflict(f"{entry.name} holds a configured encryption key, which is never revealed")
    return version, value
