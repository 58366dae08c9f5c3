"""The list renders its rows from macros imported once per page (issue 21, weight
and speed): no template is looked up (and its file stat'ed) per row; and a
site's own _secrets_value.html or _secrets_about.html (a plain template, not
the plugin's macro) still renders in every row, on the list and in a row's
fragment."""

import jinja2
import pytest

from datasette_secrets import Secret
from secret_helpers import HX, ROOT, parse, row_of, secrets_plugin, store_value

NAMES = [f"KEY_{i}" for i in range(12)]


@pytest.fixture
def lookups(monkeypatch):
    """Every template name Jinja is asked for, in order."""
    asked = []
    original = jinja2.Environment.get_template

    def counted(self, name, *args, **kwargs):
        asked.append(name if isinstance(name, str) else getattr(name, "name", name))
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "get_template", counted)
    return asked


@pytest.mark.asyncio
async def test_a_page_of_rows_looks_up_its_templates_once_not_per_row(
    register_plugin, make_datasette, lookups
):
    register_plugin(secrets_plugin(*(Secret(name, description=f"About {name}") for name in NAMES)), "rows-plugin")
    ds = make_datasette()
    await ds.invoke_startup()
    for name in NAMES[:3]:
        await store_value(ds, name, f"value-of-{name}-0123456789")
    counts = {}
    for q in ("KEY_1", "KEY"):  # one row (KEY_1, KEY_10, KEY_11: three), then all twelve
        await ds.client.get("/-/secrets", actor=ROOT, params={"q": q})  # compiled and cached
        lookups.clear()
        page = await ds.client.get("/-/secrets", actor=ROOT, params={"q": q})
        rows = len(parse(page).select("tbody.secret"))
        counts[rows] = len(lookups)
    assert sorted(counts) == [3, 12]
    assert counts[3] == counts[12], lookups  # the same lookups for 3 rows and for 12


OVERRIDES = {
    "_secrets_value.html": '<span class="site-value">{{ entry.name|lower }}</span>',
    "_secrets_about.html": '<span class="site-about">about {{ entry.name|lower }}</span>',
}


@pytest.mark.asyncio
@pytest.mark.parametrize("template", sorted(OVERRIDES))
async def test_a_site_override_of_a_row_part_renders_in_every_row(
    tmp_path, example_plugin, make_datasette, template
):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / template).write_text(OVERRIDES[template])
    ds = make_datasette(template_dir=str(templates))
    await ds.invoke_startup()
    await store_value(ds, "API_KEY", "value-of-api-key-0123456789")
    shown = "site-value" if template == "_secrets_value.html" else "site-about"
    page = parse(await ds.client.get("/-/secrets", actor=ROOT))
    rows = page.select("tbody.secret")
    assert rows and all(row.select_one(f".{shown}") is not None for row in rows)
    assert row_of(page, "API_KEY").select_one(f".{shown}").get_text().endswith("api_key")
    fragment = await ds.client.get("/-/secrets/API_KEY/row", actor=ROOT, headers=HX)
    assert fragment.status_code == 200
    assert row_of(parse(fragment), "API_KEY").select_one(f".{shown}") is not None
