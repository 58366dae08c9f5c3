"""My secrets at /-/secrets/-/mine: an actor's own values of personal secrets.

Every view here needs ``manage-own-secrets`` (every signed-in actor, unless
datasette.yml says otherwise) and acts on the signed-in actor's own values
only: nobody can name another actor here. What the owner may do is asked of
``rules.allowed_own``. Plain forms first (POST, then a redirect with a
message), htmx on top, as on the admin page.
"""

from datasette import NotFound, Response

from .. import core, key_fit, personal, rules, store_personal
from ..rules import OWN
from .base import SecretsView, TooManyRequests, is_htmx, limit, read_form
from .context import display_name, list_context
from .feedback import redirect_with_message
from .render import render, render_either, test_page

MINE = "/-/secrets/-/mine"
OWN_CHANGES = "changes to your own values"  # rate limited together (state.own_changes)


class MineView(SecretsView):
    """The list of personal secrets, each with the actor's own value or none."""

    actions = (OWN,)

    async def get(self, request, datasette):
        entries = await personal.entries(datasette, self.state, owner_of(request))
        context = await mine_context(datasette, request, self.state, entries)
        return await render(datasette, request, "secrets_mine.html", context)


class OwnView(SecretsView):
    """One of the actor's own values: ``self.entry`` (a personal.OwnEntry), ``self.can``."""

    actions = (OWN,)

    async def prepare(self, request, datasette):
        name = request.url_vars["name"]
        entry = await personal.entry(datasette, self.state, name, owner_of(request))
        if entry is None:
            raise NotFound(f"No personal secret called {name}")
        self.entry = entry
        self.can = rules.allowed_own(entry, self.state.settings, await key_fit.key_problem(self.state))

    async def row(self, request, datasette, **extra):
        """The entry's row fragment (htmx), with whatever is open in it."""
        context = await mine_context(datasette, request, self.state, [self.entry])
        context.update(entry=self.entry, **extra)
        return await render(datasette, request, "_secrets_mine_row.html", context)

    async def done(self, request, datasette, message):
        """After a change: the fresh row with its message (htmx), else back to the list."""
        if not is_htmx(request):
            url = datasette.urls.path(MINE) + f"#mine-{self.entry.key}"
            return redirect_with_message(datasette, request, url, message, name=self.entry.name)
        self.entry = await personal.entry(datasette, self.state, self.entry.name, self.entry.owner)
        return await self.row(request, datasette, message=message, focus="set")


class OwnEditView(OwnView):
    """Set or replace the actor's own value: GET the form, POST it."""

    async def prepare(self, request, datasette):
        await super().prepare(request, datasette)
        self.can.require("set")

    async def get(self, request, datasette):
        return await self.form(request, datasette)

    async def post(self, request, datasette):
        value = core.clean_value((await read_form(request)).get("secret", ""))
        error = "Enter a value." if not value else core.value_too_long(value)
        if error:
            return await self.form(request, datasette, error, status=422)
        entry = self.entry
        try:
            limit(self.state.own_changes, request, OWN_CHANGES, " Nothing was saved.")
        except TooManyRequests as e:
            response = await self.form(request, datasette, str(e), status=429)
            response.headers["Retry-After"] = str(self.state.own_changes.retry_after(entry.owner))
            return response
        try:
            number = await personal.save(datasette, self.state, entry.name, entry.owner, value, request.actor)
        except personal.OwnValuesFull as e:
            return await self.form(request, datasette, str(e), status=422)
        return await self.done(request, datasette, f"Saved your own {entry.name}: version {number}.")

    async def form(self, request, datasette, error=None, status=200):
        if is_htmx(request):
            response = await self.row(request, datasette, mode="edit", error=error)
        else:
            context = await mine_context(datasette, request, self.state, [self.entry])
            context.update(entry=self.entry, error=error)
            response = await render(datasette, request, "secrets_mine_edit.html", context)
        response.status = status
        return response


