"""The audit log and the key panel, in the browser."""

import re
import sqlite3

from cryptography.fernet import Fernet
from playwright.sync_api import expect

from helpers import ENCRYPTION_KEY, assert_accessible, assert_no_page_load, mark, row, seed, snap


def audit_rows(page):
    return page.locator("table.secrets-audit tbody tr")


def test_audit_log_filters_in_place(root_page, context, server):
    page = root_page
    seed(context, server, "ALPHA_API_KEY", "alpha-audit-value", "first")
    seed(context, server, "BETA_TOKEN", "beta-audit-value")
    page.reload()
    row(page, "ALPHA_API_KEY").get_by_role("button", name="Reveal ALPHA_API_KEY").click()
    expect(page.locator(".secret-revealed-value")).to_have_text("alpha-audit-value")

    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    expect(audit_rows(page)).to_have_count(3)
    expect(audit_rows(page).first).to_contain_text("Revealed")
    expect(page.locator("body")).not_to_contain_text("alpha-audit-value")
    mark(page)

    page.get_by_label("Action").select_option(label="Stored a new version")
    expect(audit_rows(page)).to_have_count(2)
    expect(page).to_have_url(re.compile(r"action=set"))
    page.get_by_label("Secret").fill("BETA_TOKEN")
    page.get_by_label("Secret").press("Enter")
    expect(audit_rows(page)).to_have_count(1)
    expect(audit_rows(page).first).to_contain_text("BETA_TOKEN")
    assert_no_page_load(page)
    snap(page, "audit-log")
    assert_accessible(page, "audit log")

    json = context.request.get(server.path("/-/secrets/-/audit.json?secret=BETA_TOKEN")).json()
    assert [(r["secret"], r["action"]) for r in json["rows"]] == [("BETA_TOKEN", "set")]


def test_key_panel_re_encrypts_legacy_rows_in_place(root_page, context, server):
    page = root_page
    seed(context, server, "ALPHA_API_KEY", "alpha-current-format")
    # A row as datasette-secrets 0.3 wrote it: a Fernet token under the same key.
    token = Fernet(ENCRYPTION_KEY).encrypt(b"beta-from-0.3")
    conn = sqlite3.connect(server.internal)
    conn.execute(
        "insert into datasette_secrets (name, version, encrypted, encryption_key_name, created_at, updated_at)"
        " values ('BETA_TOKEN', 1, ?, 'default', datetime('now'), datetime('now'))",
        [token],
    )
    conn.commit()
    conn.close()

    page.get_by_role("link", name="Encryption keys").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Encryption keys")
    table = page.locator("table.secrets-key-table")
    expect(table.locator("tr", has_text="current key")).to_contain_text("1")
    expect(table.locator("tr", has_text="legacy Fernet rows")).to_contain_text("1")
    assert_accessible(page, "key panel")
    mark(page)

    page.get_by_role("button", name="Re-encrypt everything with the current key").click()
    expect(page.locator("#secrets-status")).to_have_text("Re-encrypted 1 stored version with the current key.")
    expect(page.get_by_text("Re-encrypted 1 stored version")).to_have_count(1)
    expect(table.locator("tr", has_text="current key")).to_contain_text("2")
    expect(table.locator("tr", has_text="legacy Fernet rows")).to_have_count(0)
    expect(page.get_by_text("Every stored version is encrypted with the current key.")).to_be_visible()
    assert_no_page_load(page)
    snap(page, "key-panel-rotated")

    # The re-encrypted value still reads.
    page.goto(server.path("/-/secrets"))
    row(page, "BETA_TOKEN").get_by_role("button", name="Reveal BETA_TOKEN").click()
    expect(page.locator(".secret-revealed-value")).to_have_text("beta-from-0.3")
