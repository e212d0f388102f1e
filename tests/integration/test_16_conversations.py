"""SPEC 12: direct messages, topics and /leave, on every transport."""

import json
import re
import time

import chatgate_client as cc
from conftest import FAST, REPO_ROOT
from test_15_udp_abuse import Source, assert_within_budget
from test_22_irc import Irc

DM_KEYS = {"type", "to", "from", "via", "text", "ts"}
TOPIC_KEYS = {"type", "room", "topic", "by", "ts"}


def named(server, kind, nick):
    """A client of this kind ('tcp', 'ws', 'ndjson', 'udp') renamed to nick."""
    if kind == "tcp":
        c = server.text()
        c.rename(nick)
    elif kind == "udp":
        c = server.udp_client()
        c.hello()
        c.send(f"/nick {nick}")
        c.expect(f"* {c.nick} is now known as {nick}")
        c.nick = nick
    else:
        c = server.ws() if kind == "ws" else server.ndjson()
        c.rename(nick)
    return c


def is_dm(o):
    return o["type"] == "message" and "to" in o


# --------------------------------------------------------------------------
# Direct messages


def test_dm_tcp_to_websocket(server):
    alice = named(server, "tcp", "alice")
    bob = named(server, "ws", "bob")
    alice.send("/msg bob hi bob, just you")
    dm = bob.recv_until(is_dm)[0]
    assert set(dm) == DM_KEYS, dm
    assert (dm["to"], dm["from"], dm["via"], dm["text"]) == ("bob", "alice", "tcp", "hi bob, just you")
    assert abs(dm["ts"] - time.time() * 1000) < 60_000
    # Decision: a text sender gets no copy, as for room messages.
    assert not [l for l in alice.sync() if "just you" in l]


def test_dm_websocket_to_tcp_with_ack(server):
    alice = named(server, "tcp", "alice")
    bob = named(server, "ws", "bob")
    ack = bob.request({"type": "say", "to": "alice", "text": "hello alice"})
    assert set(ack) == DM_KEYS | {"ref"}, ack
    assert (ack["type"], ack["to"], ack["from"], ack["via"], ack["text"]) == (
        "message", "alice", "bob", "ws", "hello alice")
    assert alice.expect(re.compile(r"^\*bob\*")) == "*bob* hello alice"
    # Exactly one copy for the sender: its acknowledgement.
    assert not [o for o in bob.sync() if is_dm(o)]


def test_dm_udp_to_ndjson(server):
    carol = named(server, "ndjson", "carol")
    u = named(server, "udp", "udpdan")
    u.send("/msg carol over udp")
    dm = carol.recv_until(is_dm)[0]
    assert set(dm) == DM_KEYS, dm
    assert (dm["to"], dm["from"], dm["via"], dm["text"]) == ("carol", "udpdan", "udp", "over udp")


def test_dm_ndjson_to_udp(server):
    u = named(server, "udp", "udpdan")
    carol = named(server, "ndjson", "carol")
    ack = carol.request({"type": "say", "to": "udpdan", "text": "back to you"})
    assert ack["type"] == "message" and ack["to"] == "udpdan" and ack["via"] == "tcp"
    assert u.expect(re.compile(r"^\*carol\*")) == "*carol* back to you"


def test_dm_ndjson_to_websocket_and_tcp_to_udp(server):
    ws = named(server, "ws", "wendy")
    nd = named(server, "ndjson", "nadia")
    t = named(server, "tcp", "tom")
    u = named(server, "udp", "ursula")
    nd.send({"type": "say", "to": "wendy", "text": "nd to ws"})
    got = ws.recv_until(is_dm)[0]
    assert (got["from"], got["via"], got["text"]) == ("nadia", "tcp", "nd to ws")
    t.send("/msg ursula tcp to udp")
    assert u.expect(re.compile(r"^\*tom\*")) == "*tom* tcp to udp"


