"""Presence in large rooms (docs/architecture.md, "Presence in large rooms"):
up to --presence-limit members every join and leave is announced (SPEC 3, 4,
14); above it they are counted into one `presence` event a second, the
joiner's presence traffic stays bounded whatever the room's size, and `who`
stays exact."""
import json
import socket
import subprocess

import pytest

import chatgate_client as cc
from conftest import BINARY

T = 10  # seconds; tolerant of a loaded machine
PRESENCE = ("joined", "left", "presence")


class CountingWs(cc.WsClient):
    """A WebSocket client that keeps every frame it received, raw."""

    def __init__(self, port, **kw):
        self.frames = []
        super().__init__(port, **kw)

    def _recv_raw(self, timeout):
        raw = super()._recv_raw(timeout)
        self.frames.append(raw)
        return raw

    def presence_bytes(self, room):
        """Bytes of every joined, left and presence event about `room` so far."""
        total = 0
        for f in self.frames:
            o = json.loads(f)
            if o.get("type") in PRESENCE and o.get("room") == room:
                total += len(f.encode() if isinstance(f, str) else f)
        return total


def counting(server):
    return server._track(CountingWs(server.http, timeout=T))


def test_below_the_limit_every_join_and_leave_is_announced(chatgate):
    server = chatgate("--presence-limit", "5")
    watcher = server.ws()
    text = server.text()
    assert watcher.expect("joined", nick=text.nick)["via"] == "tcp"
    others = [server.ws() for _ in range(3)]  # the room has 5: the limit
    for o in others:
        assert watcher.expect("joined", nick=o.nick) == {
            "type": "joined", "room": "lobby", "nick": o.nick, "via": "ws"}
        assert text.expect(lambda l: l.startswith("* ")) == f"* {o.nick} joined #lobby"
    others[0].close()
    assert watcher.expect("left", nick=others[0].nick) == {
        "type": "left", "room": "lobby", "nick": others[0].nick, "via": "ws"}
    assert text.expect(lambda l: l.startswith("* ")) == f"* {others[0].nick} left #lobby"
    assert not [o for o in watcher.sync() if o["type"] == "presence"]


def test_above_the_limit_joins_and_leaves_are_counted(chatgate):
    server = chatgate("--presence-limit", "3")
    watcher = server.ws()
    assert watcher.welcome["presence_limit"] == 3
    text = server.text()
    third = server.ws()
    watcher.expect("joined", nick=third.nick)  # 3 members: still announced
    fourth = server.ws()  # 4: counted
    tick = watcher.expect("presence", timeout=T)
    assert tick == {"type": "presence", "room": "lobby", "members": 4, "joined": 1, "left": 0}
    fourth.close()  # the room had 4: counted
    tick = watcher.expect("presence", timeout=T)
    assert tick == {"type": "presence", "room": "lobby", "members": 3, "joined": 0, "left": 1}
    third.close()  # the room had 3: announced again
    assert watcher.expect("left", nick=third.nick)["room"] == "lobby"
    lines = text.sync()
    assert f"* {third.nick} left #lobby" in lines
    assert not [l for l in lines if fourth.nick in l], lines
    before = watcher.sync()
    assert not [o for o in before if o["type"] in ("joined", "left") and o["nick"] == fourth.nick]


def test_the_joiner_of_a_big_room_gets_its_size_not_a_crowd(chatgate):
    server = chatgate("--presence-limit", "4")
    crowd = [server.ws() for _ in range(20)]
    for c in crowd:
        assert c.join("big")["room"] == "big"
    late = counting(server)
    ref = cc.new_ref()
    late.send({"type": "join", "room": "big", "ref": ref})
    answer, _ = late.recv_until(lambda o: o["type"] == "history" and o.get("ref") == ref)
    before = late.sync()
    # Its own join answered as always, then the room's size, once.
    assert {"type": "joined", "room": "big", "nick": late.nick, "via": "ws", "ref": ref} in \
        [json.loads(f) for f in late.frames]
    snapshots = [o for o in map(json.loads, late.frames) if o["type"] == "presence" and o["room"] == "big"]
    assert snapshots[0] == {"type": "presence", "room": "big", "members": 21, "joined": 0, "left": 0}
    assert not [o for o in before if o["type"] == "joined" and o["nick"] != late.nick]
    # The one who joined first saw the next 3 arrive one by one (the room
    # had at most 4 then), then only counts, which add up to the other 17.
    first = crowd[0]
    seen = [o for o in first.sync() if o.get("room") == "big" and o["type"] in PRESENCE]
    if not [o for o in seen if o["type"] == "presence" and o["members"] == 21]:
        last, more = first.recv_until(
            lambda o: o["type"] == "presence" and o["room"] == "big" and o["members"] == 21, timeout=T)
        seen += [o for o in more if o.get("room") == "big"] + [last]
    assert [o["nick"] for o in seen if o["type"] == "joined"] == [c.nick for c in crowd[1:4]]
    assert sum(o["joined"] for o in seen if o["type"] == "presence") == 17
    assert not [o for o in seen if o["type"] == "left"]
    # who stays exact, limited who says how many there are.
    who = late.request({"type": "who", "room": "big"})
    assert sorted(m["nick"] for m in who["members"]) == sorted([c.nick for c in crowd] + [late.nick])
    assert "count" not in who
    some = late.request({"type": "who", "room": "big", "limit": 5})
    assert len(some["members"]) == 5 and some["count"] == 21
    assert {"room": "big", "members": 21, "topic": ""} in late.request({"type": "rooms"})["rooms"]
    # Bounded: its own joined, one snapshot, maybe a tick; not 20 joins.
    assert late.presence_bytes("big") < 300, late.frames


