"""SPEC 4 over WebSocket at /ws."""

import asyncio
import re
import time

import pytest

import chatgate_client as cc


def test_welcome_then_history(server):
    ws = server.ws(read_welcome=False)
    welcome = ws.recv()
    assert welcome["type"] == "welcome"
    assert re.fullmatch(r"guest-\d+", welcome["nick"])
    assert welcome["rooms"] == ["lobby"]
    # Decision: the server calls itself "chatgate/0.1.0".
    assert welcome["server"].startswith("chatgate/")
    history = ws.recv()
    assert history == {"type": "history", "room": "lobby", "messages": []}


def test_say_is_acknowledged_by_its_own_message(server):
    ws, peer = server.ws(), server.ws()
    before = time.time() * 1000
    ws.send({"type": "say", "room": "lobby", "text": "hello", "ref": "r-1"})
    own = ws.expect("message")
    after = time.time() * 1000
    assert own["room"] == "lobby" and own["from"] == ws.nick and own["via"] == "ws"
    assert own["text"] == "hello" and own["id"] == 1 and own["ref"] == "r-1"
    assert isinstance(own["ts"], int) and before - 5000 <= own["ts"] <= after + 5000
    assert "me" not in own or own["me"] is False
    theirs = peer.expect("message")
    assert "ref" not in theirs
    assert {k: v for k, v in own.items() if k != "ref"} == theirs


def test_ref_may_be_a_number(server):
    ws = server.ws()
    ws.send({"type": "rooms", "ref": 42})
    assert ws.expect("rooms")["ref"] == 42


def test_me_action(server):
    ws, peer = server.ws(), server.ws()
    ws.say("waves", me=True)
    msg = peer.expect("message")
    assert msg["me"] is True and msg["text"] == "waves"


def test_explicit_join(server):
    ws, other = server.ws(), server.ws()
    other.join("games")
    ws.send({"type": "join", "room": "games", "ref": "j1"})
    # Decision: the joiner gets its own joined, then the history.
    joined = ws.recv_until(lambda o: o["type"] != "joined" or o["nick"] == ws.nick)[0]
    assert joined == {"type": "joined", "room": "games", "nick": ws.nick, "via": "ws", "ref": "j1"}
    history = ws.recv()
    assert history == {"type": "history", "room": "games", "messages": [], "ref": "j1"}
    seen = other.expect("joined", room="games")
    assert seen == {"type": "joined", "room": "games", "nick": ws.nick, "via": "ws"}


def test_several_rooms_at_once(server):
    ws, a = server.ws(), server.ws()
    ws.join("one")
    ws.join("two")
    a.join("one")
    a.join("two")
    a.say("to one", room="one")
    a.say("to two", room="two")
    a.say("to lobby", room="lobby")
    got = [(m["room"], m["text"]) for m in (ws.expect("message") for _ in range(3))]
    assert got == [("one", "to one"), ("two", "to two"), ("lobby", "to lobby")]
    rooms = ws.request({"type": "rooms"})
    counts = {r["room"]: r["members"] for r in rooms["rooms"] if r["members"]}
    assert counts == {"lobby": 2, "one": 2, "two": 2}


def test_join_room_already_in_resends_history(server):
    ws = server.ws()
    ws.say("one")
    ws.say("two")
    ws.send({"type": "join", "room": "lobby", "ref": "again", "since": 1})
    answer, skipped = ws.recv_until(lambda o: o.get("ref") == "again")
    # Decision: no joined, only a history honouring since.
    assert answer["type"] == "history", answer
    assert [m["text"] for m in answer["messages"]] == ["two"]
    assert not [o for o in ws.sync() if o["type"] == "joined"]


