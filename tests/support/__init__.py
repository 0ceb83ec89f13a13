"""Helpers shared by the tests of every layer (fakes, builders, waiting, processes).

Imported as ``support.<module>``: ``tests/`` is on ``sys.path`` (``pythonpath`` in
pyproject.toml), and nothing here is collected as a test."""
