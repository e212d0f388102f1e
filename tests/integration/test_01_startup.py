"""SPEC 1: listeners, ports file, flags and environment, startup log."""

import json
import os
import re
import socket
import subprocess

import pytest

import chatgate_client as cc
from conftest import BINARY
from test_18_tls_auth import certs as tls_certs  # noqa: F401  (a fixture)


def free_port():
    """A port that is free for both TCP and UDP right now."""
    for _ in range(50):
        t = socket.socket()
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            t.close()
            u.close()
        return port
    raise RuntimeError("no free port")


def tcp_refused(port):
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port))
    except ConnectionRefusedError:
        return True
    finally:
        s.close()
    return False


def run_binary(*args, env=None):
    return subprocess.run([str(BINARY), *args], capture_output=True, timeout=10,
                          env=env, text=True)


def test_ports_file_lists_every_listener(server):
    ports = json.loads(server.ports_file.read_text())
    assert set(ports) == {"http", "tcp", "udp", "echo", "irc"}
    for name, port in ports.items():
        assert isinstance(port, int) and 0 < port < 65536, (name, port)
    # Port 0 really means "pick one": nothing ended up on a fixed default.
    assert ports["http"] != 8080 and ports["tcp"] != 7000 and ports["echo"] != 7007 and ports["irc"] != 6667


def test_ports_file_is_written_by_rename(server):
    # Atomic write: only the final file is left in its directory.
    assert [p.name for p in server.ports_file.parent.iterdir()] == ["ports.json"]
    assert server.ports_file.read_text().strip().startswith("{")


def test_every_port_in_the_file_answers(server):
    status, _, body = server.get("/healthz")
    assert status == 200
    text = server.text()
    assert text.room == "lobby"
    udp = server.udp_client()
    assert udp.hello().startswith("* welcome ")
    echo = socket.create_connection(("127.0.0.1", server.echo), timeout=10)
    echo.sendall(b"ping")
    assert echo.recv(10) == b"ping"
    echo.close()


def test_two_servers_with_port_zero_do_not_collide(chatgate):
    a, b = chatgate(), chatgate()
    assert set(a.ports.values()).isdisjoint(b.ports.values())
    assert a.get("/healthz")[0] == 200 and b.get("/healthz")[0] == 200


def test_explicit_ports_are_used(chatgate):
    http, tcp, udp, echo, irc = (free_port() for _ in range(5))
    server = chatgate("--http-port", str(http), "--tcp-port", str(tcp),
                      "--udp-port", str(udp), "--echo-port", str(echo), "--irc-port", str(irc))
    assert server.ports == {"http": http, "tcp": tcp, "udp": udp, "echo": echo, "irc": irc}
    assert server.text().room == "lobby"


def test_no_tcp_switches_the_chat_listener_off(chatgate):
    port = free_port()
    server = chatgate("--no-tcp", "--tcp-port", str(port))
    assert server.ports.get("tcp") in (None, 0), server.ports
    assert tcp_refused(port)
    assert server.get("/healthz")[0] == 200
    assert server.udp_client().hello().startswith("* welcome ")


def test_no_udp_switches_the_udp_listener_off(chatgate):
    port = free_port()
    server = chatgate("--no-udp", "--udp-port", str(port))
    assert server.ports.get("udp") in (None, 0), server.ports
    u = cc.UdpClient(port)
    u.send("hello")
    # Nobody listens: a connected UDP socket reports the ICMP port-unreachable.
    with pytest.raises((ConnectionRefusedError, cc.ReadTimeout)):
        u.read_datagram(timeout=1)
    u.close()
    assert server.text().room == "lobby"


def test_no_echo_switches_echo_off(chatgate):
    port = free_port()
    server = chatgate("--no-echo", "--echo-port", str(port))
    assert server.ports.get("echo") in (None, 0), server.ports
    assert tcp_refused(port)
    u = cc.UdpClient(port)
    u.send("ping")
    with pytest.raises((ConnectionRefusedError, cc.ReadTimeout)):
        u.read_datagram(timeout=1)
    u.close()
    assert server.text().room == "lobby"


