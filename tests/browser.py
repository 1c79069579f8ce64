"""Report pages rendered in a real headless Chromium (imported by tests, like engines.py).

Debian's ``chromium`` (``make test`` installs it) driven by Playwright's sync API; Playwright's
own browser download is never used. tests/conftest.py launches ONE browser per test session
(fixture ``browser``) and binds it to each test's ``tmp_path`` (fixtures ``render_page`` and
``print_pdf``)::

    def test_summary_page(render_page, print_pdf, tmp_path):
        page = render_page(tmp_path / "summary.html")
        assert "Customers" in page.text
        assert page.broken_images == []
        assert page.failed_requests == []  # self-contained: nothing but itself and data: URIs
        assert page.console_errors == []
        assert print_pdf(tmp_path / "summary.html") >= 1

Where Playwright or Chromium is absent the fixtures skip through ``engines.missing`` (which
fails instead under ``JOURNEY_REQUIRE_ALL=1``, as in CI).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from engines import missing, require_module

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

#: Where Debian's package puts the browser, when ``chromium`` is not on PATH.
CHROMIUM = Path("/usr/bin/chromium")

#: The window a page is laid out in (CSS pixels; one screenshot pixel per CSS pixel).
VIEWPORT = {"width": 1280, "height": 800}

#: The start of Chromium's console error for a request this module aborted.
BLOCKED = "Failed to load resource: net::ERR_BLOCKED_BY_CLIENT"

#: Milliseconds any one step (load, screenshot, print) may take before the test fails.
TIMEOUT_MS = 30_000

# Every <img>, loaded eagerly and decoded (or failed), then those that have no pixels.
_BROKEN_IMAGES = """async () => {
  const images = Array.from(document.images);
  for (const image of images) if (image.loading === "lazy") image.loading = "eager";
  await Promise.all(images.map((image) => image.decode().catch(() => null)));
  return images.filter((image) => image.naturalWidth === 0)
    .map((image) => ({src: image.getAttribute("src") ?? "", alt: image.alt}));
}"""


class BrokenImage(NamedTuple):
    """An ``<img>`` that did not render: its ``src`` attribute (a data: URI cut to 80
    characters) and its ``alt`` text."""

    src: str
    alt: str


@dataclass
class Watch:
    """What a page did while open: console errors (``console.error``, Chromium's own errors
    and uncaught exceptions, as ``"console: ..."`` / ``"pageerror: ..."``; not the errors for
    the requests aborted here) and forbidden requests (their URLs, in order)."""

    allowed: str
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Rendered:
    """A page as Chromium showed it.

    ``text``: the visible text (``inner_text`` of ``<body>``); ``title``: ``document.title``;
    ``broken_images``: every ``<img>`` with ``naturalWidth == 0`` once loaded;
    ``console_errors``: console errors and uncaught exceptions, in order;
    ``failed_requests``: every URL requested other than the file itself and ``data:`` URIs
    (blocked, so a page that is not self-contained shows here and nowhere waits on a network);
    ``screenshot``: a full-page PNG, one pixel per CSS pixel, in the test's tmp folder.
    """

    path: Path
    text: str
    title: str
    broken_images: list[BrokenImage]
    console_errors: list[str]
    failed_requests: list[str]
    screenshot: Path


def chromium_executable() -> Path:
    """The system Chromium (``chromium`` on PATH, else /usr/bin/chromium); the test skips
    (see ``engines.missing``) when there is none."""
    found = shutil.which("chromium")
    if found:
        return Path(found)
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    missing(
        "no Chromium: neither `chromium` on PATH nor /usr/bin/chromium "
        "(make test installs Debian's chromium; the browser tests need it)"
    )


@contextmanager
def launched() -> Iterator[Browser]:
    """Playwright started and the system Chromium launched headless, closed on exit; skips
    (see ``engines.missing``) without Playwright or Chromium. One per session: it costs
    about a second."""
    sync_api = require_module(
        "playwright.sync_api", "the browser tests drive Chromium with it (the 'dev' extra)"
    )
    executable = chromium_executable()
    playwright: Playwright = sync_api.sync_playwright().start()
    try:
        # Without a sandbox: Chromium refuses its sandbox as root (containers, CI).
        browser = playwright.chromium.launch(
            executable_path=str(executable), headless=True, chromium_sandbox=False
        )
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@contextmanager
def open_page(browser: Browser, path: str | os.PathLike[str]) -> Iterator[tuple[Page, Watch]]:
    """The local HTML file ``path`` loaded (its images, fonts and load event included) in a
    fresh page, with the :class:`Watch` of what it did; for tests that query the page
    themselves. Any request but the file itself and data: URIs is recorded and aborted."""
    file = Path(path).resolve()
    if not file.is_file():
        raise FileNotFoundError(file)
    watch = Watch(allowed=file.as_uri())
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    try:
        context.set_default_timeout(TIMEOUT_MS)

        def allowed(url: str) -> bool:
            return url.startswith("data:") or url.split("#", 1)[0] == watch.allowed

        def on_request(request: Any) -> None:
            if not allowed(request.url):
                watch.failed_requests.append(request.url)

        def on_console(message: Any) -> None:
            # Chromium's own line for each request aborted here: failed_requests has it.
            if message.type == "error" and not message.text.startswith(BLOCKED):
                watch.console_errors.append(f"console: {message.text}")

        def on_route(route: Any) -> None:
            if allowed(route.request.url):
                route.continue_()
            else:
                route.abort("blockedbyclient")

        context.route("**/*", on_route)
        page = context.new_page()
        page.on("request", on_request)
        page.on("console", on_console)
        page.on("pageerror", lambda error: watch.console_errors.append(f"pageerror: {error}"))
        page.goto(watch.allowed, wait_until="load")
        page.evaluate("document.fonts.ready.then(() => true)")
        yield page, watch
    finally:
        context.close()


def _free(folder: Path, stem: str, suffix: str) -> Path:
    """``folder/stem.suffix``, or ``stem-2.suffix`` ... when that is taken."""
    folder.mkdir(parents=True, exist_ok=True)
    candidate, number = folder / f"{stem}{suffix}", 1
    while candidate.exists():
        number += 1
        candidate = folder / f"{stem}-{number}{suffix}"
    return candidate


def _short(src: str) -> str:
    return src[:80] + "…" if src.startswith("data:") and len(src) > 80 else src


def render(browser: Browser, path: str | os.PathLike[str], out_dir: Path) -> Rendered:
    """Open the local HTML file ``path`` in ``browser`` and give back what it showed (see
    :class:`Rendered`), its full-page screenshot written to ``out_dir/<stem>.png``."""
    with open_page(browser, path) as (page, watch):
        broken = [BrokenImage(_short(i["src"]), i["alt"]) for i in page.evaluate(_BROKEN_IMAGES)]
        text = page.inner_text("body")
        title = page.title()
        screenshot = _free(Path(out_dir), Path(path).stem, ".png")
        page.screenshot(path=screenshot, full_page=True)
        return Rendered(
            path=Path(path),
            text=text,
            title=title,
            broken_images=broken,
            console_errors=list(watch.console_errors),
            failed_requests=list(watch.failed_requests),
            screenshot=screenshot,
        )


# A page object of a PDF: "/Type /Page", not "/Type /Pages".
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")


def pdf_page_count(pdf: bytes) -> int:
    """The number of pages in ``pdf`` as Chromium writes it (page objects in the clear)."""
    return len(_PDF_PAGE.findall(pdf))


def print_pdf(browser: Browser, path: str | os.PathLike[str], out_dir: Path) -> int:
    """Print the local HTML file ``path`` to PDF as a reader would (print media, A4, with
    backgrounds) into ``out_dir/<stem>.pdf`` and give back its number of pages."""
    with open_page(browser, path) as (page, _):
        pdf = _free(Path(out_dir), Path(path).stem, ".pdf")
        page.pdf(path=pdf, format="A4", print_background=True)
    return pdf_page_count(pdf.read_bytes())
