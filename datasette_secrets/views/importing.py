"""Importing a pasted .env file at /-/secrets/-/import: a preview, then a confirmation.

The preview holds no value: the pasted text waits on the server, encrypted,
under a one-time token only its author can confirm. Whether a pasted value
equals the stored one is shown only to those the rules let learn about values.
"""

import asyncio


from .. import core, dotenv, imports, key_fit, model, rules
from ..core import Conflict
from .base import SecretsView, is_htmx, read_form, viewer_of
from .context import list_context
from .feedback import redirect_with_message
from .render import render, render_either


class ImportView(SecretsView):
    """Paste a .env block: GET the form; POST it for a preview of what would be stored."""

    async def get(self, request, datasette):
        return await render(datasette, request, "secrets_import.html", await self.context(request, datasette))

    async def post(self, request, datasette):
        state = self.state
        await refuse_without_a_fitting_key(state)
        context = await self.context(request, datasette)
        text = (await read_form(request)).get("dotenv", "")
        viewer = await viewer_of(datasette, request, state)
        try:
            # Off the event loop: a large paste must not hold up other requests.
            entries = await asyncio.to_thread(dotenv.parse, text)
            planned = await imports.plan(
                datasette, state, entries, rules.by_name(datasette, state, viewer),
                count=lambda name: state.reveals.allow(viewer.actor_id),
                actor_id=viewer.actor_id, detail="import preview",
            )
        except dotenv.DotenvError as e:
            context["errors"] = [str(error) for error in e.errors]
            return await import_response(datasette, request, context, 422)
        except imports.ValuesTooLong as e:
            context["errors"] = [str(e)]
            return await import_response(datasette, request, context, 422)
        if not planned:
            context["errors"] = ["There are no NAME=value lines in that text."]
            return await import_response(datasette, request, context, 422)
        context.update(
            planned=planned,
            token=state.imports.add(viewer.actor_id, text),
            env_var=core.env_var,
            mask=model.MASK,
        )
        return await import_response(datasette, request, context)

    async def context(self, request, datasette):
        context = await list_context(datasette, request, self.state, [])
        context.update(planned=None, errors=None, token=None, result=None, htmx=is_htmx(request))
        context["key_problem"] = await key_fit.key_problem(self.state)
        try:
            rules.require_storing(self.state.settings, context["key_problem"])
            context["cannot_store"] = None
        except rules.Refused as refusal:
            # Shown first, with the paste disabled, rather than refusing a preview later.
            context["cannot_store"] = str(refusal.args[0])
        return context


class ImportConfirmView(SecretsView):
    """Store the secrets chosen from a preview, in one transaction."""

    async def post(self, request, datasette):
        state = self.state
        await refuse_without_a_fitting_key(state)
        form = await read_form(request)
        text = state.imports.take(form.get("token", ""), core.actor_id_of(request.actor))
        if text is None:
            raise Conflict("That preview has expired or was already used: paste the .env text again")
        chosen = set(form.getlist("store"))
        # No comparison here: the preview made (and audited) those it was allowed to.
        viewer = await viewer_of(datasette, request, state)
        planned = await imports.plan(
            datasette, state, await asyncio.to_thread(dotenv.parse, text),
            rules.by_name(datasette, state, viewer), count=lambda name: False,
        )
        numbers = await imports.store_planned(
            datasette, state, planned, request.actor, detail="imported from a .env file", only=chosen
        )
        if numbers:
            stored = ", ".join(f"{name} (version {number})" for name, number in numbers.items())
            message = f"Stored {len(numbers)} secret{'s' if len(numbers) != 1 else ''}: {stored}."
        else:
            message = "Nothing was stored: no new or changed secret was chosen."
        if not is_htmx(request):
            return redirect_with_message(datasette, request, datasette.urls.path("/-/secrets"), message)
        context = await list_context(datasette, request, state, [])
        context.update(planned=None, errors=None, token=None, result=message, cannot_store=None)
        return await render(datasette, request, "_secrets_import.html", context)


async def refuse_without_a_fitting_key(state):
    """The rules' answer for storing, before anything is read or planned."""
    rules.require_storing(state.settings, await key_fit.key_problem(state))


async def import_response(datasette, request, context, status=200):
    return await render_either(datasette, request, "secrets_import.html", "_secrets_import.html", context, status)