def test_dm_reaches_nobody_else(server):
    alice = named(server, "tcp", "alice")
    bob = named(server, "ws", "bob")
    third_ws = server.ws()
    third_tcp = server.text()
    third_nd = server.ndjson()
    third_udp = server.udp_client()
    third_udp.hello()
    third_udp.validate()
    third_irc = server._track(Irc(server.irc, timeout=10))
    third_irc.register("watcher")
    alice.send("/msg bob secret one")
    bob.send({"type": "say", "to": "alice", "text": "secret two"})
    assert bob.recv_until(is_dm)[0]["text"] == "secret one"
    alice.expect("*bob* secret two")
    # Both DMs were handled before these markers: anything sent is queued.
    assert not [o for o in third_ws.sync() if "secret" in str(o)]
    assert not [o for o in third_nd.sync() if "secret" in str(o)]
    assert not [l for l in third_tcp.sync() if "secret" in l]
    assert not [l for l in third_udp.sync() if "secret" in l]
    assert not [l for l in third_irc.sync() if "secret" in l]


def test_dm_nick_is_case_insensitive_and_to_is_the_real_nick(server):
    bob = named(server, "ws", "Bob")
    alice = named(server, "tcp", "alice")
    alice.send("/msg BOB shouting")
    dm = bob.recv_until(is_dm)[0]
    assert dm["to"] == "Bob" and dm["text"] == "shouting"


def test_dm_to_a_nick_that_just_left(server):
    alice = named(server, "tcp", "alice")
    ws = named(server, "ws", "wes")
    gone = named(server, "tcp", "gone")
    gone.close()
    alice.expect("* gone left #lobby")
    alice.send("/msg gone are you there")
    assert alice.expect(lambda l: l.startswith("!")) == "! no such nick: gone"
    err = ws.request({"type": "say", "to": "gone", "text": "hello?"})
    assert err == {"type": "error", "code": "no_such_nick", "message": "no such nick: gone",
                   "ref": err["ref"]}
    # A nick given up by a rename is nobody's at once; so is a UDP peer's after /quit.
    renamer = named(server, "ws", "before")
    renamer.rename("after")
    alice.send("/msg before still you?")
    assert alice.expect(lambda l: l.startswith("!")) == "! no such nick: before"
    alice.send("/msg after yes, you")
    assert renamer.recv_until(is_dm)[0]["text"] == "yes, you"
    u = named(server, "udp", "udpgone")
    u.send("/quit")
    u.expect("* bye")
    err = ws.request({"type": "say", "to": "udpgone", "text": "hello?"})
    assert err["code"] == "no_such_nick", err


def test_dm_to_unknown_or_bad_nick(server):
    ws = server.ws()
    nd = server.ndjson()
    for target in ("nobody", "bad*nick", ""):
        for c in (ws, nd):
            err = c.request({"type": "say", "to": target, "text": "x"})
            assert err["type"] == "error", err
            assert err["code"] == ("no_such_nick" if target else "bad_request"), err
    err = ws.request({"type": "say", "to": "", "text": "x"})
    assert err["message"] == "field must not be empty: to"
    u = named(server, "udp", "udpu")
    u.send("/msg nobody hello")
    assert u.expect(lambda l: l.startswith("!")) == "! no such nick: nobody"


def test_dm_to_self(server):
    ws = named(server, "ws", "solo")
    ack = ws.request({"type": "say", "to": "solo", "text": "note to self"})
    assert ack["to"] == "solo" and ack["from"] == "solo"
    assert not [o for o in ws.sync() if is_dm(o)]  # one copy only
    t = named(server, "tcp", "tsolo")
    t.send("/msg tsolo memo")
    assert t.expect(re.compile(r"^\*")) == "*tsolo* memo"


def test_dm_action(server):
    ws = named(server, "ws", "actor")
    t = named(server, "tcp", "viewer")
    ack = ws.request({"type": "say", "to": "viewer", "text": "waves", "me": True})
    assert ack["me"] is True and ack["to"] == "viewer"
    # Decision: a direct action reads "*FROM* * FROM TEXT".
    assert t.expect(re.compile(r"^\*actor\*")) == "*actor* * actor waves"
    t.send("/msg actor back")
    dm = ws.recv_until(is_dm)[0]
    assert "me" not in dm and dm["text"] == "back"


def test_msg_usage_errors(server):
    t = server.text()
    for line in ("/msg", "/msg bob", "/msg bob   ", "/MSG"):
        t.send(line)
        assert t.expect(lambda l: l.startswith("!")) == "! usage: /msg NICK TEXT"


