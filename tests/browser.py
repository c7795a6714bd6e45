"""Headless Chromium for the end-to-end tests, and the steps a person takes in it.

Selenium 4.2 (pinned by dash[testing]) uses the system's chromium and chromedriver and never
downloads a browser, so a machine without them gets an error here, never a skipped test.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

T = TypeVar("T")

TIMEOUT = 15  # seconds for a page, a redirect or a callback's answer to show up

# axe-core, from the npm package installed beside the test provider (tests/idp, `npm ci`).
AXE = Path(__file__).resolve().parent / "idp" / "node_modules" / "axe-core" / "axe.min.js"
# What fails a page: axe's two worst impact levels ("minor" and "moderate" are reported by axe too).
BLOCKING_IMPACTS = ("serious", "critical")
# Tabs tried before a control counts as out of the keyboard's reach.
MAX_TABS = 40

CHROMIUM_ARGS = (
    "--headless=new",  # no display on CI: without it Chromium hangs, then fails
    "--no-sandbox",  # needed when running as root (containers, CI)
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",  # a closed network: no calls home
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
    "--window-size=1280,1024",
)


def new_chrome(*extra_args: str) -> WebDriver:
    """A fresh headless Chromium with empty cookie jars, keeping its console log for the checks."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        raise RuntimeError(
            "the end-to-end tests need Chromium and ChromeDriver on PATH "
            "(Debian: apt-get install chromium chromium-driver)"
        )
    options = Options()
    options.binary_location = browser
    for arg in (*CHROMIUM_ARGS, *extra_args):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    chrome.set_page_load_timeout(TIMEOUT * 2)
    return chrome


def until(driver: WebDriver, read: Callable[[WebDriver], T], done: Callable[[T], bool], failure: str) -> T:
    """Read the page until ``done(value)``; fail with ``failure`` and the last value read.

    React replaces nodes when it renders again: a read that catches a node being replaced, or
    finds nothing yet, is simply tried again.
    """
    last: list[T] = []

    def attempt(d: WebDriver) -> bool:
        try:
            value = read(d)
        except (NoSuchElementException, StaleElementReferenceException):
            return False
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return False
            raise
        last[:] = [value]
        return done(value)

    try:
        WebDriverWait(driver, TIMEOUT).until(attempt)
    except TimeoutException:
        seen = repr(last[0]) if last else "nothing"
        raise AssertionError(
            f"{failure}; saw {seen} at {driver.current_url}, on a page saying: {page_text(driver)!r}"
        ) from None
    return last[0]


def page_text(driver: WebDriver, limit: int = 500) -> str:
    """The start of what the page says: enough to tell an error page from the expected one."""
    try:
        return driver.find_element(By.TAG_NAME, "body").text[:limit]
    except WebDriverException:
        return ""


def element(driver: WebDriver, css: str) -> WebElement:
    """The element once it is on the page (Dash renders after the page has loaded)."""
    return until(driver, lambda d: d.find_element(By.CSS_SELECTOR, css), bool, f"no {css}")


def text_of(driver: WebDriver, css: str) -> str:
    return until(driver, lambda d: d.find_element(By.CSS_SELECTOR, css).text, _any, f"no {css}")


def texts(driver: WebDriver, css: str) -> list[str]:
    """The texts of every element ``css`` finds, read in one go."""
    return until(driver, lambda d: [e.text for e in d.find_elements(By.CSS_SELECTOR, css)], _any, css)


def wait_for_text(driver: WebDriver, css: str, text: str) -> None:
    """Until ``css`` contains ``text``: how a callback's answer becomes visible."""
    until(
        driver,
        lambda d: d.find_element(By.CSS_SELECTOR, css).text,
        lambda shown: text in shown,
        f"{css} never showed {text!r}",
    )


def wait_for_url(driver: WebDriver, url: str) -> None:
    """Until the browser is at ``url``."""
    until(
        driver,
        lambda d: d.current_url,
        lambda current: current == url,
        f"the browser never got to {url}",
    )


