"""The fixtures of tests/support/e2e.py, for the tests of this directory."""

from tests.support.e2e import *  # noqa: F403