def test_say_with_room_and_to_is_refused(server):
    ws = named(server, "ws", "wes")
    err = ws.request({"type": "say", "room": "lobby", "to": "wes", "text": "x"})
    assert err["code"] == "bad_request" and err["message"] == "say takes room or to, not both"
    err = ws.request({"type": "say", "to": 5, "text": "x"})
    assert err["code"] == "bad_request" and err["message"] == "field must be a string: to"
    err = ws.request({"type": "say", "to": "wes"})
    assert err["code"] == "bad_request" and err["message"] == "missing field: text"


def test_dm_control_characters_removed(server):
    t = named(server, "tcp", "tina")
    ws = named(server, "ws", "wes")
    ws.send({"type": "say", "to": "tina", "text": "a\x01b\x1b[31mc\u0085d\nforged"})
    assert t.expect(re.compile(r"^\*wes\*")) == "*wes* ab[31mcdforged"
    t.send_raw(b"/msg wes x\x07y\x7fz\n")
    assert ws.recv_until(lambda o: is_dm(o) and o["from"] == "tina")[0]["text"] == "xyz"


def test_dm_size_limit(server):
    alice = named(server, "tcp", "alice")
    bob = named(server, "ws", "bob")
    err = bob.request({"type": "say", "to": "alice", "text": "x" * 4097})
    assert err["type"] == "error" and err["code"] == "too_long", err
    alice.send("/msg bob " + "y" * 4097)
    assert alice.expect(lambda l: l.startswith("!")) == "! message too long"
    assert not [l for l in alice.sync() if l.startswith("*bob*")]
    assert not [o for o in bob.sync() if is_dm(o)]
    # At the limit both ways it goes through.
    bob.send({"type": "say", "to": "alice", "text": "x" * 4096})
    assert alice.expect(re.compile(r"^\*bob\*")) == "*bob* " + "x" * 4096
    alice.send("/msg bob " + "y" * 4096)
    assert bob.recv_until(lambda o: is_dm(o) and o["from"] == "alice")[0]["text"] == "y" * 4096


def test_dm_size_limit_flag(chatgate):
    server = chatgate("--max-message-bytes", "10")
    t = named(server, "tcp", "tina")
    ws = named(server, "ws", "wes")
    assert ws.request({"type": "say", "to": "tina", "text": "0123456789"})["type"] == "message"
    assert ws.request({"type": "say", "to": "tina", "text": "0123456789a"})["code"] == "too_long"
    t.send("/msg wes 0123456789a")
    assert t.expect(lambda l: l.startswith("!")) == "! message too long"


def test_dm_rate_limit(chatgate):
    server = chatgate("--rate", "1", "--burst", "3")
    t = named(server, "tcp", "tina")
    ws = named(server, "ws", "wes")
    time.sleep(3.5)  # the renames used tokens; let the buckets refill
    refs = [f"dm{i}" for i in range(8)]
    ws.send_many([{"type": "say", "to": "tina", "text": r, "ref": r} for r in refs])
    answers = [ws.recv_until(lambda o, r=r: o.get("ref") == r)[0] for r in refs]
    sent = [a["text"] for a in answers if a["type"] == "message"]
    limited = [a for a in answers if a["type"] == "error"]
    assert 3 <= len(sent) < 8, answers
    assert limited and all(a["code"] == "rate_limited" for a in limited)
    # What tina received is exactly what wes was told went through.
    time.sleep(3.5)  # tina's bucket refills for the marker of sync()
    got = [l for l in t.sync(timeout=15) if l.startswith("*wes*")]
    assert got == [f"*wes* {text}" for text in sent]
    # And the other way, from a text client.
    time.sleep(3.5)
    t.send_raw(b"".join(f"/msg wes t{i}\n".encode() for i in range(8)))
    _, before = t.read_until("! slow down", timeout=15)
    assert not [l for l in before if l.startswith("!")]
    time.sleep(3.5)
    t.sync(timeout=15)
    got = [o["text"] for o in ws.sync(timeout=15) if is_dm(o) and o["from"] == "tina"]
    assert 3 <= len(got) < 8 and got == [f"t{i}" for i in range(len(got))], got


