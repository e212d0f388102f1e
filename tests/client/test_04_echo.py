"""chatgate-client echo: lines come back; --count/--size is a round-trip
probe that prints min/median/p99."""

import re

import pytest

from client_helpers import echo_tcp, echo_udp, run_client

TRANSPORTS = {"tcp": echo_tcp, "udp": echo_udp}
RTT_RE = re.compile(r"^rtt min (\d+\.\d{3}) ms, median (\d+\.\d{3}) ms, p99 (\d+\.\d{3}) ms$")


@pytest.mark.parametrize("via", TRANSPORTS)
def test_lines_come_back(server, via):
    lines = ["ping", "héllo ✓", "", "last one"]
    result = run_client("echo", *TRANSPORTS[via](server), input="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().split("\n")[:-1] == lines


@pytest.mark.parametrize("via", TRANSPORTS)
def test_bye_stops(server, via):
    result = run_client("echo", *TRANSPORTS[via](server), input="one\nbye\ntwo\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == "one\n"


def test_echo_traffic_reaches_the_echo_room(server):
    watcher = server.ws()
    watcher.join("echo")
    result = run_client("echo", *echo_tcp(server), input="seen by browsers\n")
    assert result.returncode == 0, result.stderr
    msg = watcher.expect("message", room="echo")
    assert msg["via"] == "echo" and msg["text"] == "seen by browsers"


@pytest.mark.parametrize("via", TRANSPORTS)
def test_probe_prints_latency(server, via):
    result = run_client("echo", *TRANSPORTS[via](server), "--count", "200", "--size", "512")
    assert result.returncode == 0, result.stderr
    head, stats = result.stdout.decode().splitlines()
    assert head == f"{via} 127.0.0.1:{server.echo}: 200 round trips of 512 bytes, 0 lost"
    m = RTT_RE.match(stats)
    assert m, stats
    low, median, p99 = map(float, m.groups())
    assert 0 < low <= median <= p99 < 1000


def test_probe_sizes_at_the_limits(server):
    assert run_client("echo", *echo_udp(server), "--count", "3", "--size", "65507").returncode == 0
    assert run_client("echo", *echo_tcp(server), "--count", "3", "--size", "1").returncode == 0
    too_big = run_client("echo", *echo_udp(server), "--count", "3", "--size", "65508")
    assert too_big.returncode == 2 and b"--size" in too_big.stderr


def test_probe_without_a_server_fails(server):
    for args in (["--tcp", "127.0.0.1:1"], ["--udp", "127.0.0.1:1"]):
        result = run_client("echo", *args, "--count", "5")
        assert result.returncode == 1
        assert b"Connection refused" in result.stderr
