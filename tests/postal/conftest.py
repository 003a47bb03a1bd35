"""The fixtures of tests/support/postal.py, for the tests of this directory."""

from tests.support.postal import *  # noqa: F403