def test_environment_sets_ports(chatgate):
    tcp = free_port()
    server = chatgate("--http-port", "0", "--udp-port", "0", "--echo-port", "0",
                      env={"CHATGATE_TCP_PORT": str(tcp)}, listen=False)
    assert server.tcp == tcp
    assert server.text().room == "lobby"


def test_environment_sets_other_options(chatgate):
    server = chatgate(env={"CHATGATE_DEFAULT_ROOM": "hall",
                           "CHATGATE_MAX_MESSAGE_BYTES": "10"})
    alice = server.text()
    assert alice.room == "hall"
    alice.send("0123456789a")
    assert alice.read_line() == "! message too long"


def test_environment_switches_a_listener_off(chatgate):
    port = free_port()
    server = chatgate("--echo-port", str(port), env={"CHATGATE_NO_ECHO": "1"})
    assert server.ports.get("echo") in (None, 0), server.ports
    assert tcp_refused(port)


def test_flags_win_over_environment(chatgate):
    env_port, flag_port = free_port(), free_port()
    server = chatgate("--tcp-port", str(flag_port), "--default-room", "flagroom",
                      env={"CHATGATE_TCP_PORT": str(env_port),
                           "CHATGATE_DEFAULT_ROOM": "envroom"})
    assert server.tcp == flag_port
    assert server.text().room == "flagroom"
    assert tcp_refused(env_port)


def test_default_room_flag(chatgate):
    server = chatgate("--default-room", "hall")
    assert server.text().room == "hall"
    ws = server.ws()
    assert ws.welcome["rooms"] == ["hall"]
    assert ws.history["room"] == "hall"


def test_help_lists_the_flags():
    result = run_binary("--help")
    assert result.returncode == 0, result.stderr
    out = result.stdout + result.stderr
    for flag in ["--http-port", "--tcp-port", "--udp-port", "--echo-port", "--bind",
                 "--ports-file", "--no-tcp", "--no-udp", "--no-echo", "--log-level",
                 "--default-room", "--history", "--max-message-bytes", "--max-frame-bytes",
                 "--rate", "--burst", "--max-queue-bytes", "--max-clients",
                 "--line-idle-ms", "--udp-idle-s", "--echo-room", "--version"]:
        assert flag in out, f"--help does not mention {flag}"


def test_version():
    result = run_binary("--version")
    assert result.returncode == 0, result.stderr
    # Decision: the server calls itself chatgate/0.1.0 (as in the welcome).
    assert re.search(r"\b0\.1\.0\b", result.stdout + result.stderr), result.stdout




@pytest.mark.parametrize("level", ["trace", "debug", "info", "warn", "error"])
def test_log_levels_are_accepted(chatgate, level):
    server = chatgate("--log-level", level)
    assert server.get("/healthz")[0] == 200




def test_startup_log_names_each_listener(server):
    log = server.stderr()
    lines = log.splitlines()
    for name in ("http", "tcp", "udp", "echo"):
        addr = f"127.0.0.1:{server.ports[name]}"
        assert any(addr in line for line in lines), f"no startup line with {addr}:\n{log}"
    # One line per listener: the chat TCP and UDP lines are distinct, as are
    # the echo TCP and UDP ones when they share a number.
    listener_lines = [l for l in lines if re.search(r"127\.0\.0\.1:\d+", l)]
    assert len(listener_lines) >= 4, log


def test_logs_go_to_stderr_not_stdout(server):
    c = server.text()
    c.send("hello")
    ws = server.ws()
    ws.say("hi")
    ws.expect("message", text="hi")
    assert server.stderr().strip(), "nothing logged on stderr"
    assert server.stdout() == "", f"stdout is not empty:\n{server.stdout()[:2000]}"


# --------------------------------------------------------------------------
# SPEC 9: start-up errors are one line on stderr naming what failed, and
# exit status 2; never an abort, never a half-started server.

ZERO_PORTS = ("--bind", "127.0.0.1", "--http-port", "0", "--tcp-port", "0",
              "--udp-port", "0", "--echo-port", "0", "--irc-port", "0")


