"""The fixtures of tests/support/registro.py, for the tests of this directory."""

from tests.support.consola import identidad  # noqa: F401  (the local identity provider, a process)
from tests.support.registro import *  # noqa: F403