def test_dm_from_udp_obeys_the_size_and_rate_limits(server):
    ws = named(server, "ws", "wes")
    u = named(server, "udp", "udpu")
    u.send("/msg wes " + "z" * 4097)
    assert u.expect(lambda l: l.startswith("!")) == "! message too long"
    time.sleep(2.5)  # the bucket (20/s, burst 40) refills; UDP errors come once a second
    u.send("\n".join(f"/msg wes u{i}" for i in range(60)))
    assert u.expect(lambda l: l.startswith("!")) == "! slow down"
    # The whole datagram was handled before the error: every DM is queued by now.
    got = [o["text"] for o in ws.sync() if is_dm(o) and o["from"] == "udpu"]
    assert 38 <= len(got) < 60 and got == [f"u{i}" for i in range(len(got))], got


def test_dm_flood_to_an_unvalidated_udp_peer_stays_within_its_budget(chatgate):
    # SPEC 9: what goes to an unvalidated address is capped at 3x what came
    # from it plus 256 bytes a minute, direct messages included.
    server = chatgate(*FAST)
    src = Source("127.0.0.250", server.udp)  # test_15 uses .10-.249
    s = src.socket()
    try:
        started = time.monotonic()
        src.send(s, b"/nick quietudp\n")
        got = src.collect(quiet=0.5)
        lines = b"".join(got).decode().splitlines()
        assert lines[-1].endswith(" is now known as quietudp"), lines
        code = cc.OK_PROMPT_RE.match(lines[1])["code"]
        ws = named(server, "ws", "flooder")

        def flood(tag):
            ws.send_many([{"type": "say", "to": "quietudp", "text": f"{tag}{i:03d} " + "d" * 495}
                          for i in range(200)])
            acks = [o for o in ws.sync(timeout=15) if is_dm(o)]
            assert len(acks) == 200 and all(a["to"] == "quietudp" for a in acks)
            return [d for d in src.collect() if d.startswith(b"*flooder*")]

        assert flood("a") == []  # not one fits: a DM line is ~500 bytes
        assert_within_budget(got, src.sent, started)
        m = server.metrics()
        assert m["chatgate_direct_messages_total"] == 200
        assert m["chatgate_udp_budget_drops_total"] >= 200
        # Validated, the same flood arrives whole and in order.
        src.send(s, f"/ok {code}\n".encode())
        assert cc.OK_CONFIRMED.encode() + b"\n" in src.collect(quiet=0.5)
        dms = flood("b")
        assert [d[len(b"*flooder* "):][:4] for d in dms] == [f"b{i:03d}".encode() for i in range(200)]
    finally:
        src.close()


def test_dm_is_not_stored_in_history(server):
    alice = named(server, "tcp", "alice")
    bob = named(server, "ws", "bob")
    alice.send("/msg bob not for the record")
    bob.recv_until(is_dm)
    alice.send("in the room")
    bob.expect("message", text="in the room")
    later = server.ws()
    texts = [m["text"] for m in later.history["messages"]]
    assert texts == ["in the room"]
    late_tcp = server.text()
    assert not [l for l in late_tcp.sync() if "record" in l]


def test_dm_counted_in_metrics(server):
    alice = named(server, "tcp", "alice")
    bob = named(server, "ws", "bob")
    alice.send("/msg bob counted")
    bob.recv_until(is_dm)
    assert server.metrics()["chatgate_direct_messages_total"] == 1


# --------------------------------------------------------------------------
# Topics


def test_topic_set_by_tcp_seen_by_websocket(server):
    alice = named(server, "tcp", "alice")
    alice.send("/join dev")
    alice.expect("* alice joined #dev")
    other = server.text()
    other.send("/join dev")
    other.expect(f"* {other.nick} joined #dev")
    ws = server.ws()
    ws.join("dev")
    outsider = server.ws()  # in lobby only
    alice.send("/topic Release on Friday  ")
    ev = ws.expect("topic")
    assert set(ev) == TOPIC_KEYS, ev
    assert (ev["room"], ev["topic"], ev["by"]) == ("dev", "Release on Friday", "alice")
    assert isinstance(ev["ts"], int) and abs(ev["ts"] - time.time() * 1000) < 60_000
    line = "* topic of #dev: Release on Friday (set by alice)"
    assert alice.expect(re.compile(r"^\* topic")) == line  # the setter's confirmation
    assert other.expect(re.compile(r"^\* topic")) == line
    assert not [o for o in outsider.sync() if o["type"] == "topic"]
    # An empty /topic shows it.
    other.send("/topic")
    assert other.expect(re.compile(r"^\* topic")) == line


