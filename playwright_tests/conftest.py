"""Fixtures for the datasette-secrets browser tests.

Each test gets its own Datasette in a subprocess: a fresh internal database,
the example plugin in ``plugins/``, a config file written for it, and the
encryption key and one secret in environment variables. So no test sees
another's secrets. Run this folder as its own pytest invocation (sync
Playwright and pytest-asyncio do not share a process):

    .venv/bin/python -m pytest playwright_tests --screenshot only-on-failure \
        --tracing retain-on-failure --output playwright_tests/screenshots/failures

Page helpers are in helpers.py.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import ENCRYPTION_KEY, ENV_SECRET_VALUE, SIGNING_SECRET, open_secrets, sign_in

HERE = Path(__file__).parent
PLUGINS_DIR = HERE / "plugins"
SYSTEM_CHROMIUM = "/usr/bin/chromium"
DEFAULT_REVEAL_SECONDS = 30
STARTUP_SECONDS = 30


# The browser: Debian's Chromium where it exists (Playwright cannot download
# its own everywhere), otherwise Playwright's own.


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    args = dict(browser_type_launch_args)
    if os.path.exists(SYSTEM_CHROMIUM):
        args["executable_path"] = SYSTEM_CHROMIUM
    args["args"] = [
        *args.get("args", []),
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    return args


# The server


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    reveal_seconds: int
    internal: Path  # its internal database, for rows a test writes directly

    def path(self, path):
        return self.url + path


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def datasette_command():
    """``datasette`` from the same virtualenv as this Python."""
    script = Path(sys.executable).with_name("datasette")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "datasette"]


def write_config(directory, reveal_seconds, secrets=None, settings=None):
    """root may manage and reveal; manager may manage but not reveal;
    ``secrets``: the plugin's ``secrets:`` block (per-secret settings);
    ``settings``: more of the plugin's options (``max_age_days``, say)."""
    plugin = {"encryption_key": {"$env": "DATASETTE_SECRETS_ENCRYPTION_KEY"}, "reveal_seconds": reveal_seconds}
    plugin.update(settings or {})
    if secrets:
        plugin["secrets"] = secrets
    config = {
        "plugins": {"datasette-secrets": plugin},
        "permissions": {
            "manage-secrets": {"id": ["root", "manager"]},
            "reveal-secrets": {"id": "root"},
        },
    }
    path = directory / "datasette.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def start_server(
    directory, reveal_seconds=DEFAULT_REVEAL_SECONDS, extra_secrets=0, scale=False, personal=False, secrets=None,
    settings=None, env=None,
):
    config_path = write_config(directory, reveal_seconds, secrets, settings)
    port = free_port()
    extra_env = env
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATASETTE_SECRETS_")}
    env["DATASETTE_SECRETS_ENCRYPTION_KEY"] = ENCRYPTION_KEY
    env["DATASETTE_SECRETS_ENV_SECRET"] = ENV_SECRET_VALUE
    env["PLAYWRIGHT_EXTRA_SECRETS"] = str(extra_secrets)
    # plugins/scale_secrets.py registers its 36 secrets only when this is 1.
    env["PLAYWRIGHT_SCALE"] = "1" if scale else "0"
    # plugins/personal_secrets.py registers its personal secret only when this is 1.
    env["PLAYWRIGHT_PERSONAL"] = "1" if personal else "0"
    env["DATASETTE_SECRETS_AI_PERSONAL_KEY"] = "sk-shared-site-key-0000"
    env.update(extra_env or {})
    log_path = directory / "datasette.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                *datasette_command(),
                "serve",
                "--host", "127.0.0.1",
                "--port", str(port),
                "--secret", SIGNING_SECRET,
                "--internal", str(directory / "internal.db"),
                "--plugins-dir", str(PLUGINS_DIR),
                "-c", str(config_path),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=directory,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"datasette exited with code {process.returncode} before answering:\n"
                + log_path.read_text(errors="replace")
            )
        try:
            with urllib.request.urlopen(url + "/-/versions.json", timeout=1) as response:
                if response.status == 200:
                    return Server(url, process, reveal_seconds, directory / "internal.db")
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            stop_server(process)
            raise RuntimeError(
                f"datasette did not answer within {STARTUP_SECONDS} seconds:\n"
                + log_path.read_text(errors="replace")
            )
        time.sleep(0.05)


def stop_server(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def start_datasette(tmp_path_factory):
    """Starts a Datasette (reveal_seconds, extra_secrets, scale: the 36 secrets
    of plugins/scale_secrets.py too, personal: plugins/personal_secrets.py's
    personal secret, secrets: the plugin's ``secrets:`` block, settings: more
    plugin options, env: more environment variables); stopped after the test."""
    processes = []

    def start(
        reveal_seconds=DEFAULT_REVEAL_SECONDS, extra_secrets=0, scale=False, personal=False, secrets=None,
        settings=None, env=None,
    ):
        server = start_server(
            tmp_path_factory.mktemp("datasette"), reveal_seconds, extra_secrets, scale, personal, secrets,
            settings, env,
        )
        processes.append(server.process)
        return server

    yield start
    for process in processes:
        stop_server(process)


@pytest.fixture
def server(start_datasette):
    return start_datasette()


# Signed in on the secrets page


@pytest.fixture
def root_page(page, context, server):
    """Signed in as root (manage and reveal), on /-/secrets, window marked."""
    sign_in(context, server, "root")
    open_secrets(page, server)
    return page
