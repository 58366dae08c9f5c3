"""My secrets at /-/secrets/-/mine: an actor's own values of personal secrets.

Every view here needs ``manage-own-secrets`` (every signed-in actor, unless
datasette.yml says otherwise) and acts on the signed-in actor's own values
only: nobody can name another actor here (``base.OwnView``). What the owner
may do is asked of ``rules.allowed_own``. The page's rows are the admin
list's (``_secrets_row.html`` with ``owner`` set): plain forms first (POST,
then a redirect with a message), htmx on top. Reveal, Copy, Test and the
mask are the admin list's views too (``values``).
"""

from datasette import Response

from .. import core, personal, store_personal
from ..rules import OWN
from .base import OwnView, SecretsView, TooManyRequests, is_htmx, limit, read_form
from .context import focus_of, mine_context
from .feedback import redirect_with_message
from .parts import entry_context, row_fragment, row_url
from .render import render

OWN_CHANGES = "changes to your own values"  # rate limited together (state.own_changes)


class MineView(SecretsView):
    """The list of personal secrets, each with the actor's own value or none."""

    actions = (OWN,)

    async def get(self, request, datasette):
        entries = await personal.entries(datasette, self.state, core.actor_id_of(request.actor))
        context = await mine_context(datasette, request, self.state, entries)
        return await render(datasette, request, "secrets_mine.html", context)


class OwnEditView(OwnView):
    """Set or replace the actor's own value: GET the form, POST it."""

    async def prepare(self, request, datasette):
        await super().prepare(request, datasette)
        self.can.require("set")

    async def get(self, request, datasette):
        return await self.form(request, datasette, multiline=request.args.get("multiline") == "1")

    async def post(self, request, datasette):
        form = await read_form(request)
        value = core.clean_value(form.get("secret", ""))
        multiline = form.get("multiline") == "1" or "\n" in value
        error = "Enter a value." if not value else core.value_too_long(value)
        if error:
            return await self.form(request, datasette, error, 422, multiline, bool(value))
        entry = self.entry
        try:
            limit(self.state.own_changes, request, OWN_CHANGES, " Nothing was saved.")
        except TooManyRequests as e:
            response = await self.form(request, datasette, str(e), 429, multiline, True)
            response.headers["Retry-After"] = str(self.state.own_changes.retry_after(entry.owner))
            return response
        try:
            number = await personal.save(datasette, self.state, entry.name, entry.owner, value, request.actor)
        except personal.OwnValuesFull as e:
            return await self.form(request, datasette, str(e), 422, multiline, True)
        return await done(datasette, request, self, f"Saved your own {entry.name}: version {number}.")

    async def form(self, request, datasette, error=None, status=200, multiline=False, value_dropped=False):
        """The editor, as the admin list's (no note); with ``error``, the value field's.
        The typed value is never sent back (see row.edit_form)."""
        context = await entry_context(datasette, request, self.state, self.entry)
        context.update(errors={"secret": error} if error else {}, multiline=multiline, value_dropped=value_dropped)
        if is_htmx(request):
            # Edit adds just the editor under the row; the switch and an error get the whole row.
            context.update(mode="edit", editor_only=not error and "multiline" not in request.args)
            return await render(datasette, request, "_secrets_row.html", context, status)
        return await render(datasette, request, "secrets_edit.html", context, status)


class OwnHistoryView(OwnView):
    """Every version of the actor's own value: when stored, deleted (and by whom), last used.
    With htmx it opens in the row, as a shared value's does."""

    async def get(self, request, datasette):
        entry = self.entry
        versions = await store_personal.history(self.state.db, entry.name, entry.owner)
        if is_htmx(request):
            focus = focus_of(request) or "heading"
            return await row_fragment(datasette, request, self.state, entry, versions=versions, focus=focus)
        context = await entry_context(datasette, request, self.state, entry, versions)
        context["page"] = True
        return await render(datasette, request, "secrets_history.html", context)


class OwnRowView(OwnView):
    """The row as it is (Cancel, closing History), focus on Edit unless ?focus= says; without JavaScript, the list."""

    async def get(self, request, datasette):
        if not is_htmx(request):
            return Response.redirect(await row_url(datasette, self.state, self.entry))
        return await row_fragment(datasette, request, self.state, self.entry, focus=focus_of(request) or "edit")


class OwnDeleteView(OwnView):
    """Delete the actor's own value: GET asks first, POST does it."""

    async def prepare(self, request, datasette):
        await super().prepare(request, datasette)
        self.can.require("delete")

    async def get(self, request, datasette):
        if is_htmx(request):
            return await row_fragment(datasette, request, self.state, self.entry, mode="delete")
        context = await entry_context(datasette, request, self.state, self.entry)
        return await render(datasette, request, "secrets_delete.html", context)

    async def post(self, request, datasette):
        entry = self.entry
        limit(self.state.own_changes, request, OWN_CHANGES, " Nothing was deleted.")
        await personal.delete(datasette, self.state, entry.name, entry.owner, request.actor)
        return await done(
            datasette, request, self, f"Deleted your own {entry.name}: plugins use the shared value for you again."
        )


async def done(datasette, request, view, message):
    """After a change: the fresh row with its message (htmx), else back to the list with it."""
    entry = view.entry
    if not is_htmx(request):
        url = await row_url(datasette, view.state, entry)
        return redirect_with_message(datasette, request, url, message, name=entry.name)
    entry = await personal.entry(datasette, view.state, entry.name, entry.owner)
    return await row_fragment(datasette, request, view.state, entry, focus="edit", message=message, keep_about=True)
