"""The plugin's static files: htmx 4.0.1 (with its license), the stylesheet and script."""

from pathlib import Path

import pytest

import datasette_secrets
from secret_helpers import ROOT, parse

STATIC = Path(datasette_secrets.__file__).parent / "static"
FILES = {
    "htmx-4.0.1.min.js": "javascript",
    "htmx-4.0.1.LICENSE": None,
    "secrets.css": "text/css",
    "secrets.js": "javascript",
}


@pytest.mark.asyncio
@pytest.mark.parametrize("filename,content_type", FILES.items(), ids=FILES.keys())
async def test_static_files_are_served(filename, content_type, ds):
    response = await ds.client.get(f"/-/static-plugins/datasette_secrets/{filename}")
    assert response.status_code == 200
    assert response.content == (STATIC / filename).read_bytes()
    if content_type:
        assert content_type in response.headers["content-type"]


def test_vendored_htmx_is_4_0_1_with_its_license():
    assert (STATIC / "htmx-4.0.1.min.js").read_text().startswith("var htmx=")
    assert "BSD" in (STATIC / "htmx-4.0.1.LICENSE").read_text()


@pytest.mark.asyncio
async def test_pages_reference_assets_that_load(ds):
    page = parse(await ds.client.get("/-/secrets", actor=ROOT))
    urls = [s["src"] for s in page.find_all("script", src=True) if "datasette_secrets" in s["src"]]
    urls += [link["href"] for link in page.find_all("link", rel="stylesheet") if "datasette_secrets" in link["href"]]
    assert any(url.split("?")[0].endswith("/htmx-4.0.1.min.js") for url in urls)
    assert any(url.split("?")[0].endswith("/secrets.js") for url in urls)
    assert any(url.split("?")[0].endswith("/secrets.css") for url in urls)
    for url in urls:
        assert (await ds.client.get(url)).status_code == 200, url
