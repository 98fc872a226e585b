"""Shared pytest setup: a derandomized hypothesis profile for CI, warnings as errors (pyproject)."""

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None,
                          print_blob=True)
settings.load_profile("ci")
