"""Open a page in a real browser for the tests: Debian's Chromium (/usr/bin/chromium), driven by
playwright, headless.  The test is skipped with the install step when either is missing (which
CI counts as a failure, tests/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@dataclass
class Visit:
    url: str
    errors: list[str] = field(default_factory=list)  # console errors and uncaught exceptions
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    values: dict[str, Any] = field(default_factory=dict)  # what `evaluate` computed

    @property
    def fetched(self) -> list[str]:
        """Requests other than the page itself and data: URIs (a self-contained page: none)."""
        return [r for r in self.requests if r != self.url and not r.startswith("data:")]


def browse(path: Path, evaluate: dict[str, str],
           then: Callable[[Any], dict[str, Any]] | None = None) -> Visit:
    """Open the file ``path``, evaluate each JavaScript function of ``evaluate`` (name -> source)
    on the page, then run ``then(page)`` (its dict joins the values), and close the browser."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Debian's Chromium is missing ({CHROMIUM}): `sudo apt-get install chromium` "
                    f"(make test installs it when run as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is missing: pip install -e '.[test]'")
    visit = Visit(Path(path).resolve().as_uri())
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("console",
                    lambda m: visit.errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: visit.errors.append(str(e)))
            page.on("request", lambda r: visit.requests.append(r.url))
            page.goto(visit.url)
            visit.values = {name: page.evaluate(js) for name, js in evaluate.items()}
            if then is not None:
                visit.values |= then(page)
        finally:
            browser.close()
    return visit
