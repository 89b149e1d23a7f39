"""The built site in a real browser: headless Chromium (Debian's), served from localhost,
with every request to another host blocked, so the checks also prove the site works offline.

On every page, at a laptop's width (1280 px): no broken images, math typeset by the bundled
MathJax, code copy buttons, no code block that scrolls sideways, each chapter named once in
the left navigation; on notebook pages: the Colab button, pointing at a twin that exists; on
lesson pages: solutions folded until clicked.

On every page at a phone's, a tablet's and a laptop's width (390, 768, 1280 px): the article
takes the width the theme leaves it, nothing scrolls sideways but code, outputs and formulas,
and the navigation button opens and closes the navigation. At 1280 and 390 px, in the light
and the dark colour scheme: no violation of WCAG 2.1 A/AA that axe-core finds (its rules with
those tags; see axe_violations for what the phone's run leaves to the laptop's), and the text
and figures in the article keep a contrast of 4.5:1 (tests/site/output_contrast.js). A page
that fails lists each problem with the page, the width, the scheme, the rule and the element.

One browser context serves every page (a reader's browser keeps its cache too); a page loads
once per width and switches colour scheme in place. Screenshots go to _build/screenshots/:
three pages at 1280 px, and one page at every width, in light and (at 390 and 1280) dark mode.
"""

import functools
import http.server
import re
import shutil
import threading
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
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

# Viewports: an iPhone, a tablet held upright, a laptop. From 1200 px on the theme shows the
# page's contents sidebar beside the article; from 992 px the navigation is a sidebar that
# the header's button folds away, below it a dialog that the button opens.
VIEWPORTS = {390: 844, 768: 1024, 1280: 900}
CONTENTS_SIDEBAR_FROM, CONTENTS_SIDEBAR_REM = 1200, 12  # as in book/_static/course.css
WIDE_NAVIGATION = 992
PHONE, LAPTOP = 390, 1280
PHONE_ARTICLE_SHARE = 0.85  # of the viewport's width, at least
NAVIGATION_TIMEOUT_MS = 3000  # for the sidebar to fold or the dialog to open (transitions)
AXE_WIDTHS = (LAPTOP, PHONE)
SCHEMES = ("light", "dark")
AXE = Axe()  # the axe-core that axe-playwright-python ships (pinned in requirements.txt)
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
COLOUR_RULES = ["color-contrast", "link-in-text-block"]  # the WCAG A/AA rules that read colours
MIN_CONTRAST = 4.5  # WCAG's AA ratio for body text
OUTPUT_CONTRAST = (Path(__file__).parent / "output_contrast.js").read_text()
# The page shown at every width and in dark mode (prose, math, code, a figure, a table).
LAYOUT_SHOWCASE = "book/ch03_linear_regression/oo_design"
# What may scroll sideways inside the article: code, cell outputs, formulas and tables, each
# in its own box (a formula cannot wrap: the theme scrolls a display formula, course.css an
# inline one; the theme wraps every table in a scrolling container rather than cut words).
SCROLLERS = (
    "pre, div.highlight, div.cell_output, div.math, span.math, .pst-scrollable-table-container"
)


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

    def go(page: Path, width: int = LAPTOP):
        tab = context.new_page()
        tabs.append(tab)
        tab.set_viewport_size({"width": width, "height": VIEWPORTS[width]})
        tab.goto(f"{server}/{page.relative_to(ROOT).with_suffix('.html')}", wait_until="load")
        if tab.locator(".math").count():
            tab.wait_for_selector("mjx-container", state="attached", timeout=15000)
        return tab

    yield go
    for tab in tabs:
        tab.close()


@pytest.mark.parametrize("width", VIEWPORTS, ids=lambda width: f"{width}px")
@pytest.mark.parametrize("page", TOC_PAGES, ids=ids)
def test_page_in_the_browser(open_page, page, width):
    """The layout and the navigation at this width; axe and the outputs' contrast in both
    colour schemes at the widths in AXE_WIDTHS; the page's content at a laptop's width.
    The layout and accessibility problems of a page are listed together."""
    tab = open_page(page, width)
    problems = layout_problems(tab, width)
    showcase = str(page.relative_to(ROOT).with_suffix("")) == LAYOUT_SHOWCASE
    if showcase:
        screenshot(tab, f"layout-{width}px.png")
    problems += navigation_problems(tab, width)
    if width in AXE_WIDTHS:
        for scheme in SCHEMES:
            set_colour_scheme(tab, scheme)
            problems += [f"{scheme}: {p}" for p in axe_violations(tab, width)]
            short = tab.evaluate(OUTPUT_CONTRAST, MIN_CONTRAST)
            problems += [f"{scheme}: contrast below {MIN_CONTRAST}:1, {s}" for s in short]
            if showcase and scheme == "dark":
                screenshot(tab, f"layout-{width}px-dark.png")
        set_colour_scheme(tab, "light")
    assert not problems, f"{ids(page)} at {width} px:\n" + "\n".join(problems)
    if width == LAPTOP:
        assert_content(tab, page)


