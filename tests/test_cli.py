"""The `datasette secrets` command, and configuring the plugin from the command line."""

import base64
import json

from click.testing import CliRunner
from cryptography.fernet import Fernet
from datasette.cli import cli

from datasette_secrets.crypto import Key
from secret_helpers import parse


def generate():
    result = CliRunner().invoke(cli, ["secrets", "generate-encryption-key"])
    assert result.exit_code == 0, result.output
    return result.output


def test_generate_encryption_key_prints_a_fernet_format_key():
    output = generate()
    lines = output.splitlines()
    assert len(lines) == 1
    key = lines[0]
    assert len(key) == 44
    assert len(base64.urlsafe_b64decode(key)) == 32
    assert set(key) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")


def test_generated_key_encrypts_and_decrypts():
    key = generate().strip()
    k = Key(key)
    assert k.decrypt("API_KEY", 1, k.encrypt("API_KEY", 1, "round trip")) == "round trip"
    # the Fernet format, so the published plugin's keys and these are interchangeable
    assert Fernet(key).decrypt(Fernet(key).encrypt(b"x")) == b"x"


def test_generated_keys_differ():
    assert len({generate() for _ in range(5)}) == 5


def test_secrets_group_help_lists_the_command():
    result = CliRunner().invoke(cli, ["secrets", "--help"])
    assert result.exit_code == 0
    assert "generate-encryption-key" in result.output


def serve_get(path, *settings, actor=None):
    args = ["serve", "--memory", "--get", path]
    for name, value in settings:
        args += ["-s", name, value]
    if actor:
        args += ["--actor", json.dumps(actor)]
    return CliRunner().invoke(cli, args)


def test_permission_granted_with_dash_s(example_plugin):
    key = generate().strip()
    result = serve_get(
        "/-/secrets",
        ("permissions.manage-secrets.id", "root"),
        ("plugins.datasette-secrets.encryption_key", key),
        actor={"id": "root"},
    )
    assert result.exit_code == 0, result.output
    page = parse(result.output)
    assert page.select_one("tbody#secret-API_KEY") is not None
    assert page.select_one(".secrets-setup") is None, "the key from -s should be in use"


def test_without_permission_the_page_is_forbidden(example_plugin):
    result = serve_get("/-/secrets", actor={"id": "root"})
    assert result.exit_code != 0
    assert "tbody" not in result.output


def test_malformed_key_on_the_command_line_fails_with_advice(example_plugin):
    result = serve_get("/-/secrets", ("plugins.datasette-secrets.encryption_key", "nope"), actor={"id": "root"})
    assert result.exit_code != 0
    assert "datasette secrets generate-encryption-key" in result.output