def test_topic_set_by_json_with_ref(server):
    ws = server.ws()
    ws.rename("wes")
    nd = server.ndjson()
    t = server.text()
    ack = ws.request({"type": "topic", "room": "lobby", "topic": "Welcome all"})
    assert ack["type"] == "topic" and ack["topic"] == "Welcome all" and ack["by"] == "wes"
    assert ack["room"] == "lobby" and "ref" in ack
    got = nd.expect("topic")
    assert "ref" not in got and got["topic"] == "Welcome all"
    assert t.expect(re.compile(r"^\* topic")) == "* topic of #lobby: Welcome all (set by wes)"
    # Without `topic` it answers the current topic to the asker alone.
    answer = nd.request({"type": "topic", "room": "#Lobby"})
    assert {k: answer[k] for k in ("type", "room", "topic", "by", "ts")} == {
        k: ack[k] for k in ("type", "room", "topic", "by", "ts")}
    assert not [o for o in ws.sync() if o["type"] == "topic"]
    answer = ws.request({"type": "topic", "room": "lobby", "topic": None})
    assert answer["topic"] == "Welcome all"


def test_topic_on_join_comes_before_history(server):
    t = named(server, "tcp", "tina")
    t.send("/join dev")
    t.expect("* tina joined #dev")
    t.send("hello dev")
    t.send("/topic builds and tests")
    t.expect(re.compile(r"^\* topic"))
    ws = server.ws()
    ws.sync()
    ref = cc.new_ref()
    ws.send({"type": "join", "room": "dev", "ref": ref})
    got = [ws.recv() for _ in range(3)]
    assert [o["type"] for o in got] == ["joined", "topic", "history"]
    # The join's answers keep their ref; the topic comes without it.
    assert [o.get("ref") for o in got] == [ref, None, ref]
    assert got[1] == {"type": "topic", "room": "dev", "topic": "builds and tests", "by": "tina",
                      "ts": got[1]["ts"]}
    assert [m["text"] for m in got[2]["messages"]] == ["hello dev"]
    u = server.text()
    u.send("/join dev")
    assert u.read_line() == f"* {u.nick} joined #dev"
    assert u.read_line() == "* topic of #dev: builds and tests (set by tina)"
    assert u.read_line() == "[dev] tina: hello dev"
    # Joining again (JSON) re-sends topic and history.
    again = ws.join("dev")
    assert again["type"] == "history"


def test_topic_sent_after_connect(server):
    t = named(server, "tcp", "tina")
    t.send("/topic lobby rules")
    t.expect(re.compile(r"^\* topic"))
    ws = cc.WsClient(server.http, read_welcome=False)
    server._track(ws)
    assert [ws.recv()["type"] for _ in range(3)] == ["welcome", "topic", "history"]
    t2 = server.text()
    assert t2.read_line() == "* topic of #lobby: lobby rules (set by tina)"
    # NDJSON by first byte: the text lines sent on connect come first, then
    # welcome, topic and history again in JSON.
    raw = server._track(cc.LineSocket(server.tcp))
    assert cc.WELCOME_RE.match(raw.read_line_bytes().decode())
    assert raw.read_line_bytes() == b"* topic of #lobby: lobby rules (set by tina)"
    raw.send_raw(b'{"type":"rooms","ref":"x"}\n')
    objs = []
    while not objs or objs[-1].get("ref") != "x":
        objs.append(json.loads(raw.read_line_bytes()))
    assert [o["type"] for o in objs] == ["welcome", "topic", "history", "rooms"]
    assert objs[1] == {"type": "topic", "room": "lobby", "topic": "lobby rules", "by": "tina",
                       "ts": objs[1]["ts"]}


def test_no_topic(server):
    ws = server.ws()
    ws.sync()
    ws.send({"type": "join", "room": "quiet"})
    assert [ws.recv()["type"] for _ in range(2)] == ["joined", "history"]  # no topic event
    answer = ws.request({"type": "topic", "room": "quiet"})
    assert {k: answer[k] for k in TOPIC_KEYS} == {
        "type": "topic", "room": "quiet", "topic": "", "by": "", "ts": 0}
    # Any room may be asked about, like `who`; an unknown one has no topic.
    answer = ws.request({"type": "topic", "room": "neverseen"})
    assert answer["topic"] == "" and answer["room"] == "neverseen"
    t = server.text()
    t.send("/join quiet")
    t.send("/topic")
    assert t.expect(re.compile(r"^\* (topic|no topic)")) == "* no topic in #quiet"


