"""Fragments render in Datasette's own Jinja environment (a synchronous overlay of
it): a site's template overrides, plugins' filters and extra_template_vars work
in a fragment exactly as in a page."""

import os

import jinja2
import pytest
import pytest_asyncio
from datasette import hookimpl

from secret_helpers import HX, ROOT, parse, plugin_module, row_of

ABOUT = "_secrets_about.html"


@hookimpl
def prepare_jinja2_environment(env, datasette):
    env.filters["shout"] = lambda text: f"{text}!".upper()


@hookimpl
def extra_template_vars(template):
    return {"site_motto": f"motto for {template}"}


@pytest_asyncio.fixture
async def overridden(tmp_path, example_plugin, register_plugin, make_datasette):
    register_plugin(
        plugin_module(
            "jinja_plugin",
            prepare_jinja2_environment=prepare_jinja2_environment,
            extra_template_vars=extra_template_vars,
        ),
        "jinja-plugin",
    )
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / ABOUT).write_text(
        '<span class="site-about">{{ entry.name|shout }} {{ entry.name|quote_plus }} {{ site_motto }}</span>'
    )
    ds = make_datasette(template_dir=str(templates))
    await ds.invoke_startup()
    return ds, templates / ABOUT


async def about(ds, htmx):
    if htmx:
        response = await ds.client.get("/-/secrets/API_KEY/row", actor=ROOT, headers=HX)
    else:
        response = await ds.client.get("/-/secrets", actor=ROOT)
    assert response.status_code == 200
    return row_of(parse(response), "API_KEY").select_one(".site-about").get_text()


@pytest.mark.asyncio
@pytest.mark.parametrize("htmx", [True, False], ids=["fragment", "page"])
async def test_a_site_override_with_a_plugin_filter_renders_in_fragments_as_in_pages(overridden, htmx):
    ds, _ = overridden
    text = await about(ds, htmx)
    assert text.startswith("API_KEY! API_KEY motto for ")


@pytest.mark.asyncio
async def test_an_edited_override_shows_without_a_restart(overridden):
    ds, path = overridden
    assert "API_KEY!" in await about(ds, htmx=True)
    path.write_text('<span class="site-about">edited {{ entry.name|lower }}</span>')
    # Jinja notices the change by the file's modification time.
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 5))
    assert await about(ds, htmx=True) == "edited api_key"


@pytest.mark.asyncio
async def test_two_datasettes_set_up_differently_each_render_their_own(
    tmp_path, example_plugin, register_plugin, make_datasette
):
    """Jinja compiles how a filter is called into a template's code: one instance's
    compiled fragment never serves another whose plugin set the filter up otherwise."""
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / ABOUT).write_text('<span class="site-about">{{ entry.name|badge }}</span>')
    with_context = []  # the instances whose badge filter takes Jinja's evaluation context

    @hookimpl
    def prepare_jinja2_environment(env, datasette):
        if any(datasette is other for other in with_context):
            env.filters["badge"] = jinja2.pass_eval_context(lambda eval_ctx, text: f"second {text}")
        else:
            env.filters["badge"] = lambda text: f"first {text}"

    register_plugin(plugin_module("badge_plugin", prepare_jinja2_environment=prepare_jinja2_environment), "badge")
    first = make_datasette(template_dir=str(templates))
    second = make_datasette(template_dir=str(templates))
    with_context.append(second)
    for ds in (first, second):
        await ds.invoke_startup()
    for _ in range(2):
        assert await about(first, htmx=True) == "first API_KEY"
        assert await about(second, htmx=True) == "second API_KEY"


@pytest.mark.asyncio
@pytest.mark.parametrize("htmx", [True, False], ids=["fragment", "page"])
async def test_extra_template_vars_run_once_per_response(
    tmp_path, example_plugin, register_plugin, make_datasette, htmx
):
    calls = []

    @hookimpl
    def extra_template_vars(template, view_name):
        calls.append((template, view_name))
        return {"site_motto": "the motto"}

    register_plugin(plugin_module("counting_vars", extra_template_vars=extra_template_vars), "counting-vars")
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / ABOUT).write_text('<span class="site-about">{{ site_motto }}</span>')
    ds = make_datasette(template_dir=str(templates))
    await ds.invoke_startup()
    assert await about(ds, htmx) == "the motto"  # a page's fragments see what the page got
    expected = "_secrets_row.html" if htmx else "secrets_index.html"
    assert calls == [(expected, "secrets")]
