"""Report pages rendered in a real headless Chromium (imported by tests, like engines.py).

Debian's ``chromium`` (``make test`` installs it) driven by Playwright's sync API on a thread of
its own (see :class:`Chromium`); Playwright's own browser download is never used.
tests/conftest.py launches ONE browser per test session (fixture ``browser``, a
:class:`Chromium`) and binds it to each test's ``tmp_path`` (fixtures ``render_page`` and
``print_pdf``)::

    def test_summary_page(render_page, print_pdf, browser, tmp_path):
        page = render_page(tmp_path / "summary.html")  # a Rendered
        assert "Customers" in page.text
        assert page.broken_images == []
        assert page.failed_requests == []  # self-contained: nothing but itself and data: URIs
        assert page.console_errors == []
        assert print_pdf(tmp_path / "summary.html") >= 1
        assert browser.evaluate(tmp_path / "summary.html", "() => document.images.length") == 4

Where Playwright or Chromium is absent the fixtures skip through ``engines.missing`` (which
fails instead under ``JOURNEY_REQUIRE_ALL=1``, as in CI).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from engines import missing, require_module

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

T = TypeVar("T")

#: Where Debian's package puts the browser, when ``chromium`` is not on PATH.
CHROMIUM = Path("/usr/bin/chromium")

#: The window a page is laid out in (CSS pixels; one screenshot pixel per CSS pixel).
VIEWPORT = {"width": 1280, "height": 800}

#: Seconds a test waits on the browser thread for any one call, past Playwright's own timeouts.
WAIT_S = 120

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


class Chromium:
    """The system Chromium, headless, driven by Playwright from a thread of its own.

    Playwright's sync API leaves its asyncio loop marked as running in the thread that started
    it, for as long as it runs: in the test thread, any later test calling ``asyncio.run`` (a
    notebook runner, say) would fail. So every Playwright object lives and dies on one worker
    thread, and what a test gets back is plain data. Launching costs about half a second:
    tests/conftest.py's ``browser`` fixture makes one per session.
    """

    def __init__(self, executable: Path) -> None:
        self.executable = executable
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium")
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        try:
            self._on_worker(self._launch)
        except BaseException:
            self.close()
            raise

    def _on_worker(self, function: Callable[..., T], *args: Any) -> T:
        return self._worker.submit(function, *args).result(timeout=WAIT_S)

    def call(self, function: Callable[..., T], *args: Any, wait_s: float = WAIT_S) -> T:
        """``function(browser, *args)`` on the browser's thread, its result back (at most
        ``wait_s`` seconds): for drivers of their own, such as tests/lab.py's. Playwright
        objects it returns may be handed to later calls, never used on the test's thread."""
        return self._worker.submit(function, self._browser, *args).result(timeout=wait_s)

    def _launch(self) -> None:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        # Without a sandbox: Chromium refuses its sandbox as root (containers, CI).
        self._browser = self._playwright.chromium.launch(
            executable_path=str(self.executable), headless=True, chromium_sandbox=False
        )

    def _shut(self) -> None:
        if self._browser is not None:
            self._browser.close()
        if self._playwright is not None:
            self._playwright.stop()
        self._browser = self._playwright = None

    def close(self) -> None:
        """Close the browser and stop Playwright and the worker thread."""
        try:
            self._on_worker(self._shut)
        finally:
            self._worker.shutdown(wait=True)

    @property
    def version(self) -> str:
        """Chromium's version, e.g. ``"156.0.8078.114"``."""
        return self._on_worker(lambda: self._browser.version)

    def render(self, path: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> Rendered:
        """Open the local HTML file ``path`` and give back what it showed (see
        :class:`Rendered`), its full-page screenshot written to ``out_dir/<stem>.png``
        (``<stem>-2.png`` ... when taken)."""
        return self._on_worker(_render, self._browser, Path(path), Path(out_dir))

    def print_pdf(self, path: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> int:
        """Print the local HTML file ``path`` to PDF as a reader would (print media, A4, with
        backgrounds) into ``out_dir/<stem>.pdf`` and give back its number of pages."""
        return self._on_worker(_print_pdf, self._browser, Path(path), Path(out_dir))

    def evaluate(self, path: str | os.PathLike[str], expression: str, arg: Any = None) -> Any:
        """The JavaScript ``expression`` (e.g. ``"() => document.images.length"``) evaluated
        in the loaded local HTML file ``path``, its JSON-able result; for what
        :class:`Rendered` does not say."""
        return self._on_worker(_evaluate, self._browser, Path(path), expression, arg)


@contextmanager
def launched() -> Iterator[Chromium]:
    """The system Chromium launched headless (see :class:`Chromium`), closed on exit; skips
    (see ``engines.missing``) without Playwright or Chromium."""
    require_module(
        "playwright.sync_api", "the browser tests drive Chromium with it (the 'dev' extra)"
    )
    chromium = Chromium(chromium_executable())
    try:
        yield chromium
    finally:
        chromium.close()


@contextmanager
def open_page(browser: Browser, path: Path) -> Iterator[tuple[Page, Watch]]:
    """The local HTML file ``path`` loaded (its images, fonts and load event included) in a
    fresh page, with the :class:`Watch` of what it did (on Chromium's worker thread only).
    Any request but the file itself and data: URIs is recorded and aborted."""
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


def _render(browser: Browser, path: Path, out_dir: Path) -> Rendered:
    with open_page(browser, path) as (page, watch):
        broken = [BrokenImage(_short(i["src"]), i["alt"]) for i in page.evaluate(_BROKEN_IMAGES)]
        text = page.inner_text("body")
        title = page.title()
        screenshot = _free(out_dir, path.stem, ".png")
        page.screenshot(path=screenshot, full_page=True)
        return Rendered(
            path=path,
            text=text,
            title=title,
            broken_images=broken,
            console_errors=list(watch.console_errors),
            failed_requests=list(watch.failed_requests),
            screenshot=screenshot,
        )


def _evaluate(browser: Browser, path: Path, expression: str, arg: Any) -> Any:
    with open_page(browser, path) as (page, _):
        return page.evaluate(expression, arg)


# A page object of a PDF: "/Type /Page", not "/Type /Pages".
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")


def pdf_page_count(pdf: bytes) -> int:
    """The number of pages in ``pdf`` as Chromium writes it (page objects in the clear)."""
    return len(_PDF_PAGE.findall(pdf))


def _print_pdf(browser: Browser, path: Path, out_dir: Path) -> int:
    with open_page(browser, path) as (page, _):
        pdf = _free(out_dir, path.stem, ".pdf")
        page.pdf(path=pdf, format="A4", print_background=True)
    return pdf_page_count(pdf.read_bytes())
