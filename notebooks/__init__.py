"""The notebook suite, shipped in the wheel as ``journey_lib.notebooks``.

Not code to import: this file makes the folder a regular package, so that
``importlib.resources.files("journey_lib.notebooks")`` finds it on disk in every kind of
install (see the comment on ``[tool.setuptools]`` in pyproject.toml).
"""
