"""The fixtures of tests/support/cripto.py, for the tests of this directory."""

from tests.support.cripto import *  # noqa: F403