def choose(driver: WebDriver, dropdown_css: str, label: str) -> None:
    """Pick an option of a Dash 4 dcc.Dropdown by its label, clicking as a person does."""
    element(driver, dropdown_css).click()

    def option(d: WebDriver) -> WebElement | None:
        found = d.find_elements(By.CSS_SELECTOR, ".dash-dropdown-options .dash-dropdown-option")
        return next((o for o in found if o.text == label), None)

    until(driver, option, bool, f"the dropdown {dropdown_css} offers no {label!r}").click()


def sign_in_at_provider(driver: WebDriver, issuer: str, login: str, password: str = "any-password") -> None:
    """Fill in the test provider's login form, then its consent page if it shows one.

    The form must appear: a browser that comes back signed in without it still had a session there.
    """
    interaction = issuer + "/interaction/"
    login_page = until(
        driver, lambda d: d.current_url, lambda url: url.startswith(interaction), "no login page"
    )
    form = element(driver, "form")
    form.find_element(By.NAME, "login").send_keys(login)
    form.find_element(By.NAME, "password").send_keys(password)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    next_page = _wait_until_left(driver, login_page)
    if next_page.startswith(interaction):  # each step of the provider has a page of its own
        consent = element(driver, "form")
        consent.find_element(By.CSS_SELECTOR, "input[name=prompt][value=consent]")
        consent.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        _wait_until_left(driver, next_page)


def console_errors(driver: WebDriver, origin: str) -> list[str]:
    """Severe console messages about pages and files of ``origin`` since the last call.

    The provider's pages are left out: they are not the app under test.
    """
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and entry["message"].startswith(origin + "/")
    ]


def _any(_value: object) -> bool:
    return True


def _wait_until_left(driver: WebDriver, url: str) -> str:
    """Until the browser has moved on from ``url``; the new address.

    Waiting for the old form to go stale is not enough: while Chromium swaps documents, the old
    node can answer "does not belong to the document" rather than "stale".
    """
    return until(driver, lambda d: d.current_url, lambda current: current != url, f"stuck at {url}")


def assert_accessible(driver: WebDriver, page_name: str) -> None:
    """Run axe-core on the page as it is now; fail on any serious or critical violation.

    Wait for the page's own content first: a Dash page checked before it rendered proves nothing.
    """
    if not AXE.is_file():
        raise RuntimeError(f"axe-core is missing at {AXE}: run `npm ci` in {AXE.parents[2]}")
    driver.execute_script(AXE.read_text())
    violations = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(result => done(result.violations), error => done([{id: 'axe-error', impact: 'critical',"
        " help: String(error), nodes: []}]));"
    )
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"{page_name} ({driver.current_url}) is not accessible:\n" + "\n".join(
        f"- {v['impact']} {v['id']}: {v['help']}; " + "; ".join(node["html"][:160] for node in v["nodes"][:3])
        for v in blocking
    )


def tab_to(driver: WebDriver, css: str) -> WebElement:
    """Press Tab until the control ``css`` has the focus, as a keyboard user would; it must show it."""
    target = element(driver, css)
    for _ in range(MAX_TABS):
        press(driver, Keys.TAB)
        focused = driver.switch_to.active_element
        if focused == target:
            outline = driver.execute_script(
                "const s = getComputedStyle(arguments[0]); return [s.outlineStyle, s.outlineWidth];", focused
            )
            assert outline[0] != "none" and outline[1] != "0px", f"{css} has the focus but does not show it"
            return focused
    raise AssertionError(f"{MAX_TABS} presses of Tab never reached {css} at {driver.current_url}")


def press(driver: WebDriver, *keys: str) -> None:
    """Keys typed into whatever has the focus, no element picked by the test."""
    ActionChains(driver).send_keys(*keys).perform()
