"""JupyterLab in a real browser, for the widget tests (imported by tests, like browser.py).

:func:`lab_server` starts ``jupyter lab`` on a free local port with a token, serving a
folder, and stops it at the end. Its kernels' connection files are in a runtime folder of
its own, so :meth:`Lab.kernel` can reach the very kernel a notebook open in the browser
runs, and ask its widget what it holds (:meth:`Kernel.state`). The browser side runs on
Chromium's thread (``browser.Chromium.call``): :func:`open_notebook` opens a notebook and
runs every cell, as a person does from the Run menu, and the control drivers click, type,
pick and drag as a person would::

    with lab_server(folder) as lab:
        tab = chromium.call(open_notebook, lab.url("notebooks/02_funnels.ipynb"))
        state = lab.kernel("notebooks/02_funnels.ipynb").state("builder")
        chromium.call(type_into, tab, "window", "7D")

Errors a page logs (console errors and uncaught exceptions) are kept on its :class:`Tab`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from postgres import free_port

#: Milliseconds a notebook may take to run all its cells in the browser.
RUN_MS = 300_000
#: Milliseconds a widget may take to show the figure of a change.
REDRAW_MS = 90_000

# The JupyterLab front end is exposed as window.jupyterapp (LabApp.expose_app_in_browser).
_KERNEL = "window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel"
_IDLE = f"() => {_KERNEL}?.status === 'idle'"
# The notebook's code cells, from its model (the page draws only the cells in view).
_CELLS = (
    "Array.from(window.jupyterapp.shell.currentWidget.content.model.cells)"
    ".filter((c) => c.type === 'code')"
)
# "ran" once every code cell has run and the kernel is idle; the first error's text if a
# cell failed (running all stops there); false until then.
_RAN = f"""() => {{
  const cells = {_CELLS};
  if ({_KERNEL}?.status !== 'idle') return false;
  for (const cell of cells) {{
    const failed = cell.outputs.toJSON().find((o) => o.output_type === 'error');
    if (failed) return `${{failed.ename}}: ${{failed.evalue}}`;
  }}
  return cells.length > 0 && cells.every((c) => c.executionCount !== null) ? 'ran' : false;
}}"""
# Every code cell's run count cleared (a restart's "run all" has begun).
_CLEARED = f"() => {_CELLS}.some((c) => c.executionCount === null)"

# What a widget holds, printed as JSON by its kernel: its settings, the SHA-256 of its
# figure, its caption, its error, and whether computing its settings afresh gives its .data.
_STATE = """
import hashlib as _jl_h, json as _jl_j
print(_jl_j.dumps({{
    "params": {var}.params,
    "png": _jl_h.sha256({var}.png).hexdigest() if {var}.png else None,
    "caption": {var}.caption({var}.data, {var}.params) if not {var}.error else "",
    "error": {var}.error,
    "rows": len({var}.data),
    "fresh": {var}.compute({var}.params).equals({var}.data),
}}, default=str))
"""


@dataclass
class Kernel:
    """A client of a notebook's kernel (the one the browser's notebook runs)."""

    client: Any

    def state(self, variable: str) -> dict[str, Any]:
        """What the widget named ``variable`` holds: ``params``, ``png`` (the SHA-256 of
        its figure), ``caption``, ``error``, ``rows`` of ``.data``, and ``fresh`` (its
        settings computed anew give its ``.data``)."""
        return json.loads(self.run(_STATE.format(var=variable)))

    def run(self, code: str) -> str:
        """Run ``code`` in the kernel, outside its history; what it printed."""
        msg_id = self.client.execute(code, silent=False, store_history=False)
        printed = []
        while True:
            message = self.client.get_iopub_msg(timeout=120)
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                printed.append(content["text"])
            elif kind == "error":
                raise AssertionError(f"the kernel failed: {content['ename']}: {content['evalue']}")
            elif kind == "status" and content["execution_state"] == "idle":
                return "".join(printed)

    def close(self) -> None:
        self.client.stop_channels()


@dataclass
class Lab:
    """A running JupyterLab (see :func:`lab_server`)."""

    root: Path
    port: int
    token: str
    runtime: Path

    def url(self, path: str) -> str:
        """The address that opens ``path`` (relative to the root) in JupyterLab, alone: in
        a workspace of its own, reset (JupyterLab would otherwise open again, in the same
        workspace, every notebook an earlier page opened)."""
        workspace = re.sub(r"\W+", "-", path)
        return (
            f"http://127.0.0.1:{self.port}/lab/workspaces/{workspace}/tree/{path}"
            f"?reset&token={self.token}"
        )

    def api(self, endpoint: str) -> Any:
        address = f"http://127.0.0.1:{self.port}/api/{endpoint}?token={self.token}"
        with urllib.request.urlopen(address, timeout=30) as answer:
            return json.load(answer)

    def kernel(self, path: str) -> Kernel:
        """A client of the kernel of the notebook ``path`` open in the browser."""
        from jupyter_client import BlockingKernelClient

        found = [s["kernel"]["id"] for s in self.api("sessions") if s["path"] == path]
        assert found, f"no kernel runs {path}"
        client = BlockingKernelClient()
        client.load_connection_file(str(self.runtime / f"kernel-{found[0]}.json"))
        client.start_channels()
        client.wait_for_ready(timeout=60)
        return Kernel(client)


@contextmanager
def lab_server(root: Path) -> Iterator[Lab]:
    """``jupyter lab`` serving ``root`` on a free port of 127.0.0.1 with a random token; its
    configuration, workspaces and kernels' connection files in folders of its own beside
    ``root`` (so nothing of the user's JupyterLab settings applies), no news pop-up."""
    home = root.parent / "jupyter"
    lab = Lab(root, free_port(), secrets.token_hex(16), home / "runtime")
    config, settings = home / "config", home / "settings"
    (config / "labconfig").mkdir(parents=True, exist_ok=True)
    # The news pop-up would cover the last cells' outputs.
    disabled = {"@jupyterlab/apputils-extension:announcements": True}
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": disabled})
    )
    # Every cell drawn, not only those in view, so a widget's output can be found.
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_RUNTIME_DIR": str(lab.runtime),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
    }
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={lab.port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={lab.token}",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
        "--LabApp.expose_app_in_browser=True",
        # This project's sessions and CI run as root; JupyterLab refuses root without it.
        "--ServerApp.allow_root=True",
    ]
    log = (home / "server.log").open("w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                lab.api("status")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        f"JupyterLab did not start: {(home / 'server.log').read_text()[-2000:]}"
                    ) from None
                time.sleep(0.3)
        yield lab
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


