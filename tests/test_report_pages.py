"""Every page a scheduled `journey report` renders reads like a report (issue 15): numbers
written for a reader, no echoed return values, a line of reading under each figure, no
warning, path, traceback or stderr text, no repr; and with ``min_cell`` the tables hide
every count below it.

The packaged suite runs once on the bundled sample with small settings (``sample_report`` in
tests/conftest.py: the widgets' saved settings, the logistic model, 20 resamples of the
credit), and 02 and 03 once more with ``min_cell`` above any count.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import nbformat
import pytest
from test_notebooks import NAMES

from journey_lib.report import run_report
from journey_lib.report.tables import COUNT_COLUMNS

HIGH = 10**6
#: What a page may not show.
LONG_FLOAT = re.compile(r"\d\.\d{5,}")
LEAKS = re.compile(r"Warning|warn\(|/tmp/|/home/|/work/|site-packages|Traceback")
REPR = re.compile(r"^(\{'|[A-Z]\w*\()")


@pytest.fixture(scope="module")
def suite(sample_report):
    """The packaged suite on the sample, run once with small settings."""
    return sample_report


@pytest.fixture(scope="module")
def hidden(tmp_path_factory):
    """Funnels and retention with every count of the sample below ``min_cell``."""
    result = run_report(
        parameters={"min_cell": HIGH},
        only=["02", "03"],
        out=tmp_path_factory.mktemp("hidden"),
        timeout=900,
    )
    assert set(result.statuses.values()) == {"ok"}, result.summary()
    return result


def pages(result) -> list[str]:
    return sorted(result.notebooks)


def visible_text(page: str) -> str:
    """What a reader sees of an HTML page: no style, script or image data, no tags."""
    text = re.sub(r"<style.*?</style>|<script.*?</script>", " ", page, flags=re.S)
    text = re.sub(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+", " ", text)
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def outputs(notebook: nbformat.NotebookNode) -> list[tuple[int, dict]]:
    """Every output of the code cells, with its cell's place among the code cells."""
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    return [(i, output) for i, cell in enumerate(code) for output in cell.get("outputs", [])]


def is_image(output: dict) -> bool:
    return "image/png" in output.get("data", {})


def is_reading(output: dict) -> bool:
    return "text/markdown" in output.get("data", {})


def unread_figures(notebook: nbformat.NotebookNode) -> list[int]:
    """Code cells with a figure whose next output (in the cell, else the next cell's first)
    is not a line of reading."""
    found = outputs(notebook)
    unread = []
    for k, (cell, output) in enumerate(found):
        if not is_image(output):
            continue
        after = [o for c, o in found[k + 1 :] if c <= cell + 1]
        if not after or not is_reading(after[0]):
            unread.append(cell)
    return unread


def executed(result, name: str) -> nbformat.NotebookNode:
    return nbformat.read(result.folder / f"{name}.ipynb", as_version=4)


def page_of(result, name: str) -> str:
    return (result.folder / f"{name}.html").read_text(encoding="utf-8")