def start_fails(*args, env=None):
    """Runs the binary expecting a start-up error; returns its one stderr line."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CHATGATE_")}
    full_env.update(env or {})
    result = run_binary(*args, env=full_env)
    lines = result.stderr.splitlines()
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert len(lines) == 1, f"expected one stderr line, got:\n{result.stderr}"
    assert result.stdout == "", result.stdout
    return lines[0]


def with_ports(**given):
    """ZERO_PORTS with some listeners placed: with_ports(tcp=N), with_ports(tls_tcp=N)."""
    args = ["--bind", "127.0.0.1"]
    for name in ("http", "tcp", "udp", "echo", "irc"):
        args += [f"--{name}-port", str(given.get(name, 0))]
    for name in ("tls_tcp", "irc_tls"):
        if name in given:
            args += ["--" + name.replace("_", "-") + "-port", str(given[name])]
    return args


def twin_is_free(port, kind):
    """True if `port` can be bound with the other protocol right now.

    Echo listens on one number for TCP and UDP; a test that takes one of them
    must not pick a number whose twin another test (or a client's ephemeral
    port) holds, or chatgate would report the twin instead."""
    probe = socket.socket(socket.AF_INET, kind)
    try:
        probe.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        probe.close()


def take_port(kind):
    for _ in range(64):
        s = socket.socket(socket.AF_INET, kind)
        s.bind(("127.0.0.1", 0))
        twin = socket.SOCK_DGRAM if kind == socket.SOCK_STREAM else socket.SOCK_STREAM
        if twin_is_free(s.getsockname()[1], twin):
            return s
        s.close()
    raise RuntimeError("no port with a free twin")


@pytest.fixture
def taken_tcp():
    s = take_port(socket.SOCK_STREAM)
    s.listen()
    yield s.getsockname()[1]
    s.close()


@pytest.fixture
def taken_udp():
    s = take_port(socket.SOCK_DGRAM)
    yield s.getsockname()[1]
    s.close()


@pytest.mark.parametrize("listener,flag,words", [
    ("http", "--http-port", "http"),
    ("tcp", "--tcp-port", "tcp chat"),
    ("echo", "--echo-port", "echo tcp"),
    ("irc", "--irc-port", "irc"),
])
def test_a_taken_tcp_port_names_the_listener_and_address(taken_tcp, listener, flag, words):
    line = start_fails(*with_ports(**{listener: taken_tcp}))
    assert f"127.0.0.1:{taken_tcp}" in line, line
    assert words in line and flag in line, line
    assert "already in use" in line.lower(), line


@pytest.mark.parametrize("listener,flag,words", [
    ("tcp", "--tcp-port", "tcp chat"),
    ("irc", "--irc-port", "irc"),
    ("tls_tcp", "--tls-tcp-port", "tls tcp chat"),
    ("irc_tls", "--irc-tls-port", "irc over tls"),
])
def test_a_taken_stream_chat_port_is_named_word_for_word(taken_tcp, tls_certs, listener, flag, words):
    # TCP chat and IRC, plain and over TLS, share one listener: each still
    # names itself and its own flag.
    # (--log-level warn: the certificate line logged before would make two.)
    tls = ["--tls-cert", str(tls_certs["cert"]), "--tls-key", str(tls_certs["key"]), "--log-level", "warn"]
    line = start_fails(*with_ports(**{"tls_tcp": 0, "irc_tls": 0, listener: taken_tcp}), *tls)
    assert f"{words} ({flag}): cannot listen on 127.0.0.1:{taken_tcp}: " in line, line
    assert "already in use" in line.lower(), line


@pytest.mark.parametrize("listener,flag,words", [
    ("udp", "--udp-port", "udp chat"),
    ("echo", "--echo-port", "echo udp"),
])
def test_a_taken_udp_port_names_the_listener_and_address(taken_udp, listener, flag, words):
    line = start_fails(*with_ports(**{listener: taken_udp}))
    assert f"127.0.0.1:{taken_udp}" in line, line
    assert words in line and flag in line, line
    assert "already in use" in line.lower(), line


def test_a_taken_port_leaves_nothing_listening(taken_tcp):
    # The failed server must not hold the listeners it opened before it.
    http = free_port()
    start_fails(*with_ports(http=http, tcp=taken_tcp))
    assert tcp_refused(http)


def test_a_bad_bind_address_is_named():
    line = start_fails("--bind", "not-an-address", "--http-port", "0", "--tcp-port", "0",
                       "--udp-port", "0", "--echo-port", "0", "--irc-port", "0")
    assert "--bind" in line and "not-an-address" in line, line


def test_an_address_this_machine_does_not_have_is_named():
    # 192.0.2.0/24 is TEST-NET-1: never a local address.
    line = start_fails("--bind", "192.0.2.1", "--http-port", "0", "--tcp-port", "0",
                       "--udp-port", "0", "--echo-port", "0", "--irc-port", "0")
    assert "192.0.2.1" in line and "http" in line, line


def test_an_unwritable_ports_file_is_named(tmp_path):
    path = tmp_path / "no-such-dir" / "ports.json"
    line = start_fails(*ZERO_PORTS, "--ports-file", str(path))
    assert "--ports-file" in line and str(path) in line, line
    assert "no such file" in line.lower(), line


@pytest.mark.parametrize("args,flag,value", [
    (("--http-port", "70000"), "--http-port", "70000"),
    (("--tcp-port", "-1"), "--tcp-port", "-1"),
    (("--rate", "-1"), "--rate", "-1"),
    (("--rate", "abc"), "--rate", "abc"),
    (("--max-clients", "-5"), "--max-clients", "-5"),
    (("--history", "-1"), "--history", "-1"),
    (("--burst", "0"), "--burst", "0"),
    (("--log-level", "loud"), "--log-level", "loud"),
    (("--default-room", "no way"), "--default-room", "no way"),
    (("--no-such-flag",), "--no-such-flag", "--no-such-flag"),
    (("--shutdown-delay-s", "-3"), "--shutdown-delay-s", "-3"),
    # The limits of the flags added for clusters, presence and IRC over TLS.
    (("--redis-timeout-ms", "499"), "--redis-timeout-ms", "499"),
    (("--redis-timeout-ms", "60001"), "--redis-timeout-ms", "60001"),
    (("--redis-ttl-ms", "1499"), "--redis-ttl-ms", "1499"),
    (("--presence-limit", "-1"), "--presence-limit", "-1"),
    (("--irc-tls-port", "70000"), "--irc-tls-port", "70000"),
    # SPEC 9's flags.
    (("--max-udp-peers", "0"), "--max-udp-peers", "0"),
    (("--max-udp-peers", "-1"), "--max-udp-peers", "-1"),
    (("--history-bytes", "-1"), "--history-bytes", "-1"),
    (("--history-bytes", "lots"), "--history-bytes", "lots"),
    (("--shutdown-delay-s", "3601"), "--shutdown-delay-s", "3601"),
])
def test_a_bad_flag_value_is_named(args, flag, value):
    port = free_port()
    # The placed port stays free: nothing started before the flag was refused.
    line = start_fails("--bind", "127.0.0.1", "--tcp-port", str(port), *args)
    assert flag in line and value in line, line
    assert tcp_refused(port)


def test_a_bad_value_from_the_environment_is_named():
    line = start_fails(*ZERO_PORTS, env={"CHATGATE_MAX_QUEUE_BYTES": "lots"})
    assert "--max-queue-bytes" in line and "lots" in line, line


def test_a_flag_without_its_value_is_named():
    line = start_fails("--bind", "127.0.0.1", "--http-port")
    assert "--http-port" in line, line


def test_a_missing_web_root_is_named(tmp_path):
    missing = tmp_path / "no-such-folder"
    line = start_fails(*ZERO_PORTS, "--web-root", str(missing))
    assert "--web-root" in line and str(missing) in line, line


def test_help_and_version_still_exit_0():
    for flag in ("--help", "--version"):
        result = run_binary(flag)
        assert result.returncode == 0, (flag, result.stderr)
        assert result.stdout.strip(), flag
