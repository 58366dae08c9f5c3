"""What several pages answer with: a secret's row fragment (the list's row,
after a change, a Test or an error about it). Pages import it from here, never
from one another.
"""

from .context import list_context
from .render import render


async def row_fragment(datasette, request, state, entry, mode="view", versions=None, focus=None, **extra):
    """The row's fragment (htmx), with whatever is open in it; a change's result
    (``message`` or a Test's ``result``) also goes to the page's notice."""
    context = await list_context(datasette, request, state, [entry], versions, events=extra.get("events"))
    context.update(entry=entry, mode=mode, versions=versions, focus=focus, notice=True, **extra)
    return await render(datasette, request, "_secrets_row.html", context)
