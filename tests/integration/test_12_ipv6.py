"""SPEC 1: `--bind ::` listens on IPv6 and, dual-stack, on IPv4 too."""

import json
import signal
import socket
import subprocess
import time

import pytest

from conftest import BINARY


def ipv6_loopback_works():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback_works(), reason="no IPv6 loopback on this machine")
def test_bind_any_ipv6_serves_both_families(tmp_path):
    ports_file = tmp_path / "ports.json"
    proc = subprocess.Popen([str(BINARY), "--bind", "::", "--http-port", "0", "--tcp-port", "0",
                             "--udp-port", "0", "--echo-port", "0", "--irc-port", "0", "--ports-file", str(ports_file)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while not ports_file.exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no ports file"
            time.sleep(0.02)
        ports = json.loads(ports_file.read_text())
        for host in ("::1", "127.0.0.1"):
            with socket.create_connection((host, ports["tcp"]), timeout=10) as s:
                welcome = s.makefile("rb").readline().decode()
                assert welcome.startswith("* welcome guest-"), (host, welcome)
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as u:
            u.settimeout(10)
            u.sendto(b"/who\n", ("::1", ports["udp"]))
            assert u.recv(4096).startswith(b"* welcome ")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=3) == 0
