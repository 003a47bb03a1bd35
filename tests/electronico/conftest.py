"""The fixtures of tests/support/electronico.py, for the tests of this directory."""

from tests.support.electronico import *  # noqa: F403
