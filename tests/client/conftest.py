"""Fixtures for the terminal client's tests: the gateway (the integration
suite's fixtures) and chatgate-client in the background."""

import importlib.util
import shutil
import sys
import tempfile
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


def pytest_configure(config):
    # A private temporary folder: other suites on this machine run pytest at
    # the same time, and pytest's shared /tmp/pytest-of-USER is cleaned by
    # whoever starts next.
    if not config.option.basetemp:
        config.option.basetemp = tempfile.mkdtemp(prefix="chatgate-client-tests-")
        config._chatgate_own_basetemp = True


def pytest_unconfigure(config):
    if getattr(config, "_chatgate_own_basetemp", False) and not getattr(config, "_chatgate_failed", False):
        shutil.rmtree(config.option.basetemp, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    if report.failed:
        item.config._chatgate_failed = True


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
