"""tests/browser.py: pages rendered in the system Chromium report what a reader would see."""

from __future__ import annotations

import asyncio
import base64
import io

import browser as pages
import engines
import pytest
from PIL import Image

pytestmark = pytest.mark.browser

BLUE = (0, 0, 255)
RED = (255, 0, 0)
WHITE = (255, 255, 255)


def png(colour: tuple[int, int, int], size=(40, 30)) -> str:
    """A solid ``colour`` PNG as a data: URI."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def page(folder, body: str, head: str = "", name: str = "page.html"):
    path = folder / name
    path.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>Report</title>"
        "<style>html, body { margin: 0; background: #fff; }</style>"
        f"{head}</head><body>{body}</body></html>"
    )
    return path


def test_a_self_contained_page_renders(render_page, tmp_path):
    path = page(
        tmp_path,
        "<h1>Customers 2,000</h1><p style='display:none'>hidden words</p>"
        f"<img alt='a blue chart' src='{png(BLUE)}' "
        "style='position:absolute; left:200px; top:300px'>",
    )
    rendered = render_page(path)
    assert "Customers 2,000" in rendered.text
    assert "hidden words" not in rendered.text  # visible text only
    assert rendered.title == "Report"
    assert rendered.broken_images == []
    assert rendered.failed_requests == []
    assert rendered.console_errors == []
    # The data: PNG is on screen where it was placed.
    with Image.open(rendered.screenshot) as shot:
        assert shot.convert("RGB").getpixel((220, 315)) == BLUE


def test_a_missing_image_is_reported_broken(render_page, tmp_path):
    path = page(
        tmp_path,
        f"<img alt='fine' src='{png(BLUE)}'><img src='nope.png' alt='the missing chart'>",
    )
    rendered = render_page(path)
    assert rendered.broken_images == [pages.BrokenImage("nope.png", "the missing chart")]
    assert rendered.failed_requests == [(tmp_path / "nope.png").as_uri()]


def test_a_broken_data_image_is_reported_with_its_src_cut_short(render_page, tmp_path):
    bad = "data:image/png;base64," + "A" * 200  # not a PNG
    rendered = render_page(page(tmp_path, f"<img src='{bad}'>"))
    assert rendered.broken_images == [pages.BrokenImage(bad[:80] + "…", "")]
    assert rendered.failed_requests == []


def test_any_request_but_the_file_and_data_uris_is_forbidden(render_page, tmp_path):
    # Even a file right next to the page: a report must carry everything inside it.
    (tmp_path / "app.js").write_text("document.title = 'script ran';")
    path = page(
        tmp_path,
        "<p>Body</p><img src='https://example.invalid/logo.png' alt='logo'>"
        "<script>fetch('https://example.invalid/data.json').catch(() => null);</script>",
        head="<script src='app.js'></script>"
        "<link rel='stylesheet' href='https://fonts.example.invalid/font.css'>",
    )
    rendered = render_page(path)
    assert sorted(rendered.failed_requests) == sorted(
        [
            (tmp_path / "app.js").as_uri(),
            "https://example.invalid/logo.png",
            "https://example.invalid/data.json",
            "https://fonts.example.invalid/font.css",
        ]
    )
    assert rendered.title == "Report"  # blocked, so the script never ran
    assert rendered.broken_images == [pages.BrokenImage("https://example.invalid/logo.png", "logo")]
    # Chromium's errors for the blocked requests are not repeated as console errors.
    assert rendered.console_errors == []


def test_console_errors_and_uncaught_exceptions_are_recorded(render_page, tmp_path):
    path = page(
        tmp_path,
        "<script>console.log('fine'); console.warn('careful'); console.error('boom');"
        "throw new Error('kaboom');</script>",
    )
    assert render_page(path).console_errors == ["console: boom", "pageerror: kaboom"]


def test_the_screenshot_is_the_whole_page_as_a_png(render_page, tmp_path):
    # A red square below the first screenful: only a full-page screenshot has it.
    path = page(
        tmp_path,
        "<div style='height:2000px'></div><div style='position:absolute; left:100px; "
        "top:1500px; width:50px; height:50px; background:rgb(255, 0, 0)'></div>",
    )
    rendered = render_page(path)
    assert rendered.screenshot.parent.is_relative_to(tmp_path)
    data = rendered.screenshot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(rendered.screenshot) as shot:
        rgb = shot.convert("RGB")
        assert rgb.size == (pages.VIEWPORT["width"], 2000)
        assert rgb.getpixel((125, 1525)) == RED
        assert rgb.getpixel((99, 1525)) == WHITE
        assert rgb.getpixel((125, 1551)) == WHITE
    # Rendering again keeps the first screenshot.
    assert render_page(path).screenshot != rendered.screenshot
    assert rendered.screenshot.exists()


def test_printing_to_pdf_counts_pages(print_pdf, tmp_path):
    assert print_pdf(page(tmp_path, "<h1>One page</h1>", name="one.html")) == 1
    breaks = (
        "".join(f"<section style='break-after:page'>Part {n}</section>" for n in (1, 2))
        + "<section>Part 3</section>"
    )
    assert print_pdf(page(tmp_path, breaks, name="three.html")) == 3
    assert (tmp_path / "browser" / "three.pdf").read_bytes().startswith(b"%PDF-")


def test_a_missing_file_is_an_error_not_a_blank_page(browser, tmp_path):
    with pytest.raises(FileNotFoundError):
        browser.render(tmp_path / "absent.html", tmp_path)


def test_without_chromium_the_tests_skip_or_fail_under_require_all(monkeypatch, tmp_path):
    monkeypatch.setattr(pages.shutil, "which", lambda name: None)
    monkeypatch.setattr(pages, "CHROMIUM", tmp_path / "chromium")
    monkeypatch.delenv(engines.REQUIRE_ALL, raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"^no Chromium"):
        pages.chromium_executable()
    monkeypatch.setenv(engines.REQUIRE_ALL, "1")
    with pytest.raises(pytest.fail.Exception, match=r"^no Chromium.*JOURNEY_REQUIRE_ALL is set"):
        pages.chromium_executable()


def test_evaluate_answers_a_question_about_the_loaded_page(browser, tmp_path):
    path = page(tmp_path, f"<img alt='one' src='{png(BLUE)}'><img alt='two' src='{png(RED)}'>")
    script = "() => Array.from(document.images).map((image) => image.alt)"
    assert browser.evaluate(path, script) == ["one", "two"]
    assert browser.evaluate(path, "(n) => n * 2", 21) == 42


def test_the_browser_leaves_asyncio_in_the_test_thread_alone(browser, render_page, tmp_path):
    # Playwright's sync API marks its loop as running in the thread it runs in; asyncio.run
    # (as a notebook runner in a later test may call) must still work here.
    render_page(page(tmp_path, "<p>Hi</p>"))
    assert browser.version.split(".")[0].isdigit()

    async def answer():
        return 42

    assert asyncio.run(answer()) == 42