def assert_content(tab, page: Path):
    """Images, math, copy buttons, the Colab link, code within the column, the navigation's
    chapters, the folded solutions (opened last: the click changes the page)."""
    broken = tab.evaluate("""Array.from(document.images)
        .filter(img => !img.complete || img.naturalWidth === 0).map(img => img.src)""")
    assert broken == [], f"broken images: {broken}"

    if tab.locator(".math").count():
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
        screenshot(tab, name)

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


def screenshot(tab, name: str):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / name), full_page=False)


def layout_problems(tab, width: int) -> list[str]:
    """The article is as wide as the theme leaves it: the content area, less the contents
    sidebar's width where the theme puts that beside the article (it keeps the room on a page
    without one too), and on a phone most of the screen; neither the page nor anything in it
    scrolls sideways, or runs past the article's edge, except SCROLLERS."""
    found = tab.evaluate(
        """([scrollers, wide, sidebar]) => {
        const article = document.querySelector('.bd-article-container');
        const content = document.querySelector('.bd-content');
        const rem = parseFloat(getComputedStyle(document.documentElement).fontSize);
        const room = content.clientWidth - (innerWidth >= wide ? sidebar * rem : 0);
        const edge = article.getBoundingClientRect().right;
        const describe = (e) => `<${e.localName} class="${e.className}">: `
            + e.textContent.trim().slice(0, 60);
        const inArticle = Array.from(article.querySelectorAll('*'))
            .filter(e => !e.closest(scrollers) && e.checkVisibility());
        return {
            article: article.getBoundingClientRect().width, room,
            page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
            scrolling: Array.from(document.querySelectorAll('body *'))
                .filter(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX)
                    && e.scrollWidth > e.clientWidth + 1 && !e.closest(scrollers)
                    && e.checkVisibility())
                .map(describe),
            outside: inArticle.filter(e => e.getBoundingClientRect().right > edge + 1)
                .map(describe),
        };
    }""",
        [SCROLLERS, CONTENTS_SIDEBAR_FROM, CONTENTS_SIDEBAR_REM],
    )
    problems = []
    if found["article"] < found["room"] - 1:
        problems.append(f"article {found['article']:.0f} px wide of the {found['room']} px free")
    if width == PHONE and found["article"] < PHONE_ARTICLE_SHARE * width:
        problems.append(f"article {found['article']:.0f} px wide on a {width} px phone")
    if found["page"] > 0:
        problems.append(f"the page scrolls sideways by {found['page']} px")
    problems += [f"scrolls sideways: {e}" for e in found["scrolling"]]
    problems += [f"past the article's edge: {e}" for e in found["outside"]]
    return problems


def navigation_problems(tab, width: int) -> list[str]:
    """The header's button shows and hides the chapter navigation: on a wide screen it folds
    the sidebar away and back, on a narrow one it opens the navigation as a dialog that
    Escape closes. Returns the step that failed, if one did."""
    button = tab.locator("button.primary-toggle").locator("visible=true").first
    sidebar = tab.locator("#pst-primary-sidebar nav a.reference").first
    dialog = tab.locator("#pst-primary-sidebar-modal")
    if width >= WIDE_NAVIGATION:
        steps = [
            ("the sidebar is shown", None, sidebar, "visible"),
            ("a click folds it away", button.click, sidebar, "hidden"),
            ("a second click brings it back", button.click, sidebar, "visible"),
        ]
    else:
        steps = [
            ("the navigation is hidden", None, sidebar, "hidden"),
            ("a click opens it", button.click, dialog.locator("nav a.reference").first, "visible"),
            ("Escape closes it", lambda: tab.keyboard.press("Escape"), dialog, "hidden"),
        ]
    failed = []
    for step, action, target, state in steps:
        if action:
            action()
        try:
            target.wait_for(state=state, timeout=NAVIGATION_TIMEOUT_MS)
        except playwright.TimeoutError:
            failed = [f"navigation: it is not so that {step}"]
            break
    tab.mouse.move(-1, -1)  # off the page: no tooltip left, no link shown hovered
    tab.evaluate("document.activeElement.blur()")
    tab.wait_for_function("!document.querySelector('.tooltip')")
    settle(tab)
    return failed


