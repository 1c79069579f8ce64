"""A test skips for something this machine lacks (Java, ../shared, an optional package) only
through tests/engines.py's ``missing``, so that CI (``JOURNEY_REQUIRE_ALL=1``) fails instead."""

from __future__ import annotations

import json
import re
from pathlib import Path

import engines
import pytest
from engines import REQUIRE_ALL, missing, require_module, shared_file

TESTS = Path(__file__).resolve().parent


@pytest.mark.parametrize("value", [None, "", "0"])
def test_without_the_variable_a_missing_dependency_skips(monkeypatch, value):
    if value is None:
        monkeypatch.delenv(REQUIRE_ALL, raising=False)
    else:
        monkeypatch.setenv(REQUIRE_ALL, value)
    with pytest.raises(pytest.skip.Exception, match=r"^no Java here$"):
        missing("no Java here")


def test_under_require_all_every_kind_of_skip_fails_naming_what_is_missing(monkeypatch, tmp_path):
    monkeypatch.setenv(REQUIRE_ALL, "1")
    monkeypatch.setattr(engines, "SHARED_DATA", tmp_path)
    with pytest.raises(pytest.fail.Exception, match=r"^no Java here; JOURNEY_REQUIRE_ALL is set"):
        missing("no Java here")
    with pytest.raises(pytest.fail.Exception, match=r"real data .*events.csv is absent"):
        shared_file("events.csv")
    with pytest.raises(pytest.fail.Exception, match=r"no_such_module is not importable.*: for X"):
        require_module("no_such_module", "for X")
    # What is there is handed back.
    (tmp_path / "events.csv").write_text("customer_id\n")
    assert shared_file("events.csv") == tmp_path / "events.csv"
    assert require_module("json", "for X") is json


def test_no_test_skips_around_the_helper():
    bypass = re.compile(r"pytest\.skip\(|importorskip\(|mark\.skipif|mark\.skip\b")
    found = [
        f"{path.name}:{number}"
        for path in sorted(TESTS.glob("*.py"))
        if path.name not in ("engines.py", Path(__file__).name)
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if bypass.search(line)
    ]
    assert found == []
