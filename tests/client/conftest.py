"""Fixtures for the terminal client's tests: the gateway (the integration
suite's fixtures) and chatgate-client in the background."""

import importlib.util
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
INTEGRATION = HERE.parents[1] / "tests" / "integration"
sys.path.insert(0, str(HERE))

from client_helpers import ClientProcess  # noqa: E402

# The integration suite's fixtures (chatgate, server, fast_server), loaded
# under another name so that this file stays this folder's conftest.
_spec = importlib.util.spec_from_file_location("integration_conftest", INTEGRATION / "conftest.py")
_integration = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_integration)
chatgate = _integration.chatgate
server = _integration.server
fast_server = _integration.fast_server


@pytest.fixture
def background():
    """Factory: background(*args) -> a started ClientProcess, killed at teardown."""
    started = []

    def start(*args):
        p = ClientProcess(*args)
        started.append(p)
        return p

    yield start
    for p in started:
        p.kill()
