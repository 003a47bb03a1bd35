"""The fixtures of tests/support/tablero.py, for the tests of this directory."""

from tests.support.consola import identidad  # noqa: F401
from tests.support.tablero import *  # noqa: F403