def test_topic_in_rooms(server):
    ws = server.ws()
    ws.join("dev")
    ws.request({"type": "topic", "room": "dev", "topic": "all about dev"})
    rooms = {r["room"]: r for r in ws.request({"type": "rooms"})["rooms"]}
    assert rooms["dev"] == {"room": "dev", "members": 1, "topic": "all about dev"}
    assert rooms["lobby"] == {"room": "lobby", "members": 1, "topic": ""}
    # Text /rooms keeps its SPEC 3 lines.
    t = server.text()
    t.send("/rooms")
    assert t.expect(re.compile(r"^\* #dev")) == "* #dev (1)"


def test_topic_control_characters_removed(server):
    t = named(server, "tcp", "tina")
    ws = server.ws()
    ack = ws.request({"type": "topic", "room": "lobby", "topic": "a\x07b\nc\u009bd\x1b[2Je"})
    assert ack["topic"] == "abcd[2Je"
    assert t.expect(re.compile(r"^\* topic")) == f"* topic of #lobby: abcd[2Je (set by {ws.nick})"
    t.send_raw(b"/topic x\x01y\x08z\n")
    assert ws.expect("topic", by="tina")["topic"] == "xyz"
    err = ws.request({"type": "topic", "room": "lobby", "topic": "\x01\x02"})
    assert err["code"] == "bad_request" and err["message"] == "topic is empty"


def test_topic_size_limit(chatgate):
    server = chatgate("--max-message-bytes", "20")
    ws = server.ws()
    t = server.text()
    assert ws.request({"type": "topic", "room": "lobby", "topic": "t" * 20})["topic"] == "t" * 20
    err = ws.request({"type": "topic", "room": "lobby", "topic": "t" * 21})
    assert err["type"] == "error" and err["code"] == "too_long" and err["message"] == "topic too long"
    t.send("/topic " + "u" * 21)
    assert t.expect(lambda l: l.startswith("!")) == "! topic too long"
    t.send("/topic")
    assert t.expect(re.compile(r"^\* topic of")) == f"* topic of #lobby: {'t' * 20} (set by {ws.nick})"


def test_topic_default_size_limit(server):
    ws = server.ws()
    assert ws.request({"type": "topic", "room": "lobby", "topic": "t" * 4096})["type"] == "topic"
    assert ws.request({"type": "topic", "room": "lobby", "topic": "t" * 4097})["code"] == "too_long"


def test_topic_needs_membership_to_change(server):
    ws = server.ws()
    err = ws.request({"type": "topic", "room": "elsewhere", "topic": "mine now"})
    assert err["code"] == "not_in_room"
    err = ws.request({"type": "topic", "room": "bad room!", "topic": "x"})
    assert err["code"] == "bad_room"
    err = ws.request({"type": "topic"})
    assert err["code"] == "bad_request" and err["message"] == "missing field: room"
    err = ws.request({"type": "topic", "room": "lobby", "topic": 3})
    assert err["code"] == "bad_request" and err["message"] == "field must be a string: topic"


def test_topic_cleared_with_empty_string(server):
    ws = named(server, "ws", "wes")
    t = server.text()
    ws.request({"type": "topic", "room": "lobby", "topic": "temporary"})
    t.expect(re.compile(r"^\* topic"))
    ack = ws.request({"type": "topic", "room": "lobby", "topic": ""})
    assert ack["topic"] == "" and ack["by"] == "wes"
    assert t.expect(re.compile(r"^\* topic")) == "* topic of #lobby cleared by wes"
    assert ws.request({"type": "topic", "room": "lobby"})["by"] == ""
    t.send("/topic")
    assert t.expect(re.compile(r"^\* (no )?topic")) == "* no topic in #lobby"
    assert {r["room"]: r["topic"] for r in ws.request({"type": "rooms"})["rooms"]}["lobby"] == ""


def test_topic_survives_while_room_is_empty(server):
    ws = server.ws()
    ws.join("attic")
    ws.request({"type": "topic", "room": "attic", "topic": "dusty"})
    ws.request({"type": "leave", "room": "attic"})
    t = server.text()
    t.send("/join attic")
    t.expect(f"* {t.nick} joined #attic")
    assert t.read_line() == f"* topic of #attic: dusty (set by {ws.nick})"


