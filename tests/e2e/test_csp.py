"""The Content-Security-Policy (zsdx/headers.py) in a real browser: the login page, the workbench, the review
screens and the admin lists run their scripts with no CSP violation and no console error; and a file over
the upload limit is refused in the browser, next to its field, and not sent."""

import pytest
from playwright.sync_api import expect

from zsdx.seed import DEMO_PASSWORD, DEMO_USERS

from .helpers import login, logout

PHONES = {role: phone for role, phone, _display, _binding in DEMO_USERS}

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
});
"""


@pytest.fixture()
def watched(page):
    errors = []
    page.add_init_script(RECORD_VIOLATIONS)
    # a failed load is reported by the response listener with its URL (the browser's own /favicon.ico aside)
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda resp: (
            errors.append(f"{resp.status} {resp.url}")
            if resp.status >= 400 and not resp.url.endswith("/favicon.ico")
            else None
        ),
    )
    return page, errors


def _visit(page, errors, url):
    page.goto(url)
    page.wait_for_load_state("load")
    violations = page.evaluate("window.__csp || []")
    assert not violations, f"{url}: CSP violations {violations}"
    assert not errors, f"{url}: console errors {errors}"


def test_pages_run_under_the_csp(watched, live_server):
    page, errors = watched
    _visit(page, errors, "/login/")
    # jQuery ran (nonce accepted): the captcha/tab handlers are bound and the page is interactive
    assert page.evaluate("typeof window.jQuery") == "function"
    assert page.evaluate("typeof window.zsRefreshCsrf") == "function"

    login(page, PHONES["企业"], DEMO_PASSWORD)
    for url in ("/workbench/", "/notifications/", "/info-change/"):
        _visit(page, errors, url)
    logout(page)

    login(page, PHONES["镇街"], DEMO_PASSWORD)
    _visit(page, errors, "/review/")
    logout(page)

    login(page, PHONES["Admin"], DEMO_PASSWORD)
    for url in ("/users/list/", "/users/add", "/roles/list/", "/townview/list/", "/submissionwindowview/list/"):
        _visit(page, errors, url)
    # FAB's search widget is an inline script with the nonce: it ran and filled the filter menu
    page.goto("/townview/list/")
    expect(page.locator("table.table-bordered")).to_be_visible()
    _visit(page, errors, "/announcementadminview/add")
    logout(page)


def test_a_file_over_the_limit_is_refused_in_the_browser(watched, live_server):
    page, errors = watched
    login(page, PHONES["企业"], DEMO_PASSWORD)
    page.goto("/info-change/")
    # the page's limit is MAX_FILE_BYTES (100 MB); lowered here so that a small file stands for a large one
    page.evaluate("document.querySelector('meta[name=\"zs-max-file-bytes\"]').content = '1000'")
    page.set_input_files(
        "#attachments", files=[{"name": "大文件.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-" + b"0" * 5000}]
    )
    expect(page.locator("#attachments-error")).to_contain_text("100M")
    assert page.input_value("#attachments") == ""  # the file is not sent with the form
    expect(page.locator("#attachments").locator("xpath=ancestor::div[contains(@class,'form-group')]")).to_have_class(
        "form-group has-error"
    )
    assert not errors, errors
