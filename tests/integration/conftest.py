"""Fixtures that run the real chatgate binary on ephemeral ports."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import chatgate_client as cc  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("CHATGATE_BIN", REPO_ROOT / "build" / "chatgate"))
if not BINARY.is_absolute():
    BINARY = REPO_ROOT / BINARY

# SPEC 1: exit 0 within 2 s of SIGTERM; a little slack for a loaded machine.
STOP_LIMIT_S = 2.0
STOP_SLACK_S = 0.5
START_LIMIT_S = 15.0
# Raised limits for tests that send a lot and are not about rate limiting.
FAST = ("--rate", "100000", "--burst", "100000")


class Server:
    """One chatgate process; ports come from its ports file."""

    def __init__(self, workdir, flags, env=None, listen=True):
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.ports_file = workdir / "ports" / "ports.json"
        self.ports_file.parent.mkdir(exist_ok=True)
        self.stdout_path = workdir / "stdout.log"
        self.stderr_path = workdir / "stderr.log"
        base = ["--bind", "127.0.0.1", "--ports-file", str(self.ports_file)]
        if listen:
            # Port 0 for each listener the test does not place itself.
            for name in ("http", "tcp", "udp", "echo", "irc"):
                if f"--{name}-port" not in flags:
                    base += [f"--{name}-port", "0"]
            # The TLS TCP chat port opens only with a certificate.
            if "--tls-cert" in flags and "--tls-tcp-port" not in flags:
                base += ["--tls-tcp-port", "0"]
            # So does IRC over TLS.
            if "--tls-cert" in flags and "--irc-tls-port" not in flags:
                base += ["--irc-tls-port", "0"]
        self.argv = [str(BINARY), *base, *flags]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("CHATGATE_")}
        full_env.update(env or {})
        self.clients = []
        self.returncode = None
        self.stop_elapsed = None
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL, env=full_env)
        self.ports = self._wait_ports()

    def _wait_ports(self):
        deadline = time.monotonic() + START_LIMIT_S
        while not self.ports_file.exists():
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"chatgate exited with {self.proc.returncode} before writing its "
                    f"ports file\nargv: {self.argv}\nstderr:\n{self.stderr()}")
            if time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError(f"no ports file after {START_LIMIT_S}s\nstderr:\n{self.stderr()}")
            time.sleep(0.02)
        # Written atomically (write then rename), so it parses on first sight.
        return json.loads(self.ports_file.read_text())

    # ports
    http = property(lambda self: self.ports["http"])
    tcp = property(lambda self: self.ports["tcp"])
    udp = property(lambda self: self.ports["udp"])
    echo = property(lambda self: self.ports["echo"])
    tls_tcp = property(lambda self: self.ports["tls_tcp"])
    irc = property(lambda self: self.ports.get("irc"))
    irc_tls = property(lambda self: self.ports.get("irc_tls"))
    pid = property(lambda self: self.proc.pid)

    def stderr(self):
        return self.stderr_path.read_text(errors="replace")

    def stdout(self):
        return self.stdout_path.read_text(errors="replace")

    # clients that are closed at teardown
    def _track(self, client):
        self.clients.append(client)
        return client

    def text(self, **kw):
        return self._track(cc.TextClient(self.tcp, **kw))

    def udp_client(self):
        return self._track(cc.UdpClient(self.udp))

    def ws(self, **kw):
        return self._track(cc.WsClient(self.http, **kw))

    def ndjson(self, **kw):
        return self._track(cc.NdjsonClient(self.tcp, **kw))

    def get(self, path):
        return cc.http_get(self.http, path)

    def metrics(self):
        status, _, body = self.get("/metrics")
        assert status == 200, status
        return cc.parse_metrics(body.decode())

    def rss_kb(self):
        return cc.proc_status_kb(self.pid, "VmRSS")

    def hwm_kb(self):
        return cc.proc_status_kb(self.pid, "VmHWM")

    def stop(self, sig=signal.SIGTERM):
        """Signal the server; returns (exit code, seconds it took)."""
        if self.returncode is not None:
            return self.returncode, self.stop_elapsed
        start = time.monotonic()
        self.proc.send_signal(sig)
        try:
            self.returncode = self.proc.wait(STOP_LIMIT_S + STOP_SLACK_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.returncode = "still running"
        self.stop_elapsed = time.monotonic() - start
        return self.returncode, self.stop_elapsed

    def close_clients(self):
        for c in self.clients:
            c.close()


@pytest.fixture
def chatgate(tmp_path):
    """Factory: chatgate(*flags, env={}, listen=True) -> a started Server.

    On teardown each server gets SIGTERM and must exit 0 within 2 s.
    """
    servers = []

    def start(*flags, env=None, listen=True):
        if not BINARY.exists():
            pytest.fail(f"chatgate binary not found at {BINARY} (set CHATGATE_BIN)")
        server = Server(tmp_path / f"server{len(servers)}", list(flags), env, listen)
        servers.append(server)
        return server

    yield start

    problems = []
    for server in servers:
        if server.returncode is None:
            rc, elapsed = server.stop()
            if rc != 0:
                problems.append(f"exit status {rc!r} after SIGTERM ({elapsed:.2f}s)")
        server.close_clients()
    if problems:
        pytest.fail("chatgate did not stop cleanly: " + "; ".join(problems) +
                    "\nstderr tail:\n" + servers[-1].stderr()[-3000:], pytrace=False)


@pytest.fixture
def server(chatgate):
    """A server with default settings."""
    return chatgate()


@pytest.fixture
def fast_server(chatgate):
    """A server whose rate limit never gets in the way."""
    return chatgate(*FAST)


@pytest.fixture
def redis_server(tmp_path):
    """Factory: redis_server(password=None, extra=()) -> a started RedisServer
    on a free loopback port (tests/integration/redis_server.py: stop, kill,
    pause (SIGSTOP), resume (SIGCONT), restart on the same port, command).
    Skips the test when redis-server is not installed; killed at teardown."""
    import redis_server as rs

    binary = rs.find_binary()
    if not binary:
        pytest.skip("redis-server not installed (apt-get install redis-server)")
    started = []

    def start(password=None, extra=()):
        server = rs.RedisServer(tmp_path / f"redis{len(started)}", binary, password, extra)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()