def set_colour_scheme(tab, scheme: str):
    """The reader's system setting; the theme (in its default mode, auto) follows it."""
    tab.emulate_media(color_scheme=scheme)
    tab.wait_for_function("s => document.documentElement.dataset.theme === s", arg=scheme)
    settle(tab)


def settle(tab):
    """Waits for the page's CSS transitions to end (the theme fades its colours from one
    scheme to the other, the sidebar folds): axe measures the colours of the moment."""
    tab.evaluate("""Promise.all(document.getAnimations()
        .filter(a => a.effect.getComputedTiming().endTime < Infinity)
        .map(a => a.finished.catch(() => null)))""")


def axe_violations(tab, width: int) -> list[str]:
    """axe-core's WCAG 2.1 A/AA rules on the page as shown: rule, impact, elements.
    At the phone's width the rules that read colours (COLOUR_RULES) skip the article: its
    colours do not depend on the width (neither the theme nor course.css changes a colour
    with it) and the laptop's run has checked them in the same scheme; they take most of
    axe's time, one check per token of every code block. The header and the navigation,
    which do change with the width, are checked at both."""
    runs = [(None, AXE_OPTIONS)]
    if width != LAPTOP:
        off = {rule: {"enabled": False} for rule in COLOUR_RULES}
        colours = {"runOnly": {"type": "rule", "values": COLOUR_RULES}}
        runs = [(None, {**AXE_OPTIONS, "rules": off}), ({"exclude": [["article"]]}, colours)]
    found = []
    for context, options in runs:
        result = AXE.run(tab, context, {**options, "resultTypes": ["violations"]})
        found += result.response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']}\n"
        + "\n".join(
            f"    {' '.join(n['target'])}: {n['html'][:160]}\n      "
            + n["failureSummary"].splitlines()[-1].strip()
            for n in v["nodes"]
        )
        for v in found
    ]


# Faults planted in a page to show that the checks above can fail: course.css's old rule
# that squeezed the article at every width, figures and outputs without a dark-mode style
# (the book's own figures have an opaque white background; a figure with a transparent one,
# black ink as matplotlib's default, is added to the first output).
PLANTED_FAULTS = """
.bd-main .bd-content .bd-article-container { max-width: calc(100% - 12rem) !important; }
html[data-theme=dark] .bd-content img { background: none !important; filter: none !important; }
html[data-theme=dark] div.cell_output pre { color: #303030 !important; }
"""
PLANTED_FIGURE = """async () => {
    const canvas = Object.assign(document.createElement('canvas'), {width: 200, height: 60});
    const context = canvas.getContext('2d');
    context.font = '24px sans-serif';
    context.fillText('loss', 10, 40);
    const img = Object.assign(new Image(), {src: canvas.toDataURL()});
    document.querySelector('article div.cell_output').append(img);
    await img.decode();
}"""


def test_the_checks_find_planted_faults(open_page):
    tab = open_page(ROOT / f"{LAYOUT_SHOWCASE}.md", PHONE)
    tab.add_style_tag(content=PLANTED_FAULTS)
    tab.evaluate(PLANTED_FIGURE)
    assert any("on a 390 px phone" in p for p in layout_problems(tab, PHONE))
    set_colour_scheme(tab, "dark")
    short = tab.evaluate(OUTPUT_CONTRAST, MIN_CONTRAST)
    assert any(s.startswith("figure") for s in short), short
    assert any(s.startswith("text") for s in short), short

    tab = open_page(ROOT / "book" / "index.md")
    tab.evaluate(
        "document.querySelectorAll('summary').forEach(s => s.removeAttribute('aria-label'))"
    )
    assert any(p.startswith("summary-name") for p in axe_violations(tab, LAPTOP))


def test_no_request_leaves_localhost(context, open_page):
    """The pages need nothing from the internet (MathJax, fonts and scripts are bundled):
    no request of this page, nor of any page the tests above opened, went elsewhere."""
    tab = open_page(ROOT / "book" / "ch03_linear_regression" / "synthetic_data.md")
    tab.wait_for_selector("mjx-container", state="attached", timeout=15000)
    assert context.blocked == []