# ---- on Chromium's thread (browser.Chromium.call) ------------------------------------------


@dataclass
class Tab:
    """A notebook open in JupyterLab: its page and what the page logged."""

    page: Any
    errors: list[str] = field(default_factory=list)


def open_notebook(browser: Any, url: str) -> Tab:
    """Open the notebook at ``url`` in a fresh page, wait for its kernel, and run every cell
    (Run > Run All Cells); the tab, once every cell has run."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    tab = Tab(page)
    page.on(
        "console",
        lambda message: (
            tab.errors.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: tab.errors.append(f"pageerror: {error}"))
    page.goto(url)
    page.wait_for_function(_IDLE, timeout=RUN_MS)
    run_all(browser, tab)
    return tab


def run_all(browser: Any, tab: Tab, command: str = "notebook:run-all-cells") -> None:
    """Run every cell with JupyterLab's ``command`` and wait until all have run; a dialog
    asking to confirm (a restart's) is accepted as a person would."""
    page = tab.page
    page.evaluate(f"() => {{ window.jupyterapp.commands.execute({command!r}); }}")
    if "restart" in command:
        page.locator(".jp-Dialog .jp-mod-accept").click()
        page.wait_for_function(_CLEARED, timeout=RUN_MS)
    from playwright.sync_api import TimeoutError as Timeout

    try:
        outcome = page.wait_for_function(_RAN, timeout=RUN_MS).json_value()
    except Timeout:
        counts = page.evaluate(f"() => {_CELLS}.map((c) => c.executionCount)")
        status = page.evaluate(f"() => {_KERNEL}?.status")
        raise AssertionError(
            f"the cells did not all run in {RUN_MS / 1000:.0f} s: kernel {status}, "
            f"run counts {counts}"
        ) from None
    assert outcome == "ran", f"a cell failed in JupyterLab: {outcome}"


def save(browser: Any, tab: Tab) -> None:
    """Save the notebook (File > Save), outputs and all."""
    tab.page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    tab.page.wait_for_function(
        "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000
    )


def _widget(tab: Tab, label: str) -> Any:
    """The output holding the widget whose control is described ``label``."""
    page = tab.page
    return page.locator(
        ".jp-OutputArea-output", has=page.locator(".widget-label", has_text=label)
    ).first


def _control(tab: Tab, label: str) -> Any:
    page = tab.page
    return (
        _widget(tab, label)
        .locator(".widget-inline-hbox", has=page.locator(".widget-label", has_text=label))
        .first
    )


def shown(browser: Any, tab: Tab, label: str) -> dict[str, Any]:
    """What the widget with a control described ``label`` shows: ``png``, the SHA-256 of
    its figure (None without one), and ``text``, the text under it."""
    output = _widget(tab, label).locator(".widget-output")
    output.scroll_into_view_if_needed()
    images = output.locator("img")
    png = None
    if images.count():
        source = images.first.get_attribute("src") or ""
        png = hashlib.sha256(base64.b64decode(source.split(",", 1)[1])).hexdigest()
    texts = output.locator(".jp-RenderedText, .jp-RenderedHTMLCommon").all_inner_texts()
    return {"png": png, "text": "\n".join(t.strip() for t in texts)}


def wait_for_change(browser: Any, tab: Tab, label: str, before: str | None) -> None:
    """Wait until the widget's figure is no longer the one of SHA-256 ``before``."""
    deadline = time.monotonic() + REDRAW_MS / 1000
    while shown(browser, tab, label)["png"] == before:
        if time.monotonic() > deadline:
            raise AssertionError(f"the widget with {label!r} never redrew its figure")
        tab.page.wait_for_timeout(200)
    tab.page.wait_for_function(_IDLE, timeout=REDRAW_MS)


def type_into(browser: Any, tab: Tab, label: str, text: str) -> None:
    """Click the text box described ``label``, replace its text and press Enter."""
    box = _control(tab, label).locator("input")
    box.scroll_into_view_if_needed()
    box.click()
    box.press("Control+a")
    box.type(text, delay=20)
    box.press("Enter")


def pick(browser: Any, tab: Tab, label: str, option: str) -> None:
    """Choose ``option`` in the drop-down described ``label``."""
    menu = _control(tab, label).locator("select")
    menu.scroll_into_view_if_needed()
    menu.click()
    menu.select_option(option)


def drag(browser: Any, tab: Tab, label: str, pixels: float) -> str:
    """Drag the handle of the slider described ``label`` by ``pixels`` to the right with
    the mouse and let go; the value its readout then shows."""
    control = _control(tab, label)
    handle = control.locator(".noUi-handle")
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    mouse = tab.page.mouse
    mouse.move(x, y)
    mouse.down()
    mouse.move(x + pixels / 2, y, steps=5)
    mouse.move(x + pixels, y, steps=5)
    mouse.up()
    return control.locator(".widget-readout").inner_text().strip()


def controls_text(browser: Any, tab: Tab, label: str) -> str:
    """The visible text of the control described ``label`` (its readout, say)."""
    return _control(tab, label).inner_text()


def settle(browser: Any, tab: Tab) -> None:
    """Let the page run for half a second: Playwright hands over what a page logged only
    while a call is waiting on it."""
    tab.page.wait_for_timeout(500)


def close(browser: Any, tab: Tab) -> None:
    tab.page.context.close()
