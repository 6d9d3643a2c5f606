from tests.assignment.support import clock  # noqa: F401 - a fixture for the tests in this folder
