"""The built site in a real browser: headless Chromium (Debian's), served from localhost,
with every request to another host blocked, so the checks also prove the site works offline.

On every page: no broken images, math typeset by the bundled MathJax, code copy buttons, no
code block that scrolls sideways at 1280 px, each chapter named once in the left navigation;
on notebook pages: the Colab button, pointing at a twin that exists; on lesson pages:
solutions folded until clicked. One browser context serves every page (a reader's browser
keeps its cache too), each page loads once. Screenshots of three pages go to _build/screenshots/.
"""

import functools
import http.server
import re
import shutil
import threading
from pathlib import Path

import pytest
from playwright import sync_api as playwright

import pages  # code/tools/pages.py, put on sys.path by conftest.py

ROOT = pages.ROOT
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = ROOT / "_build" / "screenshots"
SHOWCASE = {  # three representative pages: prose and math, a training run, the status table
    "book/ch03_linear_regression/synthetic_data": "synthetic_data.png",
    "book/ch03_linear_regression/oo_design": "oo_design.png",
    "book/appendix/status": "status.png",
}
TOC_PAGES = pages.toc_files()
NOTEBOOK_PAGES = set(pages.notebook_pages())


def ids(page: Path) -> str:
    return str(page.relative_to(ROOT))


@pytest.fixture(scope="session")
def server(html_root):
    handler = functools.partial(QuietHandler, directory=str(html_root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output readable
        pass


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `apt-get install chromium`", pytrace=False)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def context(browser, server):
    """One browser context for every page, as a reader's browser (its cache is shared), that
    lets only requests to the local server through and lists the others."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.blocked = []

    def only_localhost(route):
        if route.request.url.startswith(server):
            route.continue_()
        else:
            context.blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_localhost)
    yield context
    context.close()


@pytest.fixture
def open_page(context, server):
    tabs = []

    def go(page: Path):
        tab = context.new_page()
        tabs.append(tab)
        tab.goto(f"{server}/{page.relative_to(ROOT).with_suffix('.html')}", wait_until="load")
        return tab

    yield go
    for tab in tabs:
        tab.close()


@pytest.mark.parametrize("page", TOC_PAGES, ids=ids)
def test_page_in_the_browser(open_page, page):
    tab = open_page(page)
    broken = tab.evaluate("""Array.from(document.images)
        .filter(img => !img.complete || img.naturalWidth === 0).map(img => img.src)""")
    assert broken == [], f"broken images: {broken}"

    if tab.locator(".math").count():
        tab.wait_for_selector("mjx-container", state="attached", timeout=15000)
        assert tab.locator("mjx-container").count() >= tab.locator(".math").count()
        assert tab.locator("mjx-merror").count() == 0, "MathJax could not typeset a formula"

    code_cells = tab.locator("div.cell_input").count()
    assert tab.locator("button.copybtn").count() >= code_cells

    if page in NOTEBOOK_PAGES:
        href = tab.locator("a[href*='colab.research.google.com']").first.get_attribute("href")
        twin = re.sub(r"^.*/blob/[^/]+/", "", href)
        assert twin == str(page.relative_to(ROOT).with_suffix(".ipynb"))
        assert (ROOT / twin).is_file()

    # At a laptop's width (the viewport is 1280 px) no code block scrolls sideways.
    too_wide = tab.evaluate("""Array.from(document.querySelectorAll('article pre'))
        .filter(pre => pre.scrollWidth > pre.clientWidth + 1)
        .map(pre => pre.textContent.split('\\n').reduce((a, b) => a.length > b.length ? a : b))""")
    assert too_wide == [], f"code wider than the column at 1280 px, longest lines: {too_wide}"

    # The left navigation names every chapter once (no part caption repeating it).
    nav = tab.evaluate("""Array.from(document.querySelectorAll(
        '.bd-sidebar-primary nav p.caption, .bd-sidebar-primary nav a.reference'))
        .map(e => e.textContent.trim())""")
    chapters = [t for t in nav if re.match(r"\d+\.\s", t)]
    assert chapters and len(chapters) == len(set(chapters)), f"left navigation: {nav}"

    name = SHOWCASE.get(str(page.relative_to(ROOT).with_suffix("")))
    if name:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SCREENSHOTS / name), full_page=False)

    # Lesson pages: every solution folded until the reader clicks it.
    if page in NOTEBOOK_PAGES and page.parent.name.startswith("ch"):
        solutions = tab.locator("div.solution.dropdown")
        assert solutions.count() > 0
        for i in range(solutions.count()):
            body = solutions.nth(i).locator(":scope > :not(.admonition-title)").first
            assert not body.is_visible(), f"solution {i + 1} is open before the reader asks"
        first = solutions.first
        body = first.locator(":scope > :not(.admonition-title)").first
        first.locator("button.toggle-button").click()
        body.wait_for(state="visible", timeout=5000)
        assert body.is_visible()


def test_no_request_leaves_localhost(context, open_page):
    """The pages need nothing from the internet (MathJax, fonts and scripts are bundled):
    no request of this page, nor of any page the tests above opened, went elsewhere."""
    tab = open_page(ROOT / "book" / "ch03_linear_regression" / "synthetic_data.md")
    tab.wait_for_selector("mjx-container", state="attached", timeout=15000)
    assert context.blocked == []
