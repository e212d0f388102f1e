"""Clear errors and a non-zero exit status: nothing listening, a bad URL, a
server that goes away, a start the server refuses."""

import signal

import pytest

from client_helpers import run_client, tcp, udp, ws

TRANSPORTS = {"tcp": tcp, "udp": udp, "ws": ws}


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize("args", [
    ["--tcp", "127.0.0.1:{p}"], ["--udp", "127.0.0.1:{p}"], ["--ws", "ws://127.0.0.1:{p}/ws"]])
def test_nothing_listening(args):
    port = free_port()
    result = run_client("chat", *(a.format(p=port) for a in args), input="hi\n")
    assert result.returncode == 1
    err = result.stderr.decode()
    assert err.startswith("chatgate-client: cannot connect to ") and "Connection refused" in err, err
    assert result.stdout == b""


@pytest.mark.parametrize("url, message", [
    ("wss://", "no host in"),
    ("http://127.0.0.1:8080/ws", "not a WebSocket URL"),
    ("ws://", "no host in"),
    ("ws://127.0.0.1:0/ws", "bad port"),
    ("ws://[::1/ws", "no host in"),
])
def test_bad_url(url, message):
    result = run_client("chat", "--ws", url, input="hi\n")
    assert result.returncode == 2
    assert message in result.stderr.decode()


@pytest.mark.parametrize("args", [
    ["chat", "--tcp", "nonsense"], ["chat", "--udp", "127.0.0.1:99999"],
    ["chat", "--tcp", "127.0.0.1:1", "--ws", "ws://127.0.0.1:1/ws"],
    ["chat", "--udp", "127.0.0.1:7000", "--json"], ["chat", "--nick", "no spaces"],
    ["chat", "--room", "bad!room"], ["echo", "--ws", "ws://127.0.0.1:1/ws"], [],
])
def test_usage_errors(args):
    result = run_client(*args)
    assert result.returncode == 2
    assert result.stderr


def test_wrong_path_says_where_the_chat_is(server):
    result = run_client("chat", "--ws", f"ws://127.0.0.1:{server.http}/chat", input="hi\n")
    assert result.returncode == 1
    assert "HTTP 404 (the chat is at /ws)" in result.stderr.decode()


def test_a_url_without_path_means_ws(server):
    browser = server.ws()
    result = run_client("chat", "--ws", f"ws://127.0.0.1:{server.http}", "--nick", "nopath",
                        input="hi\n")
    assert result.returncode == 0, result.stderr
    assert browser.expect("message", **{"from": "nopath"})["text"] == "hi"


def test_not_a_chat_port(server):
    # The echo port never says welcome.
    result = run_client("chat", "--tcp", f"127.0.0.1:{server.echo}", "--timeout", "1", input="hi\n")
    assert result.returncode == 1
    assert "no welcome from tcp 127.0.0.1" in result.stderr.decode()


@pytest.mark.parametrize("via", TRANSPORTS)
def test_server_shutting_down(chatgate, background, via):
    srv = chatgate()
    client = background("chat", *TRANSPORTS[via](srv), "--nick", f"victim-{via}")
    watcher = srv.ws()
    watcher.sync()
    client.wait_line(lambda l: l.endswith(f"is now known as victim-{via}"))
    assert srv.stop(signal.SIGTERM)[0] == 0
    status = client.proc.wait(20)
    assert status == 1
    assert "the server is shutting down" in client.proc.stderr.read().decode()


@pytest.mark.parametrize("via", ["tcp", "ws"])
def test_server_killed(chatgate, background, via):
    srv = chatgate()
    client = background("chat", *TRANSPORTS[via](srv), "--nick", f"orphan-{via}")
    client.wait_line(lambda l: l.endswith(f"is now known as orphan-{via}"))
    srv.proc.kill()
    srv.proc.wait()
    srv.returncode = 0  # killed on purpose
    assert client.proc.wait(20) == 1
    err = client.proc.stderr.read().decode()
    assert err.startswith("chatgate-client: ") and ("closed" in err or "lost" in err), err


@pytest.mark.parametrize("via", TRANSPORTS)
def test_refused_nick_stops_a_script(server, via):
    holder = server.ws()
    holder.rename("taken")
    browser = server.ws()
    result = run_client("chat", *TRANSPORTS[via](server), "--nick", "TAKEN", input="not sent\n")
    assert result.returncode == 1
    assert "the server refused the start: nick taken: TAKEN" in result.stderr.decode()
    assert not [o for o in browser.sync() if o["type"] == "message"]


def test_server_full(chatgate):
    srv = chatgate("--max-clients", "1")
    first = srv.ws()
    for args in (tcp(srv), udp(srv), ws(srv)):
        result = run_client("chat", *args, input="hi\n")
        assert result.returncode == 1
        assert "full" in result.stderr.decode(), result.stderr
    first.close()


@pytest.mark.parametrize("word", ["chta", "caht", "ecoh"])
def test_unknown_subcommand_is_named(word):
    result = run_client(word, "--nick", "x")
    assert result.returncode == 2
    err = result.stderr.decode()
    assert f'unknown command "{word}"' in err and "chat or echo" in err, err
