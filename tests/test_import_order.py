"""Import order does not matter: each case runs in a fresh Python.

Datasette loads every installed plugin the first time anything imports
``datasette.plugins``, and registers each plugin module as it is at that
moment. A script or notebook that imported ``datasette_secrets`` before
Datasette used to get this plugin registered half-built, with no hooks:
``/-/secrets`` was a 404 and no hook ran. Each case starts a new interpreter,
with a plugin registered by the script itself or with an installed one (a
distribution on ``PYTHONPATH`` with a ``datasette`` entry point) that imports
``Secret`` and ``get_secret`` from this package at module level, as real
plugins do, while Datasette is loading plugins.
"""

import json
import os
import subprocess
import sys

import pytest

# Ways a script can start: what it imports first.
PRELUDES = {
    "secrets first": "import datasette_secrets\nfrom datasette.app import Datasette",
    "datasette first": "from datasette.app import Datasette\nimport datasette_secrets",
    "public names first": (
        "from datasette_secrets import Secret, get_secret, get_secrets\n"
        "from datasette.app import Datasette"
    ),
    "a submodule first": "import datasette_secrets.views\nfrom datasette.app import Datasette",
    "datasette's package first": (
        "import datasette\nimport datasette_secrets\nfrom datasette.app import Datasette"
    ),
}

INSTALLED_PLUGIN = '''
from datasette import hookimpl
from datasette_secrets import Secret, get_secret  # at import time, as real plugins do


@hookimpl
def register_secrets():
    return [Secret("PLUGIN_KEY", "Registered by an installed plugin")]
'''

SCRIPT = '''
{prelude}
import asyncio
import json

import datasette_secrets
from datasette.plugins import pm
from datasette_secrets import get_secret, get_secrets

KEY = "cGxheXdyaWdodC10ZXN0cy1lbmNyeXB0aW9uLWtleSE="
VALUE = "a-value-set-through-the-page"

if pm.get_plugin("installed") is None:  # no installed plugin: register one, as tests do
    import types

    from datasette import hookimpl
    from datasette_secrets import Secret

    @hookimpl
    def register_secrets():
        return [Secret("PLUGIN_KEY", "Registered by the script")]

    script_plugin = types.ModuleType("script_plugin")
    script_plugin.register_secrets = register_secrets
    pm.register(script_plugin, name="script-plugin")


async def main():
    ds = Datasette(
        config={{
            "plugins": {{"datasette-secrets": {{"encryption_key": KEY}}}},
            "permissions": {{"manage-secrets": {{"id": "root"}}, "reveal-secrets": {{"id": "root"}}}},
        }}
    )
    await ds.invoke_startup()
    cookies = {{"ds_actor": ds.client.actor_cookie({{"id": "root"}})}}
    page = await ds.client.get("/-/secrets", cookies=cookies)
    saved = await ds.client.post(
        "/-/secrets/PLUGIN_KEY", data={{"secret": VALUE, "note": ""}}, cookies=cookies
    )
    static = await ds.client.get("/-/static-plugins/datasette_secrets/secrets.js")
    plugin = pm.get_plugin("secrets")
    return {{
        "page": page.status_code,
        "plugin_key_listed": "PLUGIN_KEY" in page.text,
        "saved": saved.status_code,
        "value": await get_secret(ds, "PLUGIN_KEY"),
        "registered": [secret.name for secret in await get_secrets(ds)],
        "plugin_is_package": plugin is datasette_secrets,
        "hooks": sorted(caller.name for caller in pm.get_hookcallers(plugin)),
        "spec_from": pm.hook.register_secrets.spec.namespace.__name__,
        "installed_plugin_loaded": pm.get_plugin("installed") is not None,
        "static": static.status_code,
    }}


print(json.dumps(asyncio.run(main())))
'''


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory):
    """A directory for PYTHONPATH holding a plugin installed with a datasette entry point."""
    directory = tmp_path_factory.mktemp("site")
    (directory / "installed_secrets_user.py").write_text(INSTALLED_PLUGIN)
    dist_info = directory / "installed_secrets_user-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: installed-secrets-user\nVersion: 0.1\n"
    )
    (dist_info / "entry_points.txt").write_text("[datasette]\ninstalled = installed_secrets_user\n")
    return directory


def run_python(code, pythonpath=None):
    """Run ``code`` in a new interpreter; its last line of output, parsed as JSON."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("DATASETTE_") and name != "PYTHONPATH"
    }
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"the script failed:\n{result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("installed", [False, True], ids=["script plugin", "installed plugin"])
@pytest.mark.parametrize("prelude", PRELUDES.values(), ids=PRELUDES.keys())
def test_any_import_order_registers_the_whole_plugin(prelude, installed, installed_plugin):
    result = run_python(SCRIPT.format(prelude=prelude), installed_plugin if installed else None)
    assert result["installed_plugin_loaded"] == installed
    assert result["plugin_is_package"], "the entry point registers the package itself"
    assert {"register_routes", "startup", "register_actions", "asgi_wrapper"} <= set(result["hooks"])
    assert result["page"] == 200
    assert result["plugin_key_listed"], "the register_secrets hook ran"
    assert result["registered"] == ["PLUGIN_KEY"]
    assert result["saved"] == 302
    assert result["value"] == "a-value-set-through-the-page"
    assert result["spec_from"] == "datasette_secrets.hookspecs"
    assert result["static"] == 200, "static files are found under the package's name"


def test_the_package_defines_everything_before_datasette_loads_plugins():
    """Importing it runs none of its modules that need Datasette: those load on first use."""
    code = (
        "import json, sys\n"
        "import datasette_secrets\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('datasette_secrets.'))))"
    )
    assert run_python(code) == ["datasette_secrets.hookspecs"]


def test_public_names_are_the_real_objects():
    import datasette_secrets
    from datasette_secrets import core, crypto, registry

    assert datasette_secrets.Secret is registry.Secret
    assert datasette_secrets.get_secret is core.get_secret
    assert datasette_secrets.flush_usage is core.flush_usage
    assert datasette_secrets.SecretDecryptionError is crypto.SecretDecryptionError
    assert datasette_secrets.EncryptionKeyError is crypto.EncryptionKeyError
    for name in datasette_secrets.__all__:
        assert getattr(datasette_secrets, name) is not None
    with pytest.raises(AttributeError):
        datasette_secrets.no_such_name
