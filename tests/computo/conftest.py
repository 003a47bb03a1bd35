"""The fixtures of tests/support/computo.py, for the tests of this directory."""

from tests.support.computo import *  # noqa: F403
from tests.support.consola import identidad  # noqa: F401  (the local identity provider, a process)
