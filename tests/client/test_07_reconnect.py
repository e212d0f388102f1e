"""The server goes away and comes back on the same ports: chatgate-client
reconnects by itself (backoff with jitter), with the same nick and room,
says so in words, and over WebSocket shows every message of the room once
(nothing missed, nothing doubled). Piped input without --reconnect ends
with an error instead (test_05_errors.py)."""

import os
import signal

import pytest

from client_helpers import run_client, tcp, udp, ws

TRANSPORTS = {"tcp": tcp, "udp": udp, "ws": ws}


def same_ports(server):
    return ["--http-port", str(server.http), "--tcp-port", str(server.tcp),
            "--udp-port", str(server.udp), "--echo-port", str(server.echo),
            "--irc-port", str(server.irc)]


def restart(chatgate, old):
    assert old.stop(signal.SIGTERM)[0] == 0
    return chatgate(*same_ports(old))


@pytest.mark.parametrize("via", TRANSPORTS)
def test_reconnects_with_the_same_nick_and_room(chatgate, background, via):
    first = chatgate()
    client = background("chat", *TRANSPORTS[via](first), "--nick", f"stayer-{via}", "--room", "ops",
                        "--reconnect")
    watcher = first.ws()
    watcher.join("ops")
    client.wait_line(f"* stayer-{via} joined #ops")
    client.send("before the restart")
    assert watcher.expect("message", **{"from": f"stayer-{via}"})["text"] == "before the restart"

    second = restart(chatgate, first)
    err = client.wait_stderr("reconnected to")
    assert "connection lost (the server is shutting down" in err, err
    assert "reconnecting in " in err, err

    browser = second.ws()
    browser.join("ops")
    members = browser.request({"type": "who", "room": "ops"})["members"]
    assert {"nick": f"stayer-{via}", "via": via} in members, members
    client.send("after the restart")
    msg = browser.expect("message", **{"from": f"stayer-{via}"})
    assert (msg["room"], msg["text"]) == ("ops", "after the restart")
    browser.say("welcome back", room="ops")
    client.wait_line(lambda l: l.startswith("[ops] ") and l.endswith("welcome back"))
    status, lines, err = client.finish()
    assert status == 0, err
    # The server's welcome is printed once; the second time the client says "reconnected".
    assert len([l for l in lines if l.startswith("* welcome ")]) == 1, lines


def test_websocket_shows_each_message_once_across_a_restart(chatgate, background):
    first = chatgate()
    client = background("chat", *ws(first), "--nick", "keeper", "--room", "ops", "--reconnect")
    poster = first.ws()
    poster.rename("poster")
    poster.join("ops")
    client.wait_line("* keeper joined #ops")
    for text in ("one", "two"):
        poster.say(text, room="ops")
    client.wait_line("[ops] poster (ws): two")

    # Hold the client while the server restarts and a message is posted
    # there, so that it can only learn of "three" from the history.
    os.kill(client.proc.pid, signal.SIGSTOP)
    try:
        second = restart(chatgate, first)
        poster2 = second.ws()
        poster2.rename("poster")
        poster2.join("ops")
        poster2.say("three", room="ops")
        poster2.expect("message", text="three")
    finally:
        os.kill(client.proc.pid, signal.SIGCONT)
    client.wait_stderr("reconnected to")
    client.wait_line("[ops] poster (ws): three")
    poster2.expect("joined", room="ops", nick="keeper")
    poster2.say("four", room="ops")
    client.wait_line("[ops] poster (ws): four")
    status, lines, err = client.finish()
    assert status == 0, err
    shown = [l for l in lines if l.startswith("[ops] ")]
    assert shown == [f"[ops] poster (ws): {t}" for t in ("one", "two", "three", "four")], lines
    # Nothing of the lobby the new server put it in first.
    assert lines[0].startswith("* welcome ")
    assert not [l for l in lines[1:] if "#lobby" in l or l.startswith("[lobby]")], lines


def test_websocket_in_the_default_room_shows_each_message_once(chatgate, background):
    first = chatgate()
    poster = first.ws()
    poster.rename("poster")
    client = background("chat", *ws(first), "--nick", "homebody", "--reconnect")
    poster.expect("nick", nick="homebody")
    poster.say("old news")
    client.wait_line("[lobby] poster (ws): old news")
    second = restart(chatgate, first)
    client.wait_stderr("reconnected to")
    poster2 = second.ws()
    poster2.rename("poster")
    poster2.say("fresh")
    client.wait_line("[lobby] poster (ws): fresh")
    status, lines, err = client.finish()
    assert status == 0, err
    assert [l for l in lines if l.startswith("[lobby]")] == ["[lobby] poster (ws): old news",
                                                            "[lobby] poster (ws): fresh"], lines


