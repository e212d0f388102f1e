"""SPEC 12 from the terminal client: /msg, /topic and /leave (/part) over
TCP text, UDP and WebSocket JSON; direct messages shown apart from room
messages ("*alice* hi", and "-> *bob* hi" for one's own)."""

import json

import pytest

from client_helpers import run_client, tcp, udp, ws

TRANSPORTS = {"tcp": tcp, "udp": udp, "ws": ws}


def lines_of(result):
    return result.stdout.decode().splitlines()


@pytest.mark.parametrize("via", TRANSPORTS)
def test_direct_message_from_the_client(server, via):
    browser = server.ws()
    browser.rename("webby")
    other = server.ws()  # in the same room: must not see the direct message
    result = run_client("chat", *TRANSPORTS[via](server), "--nick", f"dm-{via}",
                        input="/msg webby psst, only for you\n/MSG  Webby second one\n")
    assert result.returncode == 0, result.stderr
    first = browser.expect("message", **{"from": f"dm-{via}"})
    assert (first["to"], first["text"], first["via"]) == ("webby", "psst, only for you", via)
    assert "room" not in first
    second = browser.expect("message", **{"from": f"dm-{via}"})
    assert second["text"] == "second one"
    # Shown as sent, apart from room lines.
    out = lines_of(result)
    assert "-> *webby* psst, only for you" in out, out
    assert not [o for o in other.sync() if o["type"] == "message"]


@pytest.mark.parametrize("via", TRANSPORTS)
def test_direct_message_to_the_client(server, background, via):
    browser = server.ws()
    browser.rename("webby")
    client = background("chat", *TRANSPORTS[via](server), "--nick", f"rcpt-{via}")
    browser.expect("nick", nick=f"rcpt-{via}")
    browser.send({"type": "say", "to": f"rcpt-{via}", "text": "just between us"})
    browser.say("to the whole room")
    client.wait_line("*webby* just between us")
    client.wait_line(lambda l: l.startswith("[lobby] webby") and l.endswith("to the whole room"))
    status, lines, err = client.finish()
    assert status == 0, err
    # The direct message is not shown as a room message.
    assert not [l for l in lines if "just between us" in l and l != "*webby* just between us"], lines


def test_direct_messages_between_two_clients_on_different_transports(server, background):
    watcher = server.ws()
    over_udp = background("chat", *udp(server), "--nick", "udpuser")
    watcher.expect("nick", nick="udpuser")
    result = run_client("chat", *tcp(server), "--nick", "tcpuser", input="/msg udpuser hello over udp\n")
    assert result.returncode == 0, result.stderr
    over_udp.wait_line("*tcpuser* hello over udp")
    over_udp.send("/msg tcpuser too late, you left")
    over_udp.wait_line("! no such nick: tcpuser")
    status, lines, _ = over_udp.finish()
    assert status == 1  # a refused line fails a script


@pytest.mark.parametrize("via", TRANSPORTS)
def test_direct_message_to_nobody(server, via):
    # SPEC 9: a UDP peer gets at most one error line a second, so over UDP
    # the second refusal is not asked for in the same breath.
    udp = via == "udp"
    lines = "/msg nobody hello?\n" + ("" if udp else "/msg\n")
    result = run_client("chat", *TRANSPORTS[via](server), input=lines)
    out = lines_of(result)
    assert "! no such nick: nobody" in out, out
    if not udp:
        assert "! usage: /msg NICK TEXT" in out, out
    assert result.returncode == 1
    assert f"refused {1 if udp else 2} line(s)" in result.stderr.decode()


def test_direct_message_json_mode_shows_the_raw_event(server):
    browser = server.ws()
    browser.rename("webby")
    result = run_client("chat", *tcp(server), "--json", "--nick", "rawdm", input="/msg webby raw\n")
    assert result.returncode == 0, result.stderr
    events = [json.loads(l) for l in lines_of(result)]
    own = [e for e in events if e["type"] == "message"]
    assert own and own[-1]["to"] == "webby" and own[-1]["text"] == "raw" and "room" not in own[-1]


@pytest.mark.parametrize("via", TRANSPORTS)
def test_topic_set_shown_and_asked(server, via):
    browser = server.ws()
    result = run_client("chat", *TRANSPORTS[via](server), "--nick", f"chair-{via}",
                        input="/topic\n/topic Release on Friday\n/topic\n")
    assert result.returncode == 0, result.stderr
    out = lines_of(result)
    line = f"* topic of #lobby: Release on Friday (set by chair-{via})"
    assert out.count(line) == 2, out  # the confirmation, then the answer to /topic
    assert "* no topic in #lobby" in out, out
    event = browser.expect("topic", room="lobby")
    assert (event["topic"], event["by"]) == ("Release on Friday", f"chair-{via}")