def test_joiner_presence_bytes_do_not_grow_with_the_room(chatgate):
    """Joining a room of 10 or of 60 costs the joiner the same presence bytes."""
    server = chatgate("--presence-limit", "8")

    def join_cost(room, n):
        crowd = [server.ws() for _ in range(n)]
        for c in crowd:
            c.join(room)
        late = counting(server)
        late.join(room)
        late.sync()
        return late.presence_bytes(room)

    small, big = join_cost("ten", 10), join_cost("sixty", 60)
    # Its own joined and the room's size (and at most a tick or two): not
    # one event per member, which would be over 4000 bytes for 60.
    assert 0 < small < 300 and 0 < big < 300, (small, big)
    counts = {r["room"]: r["members"] for r in server.ws().request({"type": "rooms"})["rooms"]}
    assert counts["ten"] == 11 and counts["sixty"] == 61
    # Leaving is counted too: the count follows.
    watcher = server.ws()
    watcher.join("sixty")
    leavers = [server.ws() for _ in range(3)]
    for c in leavers:
        c.join("sixty")
    for c in leavers:
        assert c.request({"type": "leave", "room": "sixty"})["type"] == "left"
    watcher.recv_until(lambda o: o["type"] == "presence" and o["room"] == "sixty"
                       and o["members"] == 62 and o["left"] > 0, timeout=T)
    who = watcher.request({"type": "who", "room": "sixty"})
    assert len(who["members"]) == 62


def test_text_client_in_a_big_room(chatgate):
    server = chatgate("--presence-limit", "3")
    crowd = [server.ws() for _ in range(4)]
    t = server.text()
    lines = t.sync()
    assert "* #lobby has 5 members; above 3 joins and leaves are not announced " \
           "(/who lists everyone)" in lines
    assert not [l for l in lines if " joined #lobby" in l]
    t.send("/who")
    who = t.sync()
    assert sorted(who) == sorted([f"* {c.nick} (ws)" for c in crowd] + [f"* {t.nick} (tcp)"])
    t.send("/rooms")
    assert "* #lobby (5)" in t.sync()
    # Nothing arrives for the counted joins of others (no noise every second).
    server.ws()
    assert not [l for l in t.sync() if l.startswith("* ") and "joined" in l]


def test_irc_join_names_are_bounded_and_names_is_exact(chatgate):
    server = chatgate("--presence-limit", "3")
    crowd = [server.ws() for _ in range(6)]
    s = socket.create_connection(("127.0.0.1", server.irc), timeout=T)
    f = s.makefile("rb")
    s.sendall(b"NICK ircer\r\nUSER ircer 0 * :r\r\n")

    def until(pred):
        got = []
        while True:
            line = f.readline().decode().rstrip("\r\n")
            assert line, "connection closed"
            got.append(line)
            if pred(line):
                return got
    got = until(lambda l: " 366 " in l)
    names = " ".join(l.split(" :", 1)[1] for l in got if " 353 " in l).split()
    assert len(names) == 3, got
    # Joins of others above the limit are not IRC JOIN lines; NAMES asked
    # for lists everyone.
    crowd.append(server.ws())
    s.sendall(b"NAMES #lobby\r\n")
    got = until(lambda l: " 366 " in l)
    assert not [l for l in got if " JOIN " in l], got
    names = " ".join(l.split(" :", 1)[1] for l in got if " 353 " in l).split()
    assert sorted(names) == sorted([c.nick for c in crowd] + ["ircer"])
    s.close()


@pytest.mark.parametrize("value", ["-1", "lots", "10000001"])
def test_bad_presence_limit_is_refused(value):
    run = subprocess.run([str(BINARY), "--presence-limit", value, "--http-port", "0", "--tcp-port", "0",
                          "--udp-port", "0", "--echo-port", "0", "--irc-port", "0"],
                         capture_output=True, text=True, timeout=T)
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "--presence-limit" in lines[0], run.stderr


def test_presence_limit_zero_announces_every_join(chatgate):
    server = chatgate("--presence-limit", "0")
    watcher = server.ws()
    assert "presence_limit" not in watcher.welcome
    crowd = [server.ws() for _ in range(12)]
    for c in crowd:
        watcher.expect("joined", nick=c.nick)
    assert not [o for o in watcher.sync() if o["type"] == "presence"]


def test_default_limit_is_200(server):
    assert server.ws().welcome["presence_limit"] == 200
