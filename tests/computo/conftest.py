"""The fixtures of tests/support/computo.py, for the tests of this directory."""

from tests.support.computo import *  # noqa: F403
