"""The notebooks here are inputs of tests/test_report.py (02_fails fails on purpose), never
tests themselves, even when nbval is switched on."""

collect_ignore_glob = ["*.ipynb"]