class OwnHistoryView(OwnView):
    """Every version of the actor's own value: when stored, deleted (and by whom), last used."""

    async def get(self, request, datasette):
        versions = await store_personal.history(self.state.db, self.entry.name, self.entry.owner)
        context = await mine_context(datasette, request, self.state, [self.entry])
        ids = sorted({v["deleted_by"] for v in versions if v["deleted_by"] is not None})
        actors = await datasette.actors_from_ids(ids) if ids else {}
        context.update(entry=self.entry, versions=versions, actor_name=lambda id: display_name(actors, id))
        return await render(datasette, request, "secrets_mine_history.html", context)


class OwnRowView(OwnView):
    """The row as it is (Cancel, Hide); without JavaScript, the list."""

    async def get(self, request, datasette):
        if not is_htmx(request):
            return Response.redirect(datasette.urls.path(MINE) + f"#mine-{self.entry.key}")
        return await self.row(request, datasette, focus=request.args.get("focus"))


class OwnDeleteView(OwnView):
    """Delete the actor's own value: GET asks first, POST does it."""

    async def prepare(self, request, datasette):
        await super().prepare(request, datasette)
        self.can.require("delete")

    async def get(self, request, datasette):
        if is_htmx(request):
            return await self.row(request, datasette, mode="delete")
        context = await mine_context(datasette, request, self.state, [self.entry])
        context.update(entry=self.entry, mode="delete")
        return await render(datasette, request, "secrets_mine_edit.html", context)

    async def post(self, request, datasette):
        entry = self.entry
        limit(self.state.own_changes, request, OWN_CHANGES, " Nothing was deleted.")
        await personal.delete(datasette, self.state, entry.name, entry.owner, request.actor)
        return await self.done(
            request, datasette, f"Deleted your own {entry.name}: plugins use the shared value for you again."
        )


class OwnRevealView(OwnView):
    """The actor's own value, shown (rate limited and audited as any reveal)."""

    async def post(self, request, datasette):
        self.can.require("reveal")
        limit(self.state.reveals, request, "reveals", " Nothing was revealed.")
        version, value = await personal.reveal(datasette, self.state, self.entry.name, self.entry.owner)
        context = await mine_context(datasette, request, self.state, [self.entry])
        context.update(entry=self.entry, value=value, version=version,
                       seconds=self.state.settings.reveal_seconds)
        return await render_either(
            datasette, request, "secrets_mine_reveal.html", "_secrets_mine_revealed.html", context
        )


class OwnCopyView(OwnView):
    """The actor's own value as text for the clipboard (a reveal, audited as a copy)."""

    async def post(self, request, datasette):
        self.can.require("reveal")
        limit(self.state.reveals, request, "reveals", " Nothing was copied.")
        _, value = await personal.reveal(
            datasette, self.state, self.entry.name, self.entry.owner, detail="copied to the clipboard"
        )
        return Response.text(value, headers={"Cache-Control": "no-store"})


class OwnTestView(OwnView):
    """Run the plugin's check on the actor's own value; the result, never the value."""

    async def post(self, request, datasette):
        self.can.require("test")
        limit(self.state.checks, request, "tests")
        result = await personal.check(datasette, self.state, self.entry)
        if not is_htmx(request):  # a page of its own: the result travels in no cookie
            back = datasette.urls.path(MINE) + f"#mine-{self.entry.key}"
            context = await mine_context(datasette, request, self.state, [self.entry])
            title = f"your own {self.entry.name}"
            return await test_page(datasette, request, context, self.entry, result, title, back, "My secrets")
        return await self.row(request, datasette, result=result, focus="test")


async def mine_context(datasette, request, state, entries):
    """What the My secrets templates get; they ask ``allowed_own(entry)``, never decide."""
    context = await list_context(datasette, request, state, [])
    key_problem = await key_fit.key_problem(state)
    context.update(
        entries=entries,
        mine_path=lambda entry, action=None: datasette.urls.path(MINE) + "/" + entry.slug
        + (f"/{action}" if action else ""),
        allowed_own=lambda entry: rules.allowed_own(entry, state.settings, key_problem),
    )
    return context


def owner_of(request):
    """The signed-in actor's id: the owner of every value on these pages."""
    return core.actor_id_of(request.actor)
