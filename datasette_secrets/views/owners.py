"""Who has a value of their own for a personal secret, for admins: /-/secrets/NAME/owners.

An admin (``manage-secrets``) sees each owner, resolved with one
``actors_from_ids`` call, and may delete an owner's value (audited; the
value is gone from the owner's list for good, its rows kept marked deleted).
A plain page with plain forms: it is visited rarely, from the list's link.
Nothing here reads a personal value: no reveal, copy or test, root included.
"""

from datasette import NotFound

from .. import personal, store_personal
from .base import SecretView, read_form
from .context import display_name, list_context
from .feedback import redirect_with_message
from .render import render


class OwnersView(SecretView):
    async def prepare(self, request, datasette):
        await super().prepare(request, datasette)
        if not (self.entry.secret and self.entry.secret.personal):
            raise NotFound(f"{self.entry.name} is not a personal secret")

    async def get(self, request, datasette):
        return await self.page(request, datasette)

    async def post(self, request, datasette):
        owner = (await read_form(request)).get("actor", "")
        owners = (await store_personal.owners(self.state.db)).get(self.entry.name, [])
        if owner not in owners:
            raise NotFound(f"That actor has no value of their own for {self.entry.name}")
        await personal.delete(
            datasette, self.state, self.entry.name, owner, request.actor, detail="deleted by an admin"
        )
        url = datasette.urls.path(f"/-/secrets/{self.entry.slug}/owners")
        return redirect_with_message(datasette, request, url, f"Deleted {owner}'s own value of {self.entry.name}.")

    async def page(self, request, datasette):
        owners = (await store_personal.owners(self.state.db)).get(self.entry.name, [])
        actors = await datasette.actors_from_ids(owners) if owners else {}
        context = await list_context(datasette, request, self.state, [self.entry])
        context.update(entry=self.entry, owners=owners, owner_name=lambda id: display_name(actors, id))
        return await render(datasette, request, "secrets_owners.html", context)
