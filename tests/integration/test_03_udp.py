"""SPEC 3 over UDP: datagram peers, identified by address and port."""

import re
import time

import pytest

import chatgate_client as cc


def test_first_datagram_gets_a_welcome_and_is_posted(server):
    ws = server.ws()
    u = server.udp_client()
    u.send("hello by udp")
    welcome = u.read_line()
    m = cc.WELCOME_RE.match(welcome)
    assert m and m["room"] == "lobby", welcome
    msg = ws.expect("message")
    assert msg["text"] == "hello by udp"
    assert msg["from"] == m["nick"] and msg["via"] == "udp"


def test_others_are_told_a_udp_peer_joined(server):
    a = server.text()
    u = server.udp_client()
    u.hello()
    # SPEC 9: announced once it has validated with /ok, not before.
    with pytest.raises(cc.ReadTimeout):
        a.read_line(timeout=0.5)
    u.validate()
    assert a.read_line() == f"* {u.nick} joined #lobby"


def test_udp_peer_receives_messages_not_its_own(server):
    a = server.text()
    u = server.udp_client()
    u.hello()
    a.send("to everyone")
    assert u.expect(re.compile(r"^\[")) == f"[lobby] {a.nick}: to everyone"
    u.send("mine")
    assert a.expect(re.compile(r"^\[")) == f"[lobby] {u.nick}: mine"
    assert not [l for l in u.sync() if "mine" in l]


def test_datagram_with_several_lines(server):
    ws = server.ws()
    u = server.udp_client()
    u.hello()
    u.send("first\nsecond\r\nthird")
    texts = [ws.expect("message")["text"] for _ in range(3)]
    assert texts == ["first", "second", "third"]


def test_udp_commands(server):
    ws = server.ws()
    u = server.udp_client()
    u.hello()
    u.send("/nick udpuser")
    assert u.expect(re.compile("known as")) == f"* {u.nick} is now known as udpuser"
    assert ws.expect("nick") == {"type": "nick", "old": u.nick, "nick": "udpuser"}
    u.nick = "udpuser"
    u.send("/who")
    members = sorted(l for l in u.sync() if re.match(r"^\* \S+ \((ws|tcp|udp)\)$", l))
    assert members == sorted(["* udpuser (udp)", f"* {ws.nick} (ws)"])
    u.send("/me dances")
    msg = ws.expect("message")
    assert msg["me"] is True and msg["text"] == "dances" and msg["via"] == "udp"


def test_udp_join_room(server):
    ws = server.ws()
    ws.join("dgram")
    u = server.udp_client()
    u.hello()
    u.validate()
    u.send("/join dgram")
    assert ws.expect("joined", room="dgram")["nick"] == u.nick
    u.send("in dgram")
    assert ws.expect("message", room="dgram")["text"] == "in dgram"


def test_quit_forgets_the_peer(server):
    a = server.text()
    u = server.udp_client()
    u.hello()
    u.validate()
    first_nick = u.nick
    a.expect(f"* {first_nick} joined #lobby")
    u.send("/quit")
    u.expect("* bye")
    assert a.expect(re.compile("left")) == f"* {first_nick} left #lobby"
    # Same address and port again: a new peer, so a new welcome.
    u.send("back again")
    welcome = u.read_line()
    assert cc.WELCOME_RE.match(welcome), welcome


def test_idle_peer_is_forgotten(chatgate):
    server = chatgate("--udp-idle-s", "1")
    ws = server.ws()
    u = server.udp_client()
    u.hello()
    u.validate()
    assert ws.expect("joined")["nick"] == u.nick
    left = ws.expect("left", timeout=15)
    assert left["nick"] == u.nick and left["via"] == "udp"
    u.send("/who")
    assert cc.WELCOME_RE.match(u.read_line())


def test_active_peer_is_kept(chatgate):
    server = chatgate("--udp-idle-s", "2")
    ws = server.ws()
    u = server.udp_client()
    u.hello()
    # Talking every 0.4 s keeps the peer for longer than an idle period.
    for i in range(8):
        u.send(f"tick {i}")
        time.sleep(0.4)
    seen = ws.sync()
    assert not [o for o in seen if o["type"] == "left"], seen
    assert [o["text"] for o in seen if o["type"] == "message"] == [f"tick {i}" for i in range(8)]


def test_invalid_utf8_over_udp_is_repaired(server):
    ws = server.ws()
    u = server.udp_client()
    u.hello()
    u.send(b"bad \xff\xfe byte")
    text = ws.expect("message")["text"]
    assert re.fullmatch("bad \ufffd+ byte", text), repr(text)


def test_validated_udp_peers_count_for_max_clients(chatgate):
    # SPEC 9: a peer counts once it has validated with /ok; before, it is
    # outside --max-clients (test_15_udp_abuse covers --max-udp-peers).
    server = chatgate("--max-clients", "2")
    a = server.text()
    u1 = server.udp_client()
    u1.hello()
    u1.validate()
    u2 = server.udp_client()
    u2.hello()
    u2.send(f"/ok {u2.code}")
    assert u2.expect(re.compile(r"^!")) == "! server full"
    b = cc.TextClient(server.tcp, read_welcome=False)
    assert b.read_line() == "! server full"
    assert b.wait_closed()
    b.close()