def test_lines_piped_while_offline_are_sent_after_the_reconnect(chatgate, background):
    first = chatgate()
    watcher = first.ws()
    client = background("chat", *ws(first), "--nick", "patient", "--reconnect")
    watcher.expect("nick", nick="patient")
    assert first.stop(signal.SIGTERM)[0] == 0
    client.wait_stderr("connection lost")
    client.send("written while offline")
    second = chatgate(*same_ports(first))
    browser = second.ws()
    msg = browser.expect("message", **{"from": "patient"})
    assert msg["text"] == "written while offline"
    status, _, err = client.finish()
    assert status == 0, err


def test_piped_reconnect_gives_up_after_timeout_once_input_ended(chatgate, background):
    srv = chatgate()
    client = background("chat", *tcp(srv), "--nick", "quitter", "--reconnect", "--timeout", "2")
    client.wait_line(lambda l: l.endswith("is now known as quitter"))
    assert srv.stop(signal.SIGTERM)[0] == 0
    client.wait_stderr("connection lost")
    client.send("never delivered")
    status, _, err = client.finish(timeout=30)
    assert status == 1
    assert "no connection to tcp 127.0.0.1" in err, err


def test_without_reconnect_a_script_ends_with_a_clear_error(chatgate, background):
    srv = chatgate()
    client = background("chat", *ws(srv), "--nick", "oneshot")
    client.wait_line(lambda l: l.endswith("is now known as oneshot"))
    assert srv.stop(signal.SIGTERM)[0] == 0
    assert client.proc.wait(20) == 1
    err = client.proc.stderr.read().decode()
    assert "the server is shutting down" in err and "reconnecting" not in err, err


def test_reconnect_options_exclude_each_other():
    result = run_client("chat", "--reconnect", "--no-reconnect")
    assert result.returncode == 2
    assert b"--no-reconnect" in result.stderr or b"--reconnect" in result.stderr


@pytest.mark.parametrize("via", ["tcp", "ws"])
def test_a_nick_still_taken_after_the_reconnect_is_asked_for_again(chatgate, background, via):
    first = chatgate()
    client = background("chat", *TRANSPORTS[via](first), "--nick", "claimed", "--reconnect")
    client.wait_line(lambda l: l.endswith("is now known as claimed"))
    # While the client is held, someone else has the nick on the new server.
    os.kill(client.proc.pid, signal.SIGSTOP)
    try:
        second = restart(chatgate, first)
        squatter = second.ws()
        squatter.rename("claimed")
    finally:
        os.kill(client.proc.pid, signal.SIGCONT)
    client.wait_stderr("the nick claimed is still taken")
    squatter.close()
    err = client.wait_stderr("reconnected to")
    assert " as claimed in #lobby" in err, err
    browser = second.ws()
    client.send("mine again")
    assert browser.expect("message", text="mine again")["from"] == "claimed"
    status, _, err = client.finish()
    assert status == 0, err


@pytest.fixture
def proxy():
    from client_helpers import TcpProxy
    made = []

    def start(port):
        p = TcpProxy(port)
        made.append(p)
        return p

    yield start
    for p in made:
        p.close()


def test_websocket_resumes_with_since_when_the_server_kept_its_history(server, background, proxy):
    """The link breaks, the server stays: the rejoin's history repeats the
    last message seen, so only what came after is shown."""
    link = proxy(server.http)
    poster = server.ws()
    poster.rename("poster")
    poster.join("ops")
    client = background("chat", "--ws", f"ws://127.0.0.1:{link.port}/ws", "--nick", "roamer",
                        "--room", "ops", "--reconnect")
    poster.expect("joined", room="ops", nick="roamer")
    for text in ("one", "two"):
        poster.say(text, room="ops")
    client.wait_line("[ops] poster (ws): two")
    link.cut()
    poster.expect("left", room="ops", nick="roamer")
    poster.say("three", room="ops")  # while the client is away
    client.wait_stderr("reconnected to")
    client.wait_line("[ops] poster (ws): three")
    poster.say("four", room="ops")
    client.wait_line("[ops] poster (ws): four")
    status, lines, err = client.finish()
    assert status == 0, err
    shown = [l for l in lines if l.startswith("[ops] ")]
    assert shown == [f"[ops] poster (ws): {t}" for t in ("one", "two", "three", "four")], lines


def test_text_skips_the_replayed_lines_it_showed_before(server, background, proxy):
    link = proxy(server.tcp)
    poster = server.ws()
    poster.rename("poster")
    poster.join("ops")
    client = background("chat", "--tcp", f"127.0.0.1:{link.port}", "--nick", "textroamer",
                        "--room", "ops", "--reconnect")
    poster.expect("joined", room="ops", nick="textroamer")
    for text in ("one", "two"):
        poster.say(text, room="ops")
    client.wait_line("[ops] poster: two")
    client.send("mine")
    poster.expect("message", text="mine")
    link.cut()
    poster.expect("left", room="ops", nick="textroamer")
    poster.say("three", room="ops")
    client.wait_stderr("reconnected to")
    client.wait_line("[ops] poster: three")
    status, lines, err = client.finish()
    assert status == 0, err
    shown = [l for l in lines if l.startswith("[ops] ")]
    assert shown == ["[ops] poster: one", "[ops] poster: two", "[ops] poster: three"], lines