def tables(page: str) -> list[list[list[str]]]:
    """The HTML tables of a page's outputs, as rows of cell texts (the header first)."""
    found = []
    for table in re.findall(r"<table.*?</table>", page, flags=re.S):
        rows = []
        for row in re.findall(r"<tr.*?</tr>", table, flags=re.S):
            cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)
            rows.append([html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
        found.append(rows)
    return found


def test_the_whole_suite_ran(suite):
    # Every notebook of the suite (test_notebooks.py pins which they are) has its page.
    assert set(pages(suite)) == set(NAMES) and len(NAMES) == 9


def test_no_page_shows_long_floats_warnings_paths_or_tracebacks(suite):
    for name in pages(suite):
        text = visible_text(page_of(suite, name))
        for pattern in (LONG_FLOAT, LEAKS):
            found = pattern.search(text)
            assert found is None, f"{name}: …{text[max(found.start() - 80, 0) : found.end() + 80]}…"


def test_no_stderr_and_no_bare_repr_in_the_executed_notebooks(suite):
    for name in pages(suite):
        for cell, output in outputs(executed(suite, name)):
            where = f"{name}, code cell {cell}"
            assert output.get("name") != "stderr", f"{where}: {output.get('text')!r}"
            assert output["output_type"] != "error", where
            data = output.get("data", {})
            if set(data) == {"text/plain"}:
                plain = "".join(data["text/plain"])
                assert not REPR.match(plain), f"{where} shows a repr: {plain[:120]!r}"
                assert not plain.startswith("<Figure"), f"{where}: a figure without its image"


def test_every_figure_has_a_line_of_reading_under_it(suite):
    for name in pages(suite):
        notebook = executed(suite, name)
        assert any(is_image(o) for _, o in outputs(notebook)), name
        assert unread_figures(notebook) == [], name


def test_every_table_is_written_for_a_reader(suite):
    """Tables come through tables.formatted: counts with separators, no raw missing values
    or times with their zone; the tables of the data name no customer, except the list of
    who to call (a customer's id is on the timelines too, in figures and readings)."""
    for name in pages(suite):
        found = tables(page_of(suite, name))
        assert found or name.startswith("03"), f"{name} shows no table"
        for table in found:
            header = table[0]
            named = {cell.lower() for row in table[:2] for cell in row}
            if not name.startswith(("00", "04")):
                assert not named & {"customer_id", "customer"}, (name, header)
            for row in table[1:]:
                for column, cell in zip(header[-len(row) :], row, strict=False):
                    raw = re.search(r"\d:\d\d:\d\d|\+00:00|\bNaN\b|<NA>|\bnan\b", cell)
                    assert raw is None, (name, column, cell)
                    if column in COUNT_COLUMNS and re.fullmatch(r"\d+", cell):
                        assert len(cell) < 4, (name, column, cell)  # 1,950, not 1950


def test_readings_say_what_the_figures_show(suite):
    """Spot checks of the readings against the sample: the funnel's (the widget's steps,
    site_visit to purchase: 482 of 1,392 customers, tests/test_notebooks.py holds them to the
    widget's) and the model's."""
    funnel = visible_text(page_of(suite, "02_funnels"))
    recorded = json.loads((suite.folder / "metrics.json").read_text())["02_funnels"]
    assert (recorded["entered"], recorded["converted"]) == (1392, 482)
    assert "Of 1,392 customers who entered, 34.6% reached purchase" in funnel
    model = visible_text(page_of(suite, "04_churn_model"))
    assert re.search(r"ROC AUC 0\.\d\d \(95% interval 0\.\d\d to [01]\.\d\d\)", model)


def test_min_cell_hides_every_count_in_the_tables(hidden):
    assert set(pages(hidden)) == {"02_funnels", "03_retention"}
    seen = 0
    for name in pages(hidden):
        page = page_of(hidden, name)
        text = visible_text(page)
        assert f"Hidden: fewer than {HIGH} customers." in text, name
        assert f"<{HIGH}" in text, name  # the readings hide their counts too
        for table in tables(page):
            header = table[0]
            for row in table[1:]:
                for column, cell in zip(header[-len(row) :], row, strict=False):
                    if column in COUNT_COLUMNS:
                        assert cell in (f"<{HIGH}", "–", "0"), (name, column, cell)
                        seen += cell == f"<{HIGH}"
                    assert not re.fullmatch(r"[1-9]\d*\.\d%|100\.0%", cell), (name, column, cell)
        executed_nb = executed(hidden, name)
        assert unread_figures(executed_nb) == [], name
    assert seen
    parameters = json.loads((hidden.folder / "manifest.json").read_text())["parameters"]
    assert parameters["min_cell"] == HIGH


def test_pages_name_the_parameter(suite):
    """Every notebook of the data declares min_cell; the primer, on simulated customers,
    does not."""
    for name, record in suite.notebooks.items():
        declared = set(record["defaults"])
        assert ("min_cell" in declared) == (not name.startswith("00")), name
    assert Path(suite.folder / "index.html").is_file()
