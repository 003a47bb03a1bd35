"""Root of the suite: the shared fixtures and the collection hook live in tests/support/comun.py (helpers
are imported from tests/support, never from a conftest)."""

import pytest

pytest.register_assert_rewrite("tests.support")

from tests.support.comun import *  # noqa: E402, F403  (fixtures and the collection hook)
