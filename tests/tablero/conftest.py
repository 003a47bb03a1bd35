"""The fixtures of tests/support/tablero.py, for the tests of this directory."""

from tests.support.tablero import *  # noqa: F403
