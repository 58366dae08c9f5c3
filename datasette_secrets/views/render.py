"""Rendering: pages through Datasette (with its chrome), fragments through a
synchronous overlay of Datasette's own Jinja environment.

Datasette's environment is asynchronous, which costs about half a millisecond
per rendered row. Fragments (``_secrets_*.html``) need nothing asynchronous,
so they render in ``environment.overlay(enable_async=False)``: the same
loader (a site's ``--template-dir`` overrides, reloaded when edited), the
same filters and globals (``quote_plus``, and whatever plugins add in
``prepare_jinja2_environment``), a template cache of its own, and compiled
code shared only with environments that compile alike. Fragments get
``extra_template_vars`` as pages do. Pages embed fragments with
``fragment(name)``.
"""

import weakref

import jinja2
from datasette import Response
from datasette.plugins import pm
from datasette.utils import await_me_maybe
from markupsafe import Markup

from .base import VARY, is_htmx
from .feedback import clear_flash, read_flash


# What Jinja's compiled code depends on in an environment besides the source (its
# syntax, sync or async, autoescape, finalize): read when compiling, never after.
COMPILE_OPTIONS = (
    "block_start_string", "block_end_string", "variable_start_string", "variable_end_string",
    "comment_start_string", "comment_end_string", "line_statement_prefix", "line_comment_prefix",
    "trim_blocks", "lstrip_blocks", "newline_sequence", "keep_trailing_newline",
    "optimized", "is_async", "autoescape", "finalize",
)


def compiles_as(environment):
    """A key equal for two environments only if they compile every template alike,
    or None (no caching) if some part of it cannot be a key.

    Jinja bakes into compiled code more than the source: the options above, the
    extensions, and how each filter and test is called (with the context or not,
    or its result, folded at compile time). So the filters and tests are part of
    the key by identity: a plugin that sets up one Datasette's environment
    differently from another's gets code of its own.
    """
    try:
        key = (
            type(environment),
            tuple(getattr(environment, option) for option in COMPILE_OPTIONS),
            frozenset((name, type(extension)) for name, extension in environment.extensions.items()),
            frozenset(environment.filters.items()),
            frozenset(environment.tests.items()),
        )
        hash(key)
    except TypeError:
        return None
    return key


class SharedBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates kept in memory, per kind of Jinja environment.

    Shared by every Datasette instance in the process whose environment
    compiles alike (``compiles_as``), so a new instance does not compile the
    fragments again; never by two that differ (sync and async, a plugin's
    filter, a site's syntax). Jinja's own key, the template's name and file,
    with a checksum of its source, does the rest.
    """

    LIMIT = 1000  # templates kept, oldest forgotten first (environments made per request stay bounded)

    def __init__(self):
        self.compiled = {}  # (compiles_as(environment), bucket key) -> code

    def load_bytecode(self, bucket):
        kind = compiles_as(bucket.environment)
        code = self.compiled.get((kind, bucket.key)) if kind is not None else None
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket):
        kind = compiles_as(bucket.environment)
        if kind is not None:
            self.compiled[kind, bucket.key] = bucket.bytecode_to_string()
            if len(self.compiled) > self.LIMIT:
                del self.compiled[next(iter(self.compiled))]


COMPILED = SharedBytecodeCache()
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
    """What plugins' ``extra_template_vars`` hooks add to a fragment, as Datasette
    gathers it for pages (``view_name`` "secrets" for both)."""
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
    context = {"urls": datasette.urls, "request": request, **context}
    flash = None
    if template.startswith("_"):
        extra = await extra_template_vars(datasette, request, template)
        html = environment.get_template(template).render({**extra, **context})
    else:
        # A change's message left by a redirect (feedback.redirect_with_message), shown once.
        flash = context["flash"] = read_flash(datasette, request)
        # Datasette gathers extra_template_vars for the page; its fragments render
        # in the page's own context, so the hooks run once.
        context["fragment"] = jinja2.pass_context(
            lambda page, name: Markup(environment.get_template(name).render(page.get_all()))
        )
        html = await datasette.render_template(template, context, request=request, view_name="secrets")
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