def test_leave(server):
    ws, other = server.ws(), server.ws()
    ws.join("games")
    other.join("games")
    answer = ws.request({"type": "leave", "room": "games"})
    assert answer["type"] == "left" and answer["room"] == "games" and answer["nick"] == ws.nick
    assert answer["via"] == "ws"
    left = other.expect("left")
    assert left == {"type": "left", "room": "games", "nick": ws.nick, "via": "ws"}
    other.say("after you left", room="games")
    other.expect("message")
    assert not [o for o in ws.sync() if o["type"] == "message"]


def test_leave_every_room_including_lobby(server):
    ws, other = server.ws(), server.ws()
    assert ws.request({"type": "leave", "room": "lobby"})["type"] == "left"
    other.say("anyone?")
    other.expect("message")
    assert not [o for o in ws.sync() if o["type"] == "message"]
    err = ws.request({"type": "say", "room": "lobby", "text": "hi"})
    assert err["type"] == "error" and err["code"] == "not_in_room"


def test_nick(server):
    ws, other = server.ws(), server.ws()
    old = ws.nick
    answer = ws.request({"type": "nick", "nick": "Alice"})
    assert answer["type"] == "nick" and answer["old"] == old and answer["nick"] == "Alice"
    assert other.expect("nick") == {"type": "nick", "old": old, "nick": "Alice"}
    # Decision: once each.
    assert not [o for o in ws.sync() if o["type"] == "nick"]
    assert not [o for o in other.sync() if o["type"] == "nick"]
    ws.say("renamed")
    assert other.expect("message")["from"] == "Alice"


def test_nick_sent_once_when_sharing_several_rooms(server):
    ws, other, t = server.ws(), server.ws(), server.text()
    for room in ("one", "two", "three"):
        ws.join(room)
        other.join(room)
    old = ws.nick
    ws.rename("Multi")
    assert other.expect("nick") == {"type": "nick", "old": old, "nick": "Multi"}
    assert not [o for o in other.sync() if o["type"] == "nick"]
    assert t.expect(re.compile("known as")) == f"* {old} is now known as Multi"
    assert not [l for l in t.sync() if "known as" in l]


def test_history_holds_messages_and_actions_only(server):
    ws = server.ws()
    ws.say("plain")
    ws.say("acts", me=True)
    ws.expect("message", text="acts")
    server.text().rename("Someone")
    late = server.ws()
    msgs = late.history["messages"]
    assert [(m["type"], m["text"], m.get("me", False)) for m in msgs] == [
        ("message", "plain", False), ("message", "acts", True)]
    assert all(m["from"] == ws.nick and m["via"] == "ws" for m in msgs)


def test_nick_not_sent_to_strangers(server):
    ws, stranger = server.ws(), server.ws()
    ws.request({"type": "leave", "room": "lobby"})
    stranger.request({"type": "leave", "room": "lobby"})
    ws.rename("Loner")
    assert not [o for o in stranger.sync() if o["type"] == "nick"]


def test_rooms(server):
    ws, a, t = server.ws(), server.ws(), server.text()
    a.join("games")
    answer = ws.request({"type": "rooms"})
    assert answer["type"] == "rooms"
    # Rooms with nobody in them (such as echo) may be listed too.
    assert sorted((r for r in answer["rooms"] if r["members"]), key=lambda r: r["room"]) == [
        {"room": "games", "members": 1, "topic": ""}, {"room": "lobby", "members": 3, "topic": ""}]


def test_who(server):
    ws, t, u = server.ws(), server.text(), server.udp_client()
    u.hello()
    answer = ws.request({"type": "who", "room": "lobby"})
    assert answer["type"] == "who" and answer["room"] == "lobby"
    assert sorted(answer["members"], key=lambda m: m["nick"]) == sorted(
        [{"nick": ws.nick, "via": "ws"}, {"nick": t.nick, "via": "tcp"},
         {"nick": u.nick, "via": "udp"}], key=lambda m: m["nick"])


