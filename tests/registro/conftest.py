"""The fixtures of tests/support/registro.py, for the tests of this directory."""

from tests.support.registro import *  # noqa: F403
