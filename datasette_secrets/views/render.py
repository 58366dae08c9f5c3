"""Rendering: pages through Datasette (with its chrome), fragments through a
synchronous overlay of Datasette's own Jinja environment.

Datasette's environment is asynchronous, which costs about half a millisecond
per rendered row. Fragments (``_secrets_*.html``) need nothing asynchronous,
so they render in ``environment.overlay(enable_async=False)``: the same
loader (a site's ``--template-dir`` overrides, reloaded when edited), the
same filters and globals (``quote_plus``, and whatever plugins add in
``prepare_jinja2_environment``), and a template cache and compiled code of
its own. Fragments get ``extra_template_vars`` as pages do. Pages embed
fragments with ``fragment(name)``.
"""

import weakref

import jinja2
from datasette import Response
from datasette.plugins import pm
from datasette.utils import await_me_maybe
from markupsafe import Markup

from .base import VARY, is_htmx
from .feedback import clear_flash, read_flash


class SharedBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates kept in memory, shared by the environments that use it.

    Only synchronous overlays use this one: Jinja keys compiled code by
    template name and source, not by sync or async, so the two must not share.
    """

    def __init__(self):
        self.compiled = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED = SharedBytecodeCache()  # every Datasette instance in the process shares it
OVERLAYS = weakref.WeakKeyDictionary()  # Datasette's environment -> its synchronous overlay


def fragments(datasette, request=None):
    """The synchronous overlay of the environment Datasette uses for ``request``."""
    base = datasette.get_jinja_environment(request)
    overlay = OVERLAYS.get(base)
    if overlay is None:
        overlay = OVERLAYS[base] = base.overlay(
            enable_async=False,
            cache_size=400,  # a cache of its own: the base's holds async-compiled templates
            bytecode_cache=COMPILED,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    return overlay


async def extra_template_vars(datasette, request, template):
    """What plugins' ``extra_template_vars`` hooks add, as Datasette gathers it for pages."""
    found = {}
    for extra in pm.hook.extra_template_vars(
        template=template, database=None, table=None, columns=None,
        view_name="secrets", request=request, datasette=datasette,
    ):
        extra = await await_me_maybe(extra)
        if extra:
            found.update(extra)
    return found


async def render(datasette, request, template, context, status=200):
    """A page (through Datasette, with its chrome) or a fragment (``_`` names)."""
    environment = fragments(datasette, request)
    extra = await extra_template_vars(datasette, request, template)
    context = {**extra, "urls": datasette.urls, "request": request, **context}
    flash = None
    if template.startswith("_"):
        html = environment.get_template(template).render(context)
    else:
        # A change's message left by a redirect (feedback.redirect_with_message), shown once.
        flash = context["flash"] = read_flash(datasette, request)
        context["fragment"] = lambda name: Markup(environment.get_template(name).render(context))
        html = await datasette.render_template(template, context, request=request)
    response = Response.html(html, status=status, headers=dict(VARY))
    if flash:
        clear_flash(datasette, response)
    return response


async def test_page(datasette, request, context, entry, result, title, back_url, back_label):
    """A Test's result as a page of its own, for the actor who ran it without
    JavaScript: it travels in no cookie and is kept nowhere."""
    context.update(entry=entry, result=result, title=title, back_url=back_url, back_label=back_label)
    return await render(datasette, request, "secrets_test.html", context)


async def render_either(datasette, request, page, fragment, context, status=200):
    """The fragment for an htmx request, the whole page otherwise (same URL, Vary)."""
    template = fragment if is_htmx(request) else page
    return await render(datasette, request, template, context, status)
