import pytest

# Plain asserts in the shared helpers (assert_access_matrix's tables) report their values like tests do.
pytest.register_assert_rewrite("tests.helpers")