def test_topic_over_udp(server):
    u = named(server, "udp", "udpu")
    ws = server.ws()
    u.send("/topic set over udp")
    assert ws.expect("topic")["topic"] == "set over udp"
    assert u.expect(re.compile(r"^\* topic")) == "* topic of #lobby: set over udp (set by udpu)"
    u.send("/topic")
    assert u.expect(re.compile(r"^\* topic")) == "* topic of #lobby: set over udp (set by udpu)"


def test_topic_waits_for_udp_validation_like_the_history(server):
    ws = server.ws()
    ws.request({"type": "topic", "room": "lobby", "topic": "lobby rules"})
    ws.join("dev")
    ws.request({"type": "topic", "room": "dev", "topic": "dev rules"})
    ws.say("in dev", room="dev")
    ws.sync()
    u = server.udp_client()
    u.hello()  # the welcome and the /ok prompt, nothing of the lobby
    u.send("/join dev")
    assert u.expect(re.compile(r"joined")) == f"* {u.nick} joined #dev"
    assert not [l for l in u.sync() if "topic" in l or "in dev" in l]
    # A change reaches it like a message.
    ws.request({"type": "topic", "room": "dev", "topic": "dev rules!"})
    assert u.expect(re.compile(r"^\* topic")) == f"* topic of #dev: dev rules! (set by {ws.nick})"
    # Validated: the topic, then the history, as on a join.
    u.validate()
    assert u.read_line() == f"* topic of #dev: dev rules! (set by {ws.nick})"
    assert u.read_line() == f"[dev] {ws.nick}: in dev"


def test_topic_over_ndjson(server):
    nd = named(server, "ndjson", "nadia")
    t = server.text()
    ack = nd.request({"type": "topic", "room": "lobby", "topic": "from ndjson"})
    assert ack["type"] == "topic" and ack["by"] == "nadia"
    assert t.expect(re.compile(r"^\* topic")) == "* topic of #lobby: from ndjson (set by nadia)"


# --------------------------------------------------------------------------
# /leave and /part


def test_leave_from_the_default_room(server):
    peer = server.text()
    ws = server.ws()
    t = server.text()
    peer.sync(), ws.sync()  # t's own arrival
    t.send("/leave")
    before = t.sync()
    assert before == ["! you are in the default room #lobby"]
    t.send("/part")
    assert t.sync() == ["! you are in the default room #lobby"]
    assert not [l for l in peer.sync() if t.nick in l and ("left" in l or "joined" in l)]
    assert not [o for o in ws.sync() if o["type"] in ("left", "joined")]


def test_leave_goes_back_to_the_default_room(server):
    lobby_peer = server.text()
    t = named(server, "tcp", "tina")
    lobby_peer.expect(re.compile(r"is now known as tina"))
    lobby_peer.send("lobby chatter")
    dev_peer = server.ws()
    dev_peer.join("dev")
    t.send("/join dev")
    t.expect("* tina joined #dev")
    lobby_peer.expect("* tina left #lobby")
    t.send("/leave")
    assert t.read_line() == "* tina left #dev"
    assert t.read_line() == "* tina joined #lobby"
    assert t.read_line() == f"[lobby] {lobby_peer.nick}: lobby chatter"  # history
    assert dev_peer.expect("left", room="dev") == {
        "type": "left", "room": "dev", "nick": "tina", "via": "tcp"}
    assert lobby_peer.expect(re.compile(r"joined")) == "* tina joined #lobby"
    # Back in the lobby: messages go there.
    t.send("back again")
    assert lobby_peer.expect(re.compile(r"^\[")) == "[lobby] tina: back again"


def test_part_is_leave_and_takes_the_current_room(server):
    t = named(server, "tcp", "tina")
    t.send("/join dev")
    t.expect("* tina joined #dev")
    t.send("/part #elsewhere")
    assert t.expect(lambda l: l.startswith("!")) == "! not in room: elsewhere"
    t.send("/PART #Dev")
    assert t.read_line() == "* tina left #dev"
    assert t.read_line() == "* tina joined #lobby"


def test_leave_shows_the_default_room_topic(server):
    ws = server.ws()
    ws.request({"type": "topic", "room": "lobby", "topic": "home"})
    t = server.text()
    t.send("/join dev")
    t.expect(f"* {t.nick} joined #dev")
    t.send("/leave")
    t.expect(f"* {t.nick} joined #lobby")
    assert t.read_line() == f"* topic of #lobby: home (set by {ws.nick})"


