"""chatgate-client chat over TCP, UDP and WebSocket, talking with a
WebSocket user in the same room, both ways."""

import json

import pytest

from client_helpers import run_client, tcp, udp, ws

TRANSPORTS = {"tcp": tcp, "udp": udp, "ws": ws}


def message_from(nick):
    return lambda o: o["type"] == "message" and o["from"] == nick


@pytest.mark.parametrize("via", TRANSPORTS)
def test_client_posts_to_a_browser(server, via):
    browser = server.ws()
    result = run_client("chat", *TRANSPORTS[via](server), "--nick", f"cli-{via}",
                        input=f"hello from {via}\n")
    assert result.returncode == 0, result.stderr
    msg, _ = browser.recv_until(message_from(f"cli-{via}"))
    assert (msg["room"], msg["via"], msg["text"]) == ("lobby", via, f"hello from {via}")


@pytest.mark.parametrize("via", TRANSPORTS)
def test_client_prints_what_a_browser_says(server, background, via):
    browser = server.ws()
    browser.rename("webby")
    client = background("chat", *TRANSPORTS[via](server), "--nick", f"cli-{via}")
    browser.expect("nick", nick=f"cli-{via}")
    browser.say("hi from the browser")
    # Over WebSocket the client knows the sender's transport; text lines do not carry it.
    expected = ("[lobby] webby (ws): hi from the browser" if via == "ws"
                else "[lobby] webby: hi from the browser")
    client.wait_line(expected)
    status, lines, err = client.finish()
    assert status == 0, err
    assert lines[0].startswith(f"* welcome guest-"), lines


@pytest.mark.parametrize("via", TRANSPORTS)
def test_room_on_start_moves_the_client(server, background, via):
    lobby, ops = server.ws(), server.ws()
    ops.join("ops")
    client = background("chat", *TRANSPORTS[via](server), "--nick", "mover", "--room", "#Ops")
    ops.expect("joined", room="ops", nick="mover")
    # Like a text client: one room at a time, so it leaves lobby.
    lobby.expect("left", room="lobby", nick="mover")
    client.send("in ops now")
    msg = ops.expect("message", **{"from": "mover"})
    assert msg["room"] == "ops" and msg["text"] == "in ops now"
    status, lines, err = client.finish()
    assert status == 0, err
    assert "* mover joined #ops" in lines


def test_ws_commands_map_to_json_requests(server):
    dev = server.ws()
    dev.rename("devuser")
    dev.join("dev")
    script = "\n".join(["/nick zed", "/join dev", "/me waves", "/who", "/rooms",
                        "plain text", "/bogus", "/nick"]) + "\n"
    result = run_client("chat", *ws(server), input=script)
    out = result.stdout.decode().splitlines()
    assert any(l.endswith(" is now known as zed") for l in out), out
    assert "* zed joined #dev" in out
    assert "* devuser (ws)" in out and "* zed (ws)" in out
    assert "* #dev (2)" in out and "* #lobby (1)" in out
    assert "! unknown command: /bogus (try /help)" in out
    assert "! usage: /nick NAME" in out
    # Own messages are not printed back, as for a text user.
    assert not any("waves" in l or "plain text" in l for l in out), out
    action = dev.expect("message", **{"from": "zed"})
    assert action["text"] == "waves" and action.get("me") is True and action["room"] == "dev"
    plain = dev.expect("message", **{"from": "zed"})
    assert plain["text"] == "plain text" and not plain.get("me")
    # Two lines were refused (/bogus, /nick without a name): a script hears of it.
    assert result.returncode == 1
    assert "refused 2 line(s)" in result.stderr.decode()


def test_text_commands_go_to_the_server(server):
    watcher = server.ws()
    watcher.join("dev")
    result = run_client("chat", *tcp(server), input="/nick tee\n/join dev\n/me waves\n/who\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode().splitlines()
    assert "* tee joined #dev" in out
    assert "* tee (tcp)" in out
    assert out[-1] == "* bye"
    action = watcher.expect("message", **{"from": "tee"})
    assert action["text"] == "waves" and action.get("me") is True


@pytest.mark.parametrize("via", ["ws", "tcp"])
def test_json_prints_raw_events(server, via):
    result = run_client("chat", *TRANSPORTS[via](server), "--json", "--nick", "raw",
                        input="hello raw\n")
    assert result.returncode == 0, result.stderr
    events = [json.loads(l) for l in result.stdout.decode().splitlines()]
    assert events[0]["type"] == "welcome"
    nick = [e for e in events if e["type"] == "nick"]
    assert nick and nick[0]["old"] == events[0]["nick"] and nick[0]["nick"] == "raw"
    # With --json the acknowledgement is shown too.
    own = [e for e in events if e["type"] == "message"]
    assert own[-1]["text"] == "hello raw" and own[-1]["via"] == via


def test_json_passes_typed_requests_through(server):
    result = run_client("chat", *ws(server), "--json",
                        input='{"type":"who","room":"lobby","ref":"mine"}\n')
    assert result.returncode == 0, result.stderr
    events = [json.loads(l) for l in result.stdout.decode().splitlines()]
    who = [e for e in events if e.get("ref") == "mine"]
    assert who and who[0]["type"] == "who" and who[0]["room"] == "lobby"


@pytest.mark.parametrize("word", ["exit", "bye", "/quit", "/QUIT"])
@pytest.mark.parametrize("via", TRANSPORTS)
def test_exit_words_end_the_session(server, via, word):
    browser = server.ws()
    result = run_client("chat", *TRANSPORTS[via](server), "--nick", "leaver",
                        input=f"before\n{word}\nafter\n")
    assert result.returncode == 0, result.stderr
    texts = [m["text"] for m in _messages_until_sync(browser) if m["from"] == "leaver"]
    assert texts == ["before"]


def _messages_until_sync(client):
    return [o for o in client.sync() if o["type"] == "message"]
