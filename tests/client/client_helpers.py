"""Runs chatgate-client for the tests: to the end with piped input, or in
the background with a pipe to write to."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "integration"))

import chatgate_client as cc  # noqa: E402,F401  (tests/integration)

CLIENT = Path(os.environ.get("CHATGATE_CLIENT_BIN", REPO_ROOT / "build" / "chatgate-client"))
if not CLIENT.is_absolute():
    CLIENT = REPO_ROOT / CLIENT

# Generous: the suite runs on a shared, loaded 2-core machine.
TIMEOUT = 20.0


def client_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATGATE_")}
    env.setdefault("LANG", "C.UTF-8")
    return env


def run_client(*args, input="", timeout=TIMEOUT):
    """Runs chatgate-client to the end with `input` piped in."""
    if not CLIENT.exists():
        pytest.fail(f"chatgate-client not found at {CLIENT} (set CHATGATE_CLIENT_BIN)")
    return subprocess.run([str(CLIENT), *map(str, args)], input=input.encode(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=client_env(),
                          timeout=timeout)


class ClientProcess:
    """chatgate-client running in the background with a pipe on stdin."""

    def __init__(self, *args):
        if not CLIENT.exists():
            pytest.fail(f"chatgate-client not found at {CLIENT} (set CHATGATE_CLIENT_BIN)")
        self.proc = subprocess.Popen([str(CLIENT), *map(str, args)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=client_env())
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buf = b""
        self.lines = []
        self.err = b""  # stderr read so far by wait_stderr

    def send(self, line):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def _pump(self):
        try:
            chunk = self.proc.stdout.read()
        except BlockingIOError:
            chunk = None
        if chunk:
            self.buf += chunk
            *done, self.buf = self.buf.split(b"\n")
            self.lines += [l.decode() for l in done]

    def wait_line(self, pred, timeout=TIMEOUT):
        """Waits until an output line satisfies pred (or equals it)."""
        match = pred if callable(pred) else (lambda l: l == pred)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._pump()
            for line in self.lines:
                if match(line):
                    return line
            if self.proc.poll() is not None:
                self._pump()
                break
            time.sleep(0.02)
        for line in self.lines:
            if match(line):
                return line
        raise AssertionError(f"no output line matching {pred!r}; got {self.lines!r}")

    def wait_stderr(self, text, timeout=TIMEOUT):
        """Waits until stderr holds `text`; returns all of stderr so far."""
        os.set_blocking(self.proc.stderr.fileno(), False)
        deadline = time.monotonic() + timeout
        while True:
            try:
                chunk = self.proc.stderr.read()
            except BlockingIOError:
                chunk = None
            if chunk:
                self.err += chunk
            if text in self.err.decode(errors="replace"):
                return self.err.decode(errors="replace")
            if time.monotonic() > deadline or (self.proc.poll() is not None and not chunk):
                raise AssertionError(f"stderr never said {text!r}; got {self.err.decode()!r}")
            time.sleep(0.02)

    def finish(self, timeout=TIMEOUT):
        """Closes stdin; returns (exit status, stdout lines, stderr)."""
        self.proc.stdin.close()
        status = self.proc.wait(timeout)
        self._pump()
        if self.buf:
            self.lines.append(self.buf.decode())
            self.buf = b""
        rest = self.proc.stderr.read() or b""
        return status, self.lines, (self.err + rest).decode()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def tcp(server):
    return ["--tcp", f"127.0.0.1:{server.tcp}"]


def udp(server):
    return ["--udp", f"127.0.0.1:{server.udp}"]


def ws(server):
    return ["--ws", f"ws://127.0.0.1:{server.http}/ws"]


def echo_tcp(server):
    return ["--tcp", f"127.0.0.1:{server.echo}"]


def echo_udp(server):
    return ["--udp", f"127.0.0.1:{server.echo}"]


class TcpProxy:
    """Forwards 127.0.0.1:self.port to a server port; cut() drops every
    connection through it (both sides), as a network failure would, while
    the server keeps running."""

    def __init__(self, target_port):
        import socket
        import threading
        self.target = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.pairs = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        import socket
        import threading
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.pairs.append((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        import socket
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        import socket
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def close(self):
        self.closed = True
        self.listener.close()
        self.cut()