@pytest.mark.parametrize("via", TRANSPORTS)
def test_topic_changes_and_joins_are_shown(server, background, via):
    browser = server.ws()
    browser.rename("webby")
    browser.join("ops")
    browser.request({"type": "topic", "room": "ops", "topic": "ops talk"})
    client = background("chat", *TRANSPORTS[via](server), "--nick", f"reader-{via}", "--room", "ops")
    # After the join, the room's topic comes with its history.
    client.wait_line("* topic of #ops: ops talk (set by webby)")
    browser.expect("joined", room="ops", nick=f"reader-{via}")
    browser.request({"type": "topic", "room": "ops", "topic": "new topic"})
    client.wait_line("* topic of #ops: new topic (set by webby)")
    status, _, err = client.finish()
    assert status == 0, err


@pytest.mark.parametrize("via", TRANSPORTS)
@pytest.mark.parametrize("word", ["/leave", "/part"])
def test_leave_goes_back_to_the_default_room(server, via, word):
    watcher = server.ws()  # in lobby and ops
    watcher.join("ops")
    result = run_client("chat", *TRANSPORTS[via](server), "--nick", "roamer", "--room", "ops",
                        input=f"in ops\n{word}\nin lobby\n")
    assert result.returncode == 0, result.stderr
    out = lines_of(result)
    assert "* roamer joined #lobby" in out, out
    seen = [(o["type"], o.get("room"), o.get("text")) for o in watcher.sync()
            if o.get("nick", o.get("from")) == "roamer" and o["type"] in ("message", "left", "joined")]
    start = seen.index(("message", "ops", "in ops"))
    # The usual notices: left #ops, joined #lobby, and the next line goes to lobby.
    assert seen[start:start + 4] == [("message", "ops", "in ops"), ("left", "ops", None),
                                     ("joined", "lobby", None), ("message", "lobby", "in lobby")], seen


@pytest.mark.parametrize("via", TRANSPORTS)
def test_leave_in_the_default_room_is_one_clear_answer(server, via):
    # Over UDP, SPEC 9 allows one error line a second: the second is dropped.
    expected = 1 if via == "udp" else 2
    result = run_client("chat", *TRANSPORTS[via](server), input="/leave\n/part\n")
    out = lines_of(result)
    assert out.count("! you are in the default room #lobby") == expected, out
    assert len([l for l in out if l.startswith("!")]) == expected, out
    assert result.returncode == 1


def test_help_lists_the_conversation_commands(server):
    result = run_client("chat", *ws(server), input="/help\n")
    assert result.returncode == 0, result.stderr
    out = "\n".join(lines_of(result))
    for command in ("/msg NICK TEXT", "/topic", "/topic TEXT", "/leave"):
        assert command in out, out


@pytest.mark.parametrize("via", ["tcp", "ws"])
def test_conversation_commands_in_json_mode(server, via):
    # --json prints the server's events as they are; the commands still work
    # (TCP: NDJSON after /json).
    browser = server.ws()
    browser.rename("webby")
    me = f"js-{via}"
    result = run_client("chat", *TRANSPORTS[via](server), "--json", "--nick", me, "--room", "ops",
                        input="/topic ops in json\n/topic\n/msg webby raw dm\n/leave\n/leave\n")
    out = lines_of(result)
    events = [json.loads(l) for l in out]
    topics = [(e["room"], e["topic"], e["by"]) for e in events if e["type"] == "topic"]
    assert topics == [("ops", "ops in json", me)] * 2, out  # the confirmation, then the answer
    dm = browser.expect("message", **{"from": me})
    assert (dm["to"], dm["text"], "room" in dm) == ("webby", "raw dm", False)
    assert [e for e in events if e["type"] == "message" and e.get("to") == "webby"], out
    moves = [(e["type"], e["room"]) for e in events if e["type"] in ("joined", "left") and e["nick"] == me]
    assert moves == [("joined", "ops"), ("left", "lobby"), ("left", "ops"), ("joined", "lobby")], out
    # The second /leave, in the default room, is one clear error, and fails the script.
    errors = [e for e in events if e["type"] == "error"]
    assert [e["message"] for e in errors] == ["you are in the default room #lobby"], out
    assert result.returncode == 1
