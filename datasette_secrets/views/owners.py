"""Who has a value of their own for a personal secret, for admins: /-/secrets/NAME/owners.

An admin (``manage-secrets``) sees each owner, resolved with one
``actors_from_ids`` call, and may delete an owner's value (audited; the
value is gone from the owner's list for good, its rows kept marked deleted).
A delete is asked, then done, as on the list: ``?delete=ACTOR`` shows the
confirmation under that person's row (with htmx, that row alone; without,
the page with it open), whose POST deletes; ``?row=ACTOR`` is the row as it
is (Cancel, with htmx). The result takes the row's place (htmx), or shows
on the page a redirect lands on.
Nothing here reads a personal value: no reveal, copy or test, root included.
"""

from datasette import NotFound

from .. import model, personal, store_personal
from .base import SecretView, is_htmx, read_form
from .context import display_name, list_context
from .feedback import redirect_with_message
from .render import render


class OwnersView(SecretView):
    async def prepare(self, request, datasette):
        await super().prepare(request, datasette)
        if not (self.entry.secret and self.entry.secret.personal):
            raise NotFound(f"{self.entry.name} is not a personal secret")

    async def get(self, request, datasette):
        owners = await self.owners()
        asked, shown = request.args.get("delete"), request.args.get("row")
        for owner in (asked, shown):
            if owner is not None:
                self.require_owner(owner, owners)
        context = await self.context(datasette, request, owners)
        one = asked if asked is not None else shown
        if is_htmx(request) and one is not None:
            context.update(owner=one, mode="view" if asked is None else "confirm", focus=asked is None)
            return await render(datasette, request, "_secrets_owner.html", context)
        context.update(confirm=asked)
        return await render(datasette, request, "secrets_owners.html", context)

    async def post(self, request, datasette):
        owner = (await read_form(request)).get("actor", "")
        owners = await self.owners()
        self.require_owner(owner, owners)
        await personal.delete(
            datasette, self.state, self.entry.name, owner, request.actor, detail="deleted by an admin"
        )
        context = await self.context(datasette, request, [owner])
        who = context["owner_name"](owner)
        message = f"Deleted {who}'s own value of {self.entry.name}. {self.then(who, done=True)}"
        if is_htmx(request):
            context.update(owner=owner, mode="done", message=message, remaining=len(owners) - 1)
            return await render(datasette, request, "_secrets_owner.html", context)
        url = datasette.urls.path(f"/-/secrets/{self.entry.slug}/owners")
        return redirect_with_message(datasette, request, url, message)

    async def owners(self):
        """The ids of everyone with a live own value of this secret."""
        return (await store_personal.owners(self.state.db)).get(self.entry.name, [])

    def require_owner(self, owner, owners):
        # The id is not repeated: a form field can be megabytes.
        if owner not in owners:
            raise NotFound(f"That actor has no value of their own for {self.entry.name}")

    def then(self, who, done=False):
        """What that person's plugins get once their own value is gone."""
        verb = "now" if done else "then"
        if self.entry.has_value:
            return f"{who}'s plugins {verb} use the shared value."
        return f"{who}'s plugins {verb} get no value: no shared value is set."

    async def context(self, datasette, request, owners):
        actors = await datasette.actors_from_ids(owners) if owners else {}
        context = await list_context(datasette, request, self.state, [self.entry])
        context.update(
            entry=self.entry,
            owners=owners,
            owner_name=lambda id: display_name(actors, id),
            owner_key=owner_key,
            then=self.then,
        )
        return context


def owner_key(actor_id):
    """An actor id as a token safe in an HTML id: as it is if it can be, else "-" and its hex."""
    return actor_id if model.SAFE_KEY.fullmatch(actor_id) else "-" + actor_id.encode().hex()
