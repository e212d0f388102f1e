"""SPEC 3/4: NDJSON on the TCP chat port, by /json or a first byte '{'."""

import json
import re
import time

import chatgate_client as cc


def read_json_lines_until(sock_client, pred, timeout=10):
    """Read lines, every one of which must be JSON, until pred(obj)."""
    seen = []
    deadline = time.monotonic() + timeout
    while True:
        line = sock_client.read_line_bytes(timeout=max(deadline - time.monotonic(), 0.001))
        obj = json.loads(line)
        seen.append(obj)
        if pred(obj):
            return seen


def test_first_byte_brace_switches_to_ndjson(server):
    c = server.ndjson(mode="brace")
    # The next thing after the text welcome is a JSON welcome; then the
    # request that switched is answered.
    assert c.switch_replies[0]["type"] == "welcome", c.switch_replies
    assert c.welcome["rooms"] == ["lobby"]
    assert c.welcome["nick"] == c.text_nick
    assert c.switch_replies[-1]["type"] == "rooms" and c.switch_replies[-1]["ref"] == "hello"


def test_brace_before_reading_anything(server):
    # A program that sends JSON right away may ignore a text welcome.
    c = cc.LineSocket(server.tcp)
    c.send_raw(b'{"type":"say","room":"lobby","text":"straight in","ref":7}\n')
    lines = []
    while True:
        line = c.read_line_bytes().decode()
        lines.append(line)
        if line.startswith("{") and json.loads(line).get("ref") == 7:
            break
    json_lines = [json.loads(l) for l in lines if l.startswith("{")]
    text_lines = [l for l in lines if not l.startswith("{")]
    assert all(cc.WELCOME_RE.match(l) for l in text_lines), lines
    assert lines[:len(text_lines)] == text_lines, "text after JSON began"
    assert json_lines[0]["type"] == "welcome", lines
    assert json_lines[-1]["type"] == "message" and json_lines[-1]["text"] == "straight in"
    c.close()


def test_json_command_switches_to_ndjson(server):
    c = server.ndjson(mode="/json")
    assert c.switch_replies[-1]["type"] == "rooms"
    lobby = [r for r in c.switch_replies[-1]["rooms"] if r["room"] == "lobby"]
    assert lobby == [{"room": "lobby", "members": 1, "topic": ""}]


def test_json_command_then_every_line_is_json(server):
    c = cc.TextClient(server.tcp)
    c.send("/json")
    c.send_raw(b'{"type":"who","room":"lobby","ref":"w"}\n')
    seen = read_json_lines_until(c, lambda o: o.get("ref") == "w")
    who = seen[-1]
    assert who["type"] == "who" and who["members"] == [{"nick": c.nick, "via": "tcp"}]
    c.close()


def test_brace_later_is_just_text(server):
    # Only the first byte of the connection decides.
    a, ws = server.text(), server.ws()
    a.send("hello")
    a.send('{"type": "rooms"}')
    texts = [ws.expect("message")["text"] for _ in range(2)]
    assert texts == ["hello", '{"type": "rooms"}']


def test_json_command_is_tcp_only(server):
    ws = server.ws()
    u = server.udp_client()
    u.hello()
    u.send("/json")
    assert u.read_line().startswith("! ")
    u.send("still text")
    assert ws.expect("message")["text"] == "still text"


def test_ndjson_client_chats_with_everyone(server):
    ws, t = server.ws(), server.text()
    n = server.ndjson()
    n.say("json over tcp", ref="s1")
    own = n.expect("message")
    assert own["text"] == "json over tcp" and own["via"] == "tcp" and own["ref"] == "s1"
    assert own["from"] == n.nick
    assert ws.expect("message")["via"] == "tcp"
    assert t.expect(re.compile(r"^\[")) == f"[lobby] {n.nick}: json over tcp"
    t.send("hi json")
    msg = n.expect("message", text="hi json")
    assert msg["from"] == t.nick and msg["via"] == "tcp"


def test_ndjson_client_may_be_in_several_rooms(server):
    n = server.ndjson()
    n.join("one")
    n.join("two")
    who = {r["room"] for r in n.request({"type": "rooms"})["rooms"]}
    assert {"lobby", "one", "two"} <= who
    ws = server.ws()
    ws.join("two")
    ws.say("in two", room="two")
    assert n.expect("message", room="two")["text"] == "in two"
    assert n.request({"type": "leave", "room": "lobby"})["type"] == "left"


def test_ndjson_bad_input_keeps_the_connection(server):
    n = server.ndjson()
    n.send_raw(b"this is not json\n")
    err = n.expect("error")
    assert err["code"] == "bad_request" and isinstance(err["message"], str)
    n.send_raw(b'{"type":"nope","ref":"u"}\n')
    assert n.expect("error")["ref"] == "u"
    assert n.request({"type": "rooms"})["type"] == "rooms"


def test_ndjson_line_may_be_as_long_as_a_frame(chatgate):
    server = chatgate("--max-message-bytes", "100000", "--max-frame-bytes", "120000")
    ws = server.ws()
    n = server.ndjson()
    text = "".join(chr(ord("a") + i % 26) for i in range(100000))
    line = json.dumps({"type": "say", "room": "lobby", "text": text})
    assert 100000 < len(line) < 120000
    n.send_raw(line.encode() + b"\n")
    msg = ws.expect("message")
    assert msg["text"] == text


def test_ndjson_line_over_frame_limit_is_rejected(chatgate):
    server = chatgate("--max-message-bytes", "100000", "--max-frame-bytes", "2000")
    ws = server.ws()
    n = server.ndjson()
    n.send_raw(json.dumps({"type": "say", "room": "lobby", "text": "y" * 5000}).encode() + b"\n")
    # Either an error or a closed connection; never a delivered message.
    try:
        answer = n.recv()
        assert answer["type"] == "error", answer
    except cc.Closed:
        pass
    ws.say("still fine")
    assert ws.expect("message")["text"] == "still fine"
    assert not [o for o in ws.sync() if o["type"] == "message"]