def test_ref_on_every_direct_answer(server):
    ws = server.ws()
    checks = [
        ({"type": "say", "room": "lobby", "text": "x"}, ["message"]),
        ({"type": "join", "room": "reftest"}, ["joined", "history"]),
        ({"type": "who", "room": "reftest"}, ["who"]),
        ({"type": "rooms"}, ["rooms"]),
        ({"type": "nick", "nick": "Reffy"}, ["nick"]),
        ({"type": "leave", "room": "reftest"}, ["left"]),
        ({"type": "leave", "room": "reftest"}, ["error"]),
        ({"type": "bogus"}, ["error"]),
    ]
    for i, (req, types) in enumerate(checks):
        ref = f"ref-{i}" if i % 2 else i + 1000
        ws.send(dict(req, ref=ref))
        for t in types:
            answer = ws.recv()
            assert answer["type"] == t and answer.get("ref") == ref, (req, answer)


def test_history_replays_oldest_first_and_keeps_100(fast_server):
    ws = fast_server.ws()
    for i in range(1, 121):
        ws.say(f"m{i}")
    ws.expect("message", text="m120")
    late = fast_server.ws()
    msgs = late.history["messages"]
    assert [m["id"] for m in msgs] == list(range(21, 121))
    assert [m["text"] for m in msgs] == [f"m{i}" for i in range(21, 121)]
    assert all(m["type"] == "message" and m["room"] == "lobby" and m["via"] == "ws"
               for m in msgs)


def test_history_size_flag(chatgate):
    server = chatgate("--history", "5")
    ws = server.ws()
    for i in range(1, 9):
        ws.say(f"m{i}")
    ws.expect("message", text="m8")
    assert [m["id"] for m in server.ws().history["messages"]] == [4, 5, 6, 7, 8]
    # A text client's connect is its join of the default room.
    t = server.text()
    replay = [l for l in t.sync() if l.startswith("[lobby]")]
    assert replay == [f"[lobby] {ws.nick}: m{i}" for i in range(4, 9)]


def test_join_since_resumes_after_reconnect(server):
    ws = server.ws()
    ws.join("news")
    for i in range(1, 6):
        ws.say(f"n{i}", room="news")
    ws.expect("message", text="n5")
    back = server.ws()
    history = back.join("news", since=3)
    assert [m["id"] for m in history["messages"]] == [4, 5]
    assert [m["text"] for m in history["messages"]] == ["n4", "n5"]
    assert back.join("news", since=5)["messages"] == []
    assert [m["id"] for m in back.join("news", since=0)["messages"]] == [1, 2, 3, 4, 5]


def test_ids_are_per_room_without_gaps(fast_server):
    ws = fast_server.ws()
    ws.join("a")
    ws.join("b")
    for i in range(10):
        ws.say("x", room="a")
        ws.say("y", room="b")
        if i % 3 == 0:
            ws.say("z", room="lobby")
    got = {"a": [], "b": [], "lobby": []}
    for _ in range(24):
        m = ws.expect("message")
        got[m["room"]].append(m["id"])
    assert got == {"a": list(range(1, 11)), "b": list(range(1, 11)), "lobby": [1, 2, 3, 4]}


def test_rejected_message_takes_no_id(server):
    ws = server.ws()
    ws.say("one")
    ws.say("x" * 5000)
    ws.say("two")
    ids = [ws.expect("message")["id"] for _ in range(2)]
    assert ids == [1, 2]


def test_server_answers_pings(server):
    ws = server.ws()

    async def ping():
        pong = await ws.ws.ping()
        await asyncio.wait_for(pong, 10)
    cc.run(ping())
    assert ws.request({"type": "rooms"})["type"] == "rooms"


def test_http_page_and_unknown_path(server):
    status, headers, body = server.get("/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b"<html" in body.lower() or b"<!doctype html" in body.lower()
    assert server.get("/no/such/thing")[0] == 404


def test_ws_on_other_path_is_refused(server):
    with pytest.raises(Exception):
        cc.WsClient(server.http, path="/not-ws")