def test_leave_over_udp(server):
    u = named(server, "udp", "udpu")
    u.send("/leave")
    assert u.expect(lambda l: l.startswith("!")) == "! you are in the default room #lobby"
    u.send("/join dev")
    u.expect("* udpu joined #dev")
    u.send("/part")
    assert u.expect(re.compile(r"^\* udpu left")) == "* udpu left #dev"


def test_json_leave_unchanged(server):
    ws = server.ws()
    left = ws.request({"type": "leave", "room": "lobby"})
    assert left == {"type": "left", "room": "lobby", "nick": ws.nick, "via": "ws", "ref": left["ref"]}
    err = ws.request({"type": "leave", "room": ""})
    assert err["code"] == "bad_room"


# --------------------------------------------------------------------------
# IRC (SPEC 14): a DM is a PRIVMSG to a nick, TOPIC, PART


def test_conversations_with_an_irc_client(server):
    c = server._track(Irc(server.irc, timeout=10))
    c.register("ircy")
    t = named(server, "tcp", "termy")
    u = named(server, "udp", "udpy")
    c.sync()
    t.send("/msg ircy hi irc")
    c.expect(":termy!tcp@chatgate PRIVMSG ircy :hi irc")
    c.send("PRIVMSG termy :hi term")
    assert t.expect(re.compile(r"^\*ircy\*")) == "*ircy* hi term"
    c.send("PRIVMSG UDPY :hi udp")
    assert u.expect(re.compile(r"^\*ircy\*")) == "*ircy* hi udp"
    c.send("PRIVMSG nobody :x")
    c.expect(":chatgate 401 ircy nobody :No such nick/channel")
    # Topics: asked, set by a terminal, asked again, cleared from IRC.
    c.send("TOPIC #lobby")
    c.expect(":chatgate 331 ircy #lobby :No topic is set")
    t.send("/topic set by terminal")
    t.expect("* topic of #lobby: set by terminal (set by termy)")
    c.expect(":termy TOPIC #lobby :set by terminal")
    c.send("TOPIC #lobby")
    c.expect(":chatgate 332 ircy #lobby :set by terminal")
    c.expect(lambda l: l.startswith(":chatgate 333 ircy #lobby termy "))
    c.send("TOPIC #lobby :")
    assert t.expect(re.compile(r"^\* topic")) == "* topic of #lobby cleared by ircy"
    # A terminal's /join and /leave are JOIN and PART; IRC's PART is a leave.
    c.send("JOIN #dev")
    c.expect(":ircy!irc@chatgate JOIN #dev")
    t.send("/join dev")
    c.expect(":termy!tcp@chatgate JOIN #dev")
    t.send("/leave")
    c.expect(":termy!tcp@chatgate PART #dev")
    t.expect("* termy joined #lobby")
    t.send("/join dev")
    c.send("PART #dev")
    c.expect(":ircy!irc@chatgate PART #dev")
    t.expect("* ircy left #dev")


def test_help_and_the_protocol_doc_list_the_same_commands(server):
    doc = (REPO_ROOT / "docs" / "protocol.md").read_text()
    section = doc.split("\n## Text protocol")[1].split("\n## ")[0]
    documented = set(re.findall(r"^\| `(/[a-z]+)", section, re.M))
    documented |= set(re.findall(r"\(`(/[a-z]+)`\)", section))  # `/leave` (`/part`)
    t = server.text()
    t.send("/help")
    text = "\n".join(t.sync())
    helped = set(re.findall(r"^\* (/[a-z]+)", text, re.M)) | set(re.findall(r"also (/[a-z]+)", text))
    assert documented == helped
    assert {"/msg", "/topic", "/leave", "/part"} <= helped


def test_help_lists_every_command(server):
    t = server.text()
    t.send("/help")
    lines = t.sync()
    text = "\n".join(lines)
    for cmd in ("/nick", "/join", "/leave", "/part", "/msg NICK TEXT", "/topic", "/topic TEXT",
                "/rooms", "/who", "/me", "/json", "/help", "/quit"):
        assert cmd in text, (cmd, lines)
    assert all(l.startswith("* ") for l in lines)
