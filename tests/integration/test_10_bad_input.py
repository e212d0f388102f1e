"""Bad input of every kind: an error that says why, and the client stays."""

import socket

import pytest

import chatgate_client as cc

CLIENT_KINDS = ["ws", "ndjson"]


def json_client(server, kind):
    return server.ws() if kind == "ws" else server.ndjson()


def send_text(client, text):
    if isinstance(client, cc.WsClient):
        client.send_text(text)
    else:
        client.send_raw(text.encode() + b"\n")


def assert_still_open(client):
    answer = client.request({"type": "rooms"})
    assert answer["type"] == "rooms"


# ---------------------------------------------------------------- bad_request


@pytest.mark.parametrize("kind", CLIENT_KINDS)
@pytest.mark.parametrize("raw", [
    "not json at all",
    '{"type": "say", "room": "lobby", "text": "unterminated',
    "[]", "42", '"a string"', "null", "true",
    "{}",
    '{"type": 5}',
    '{"type": null}',
    '{"type": "dance"}',
    '{"type": "say", "room": "lobby"}',
    '{"type": "say", "text": "no room"}',
    '{"type": "say", "room": "lobby", "text": 5}',
    '{"type": "join"}',
    '{"type": "join", "room": ["lobby"]}',
    '{"type": "leave"}',
    '{"type": "nick"}',
    '{"type": "nick", "nick": 7}',
    '{"type": "who"}',
], ids=lambda s: s[:40])
def test_bad_request_keeps_the_connection(server, kind, raw):
    client = json_client(server, kind)
    send_text(client, raw)
    err = client.recv()
    assert err["type"] == "error" and err["code"] == "bad_request", err
    assert isinstance(err["message"], str) and err["message"]
    assert_still_open(client)


@pytest.mark.parametrize("kind", CLIENT_KINDS)
def test_bad_request_carries_the_ref(server, kind):
    client = json_client(server, kind)
    send_text(client, '{"type": "dance", "ref": "d1"}')
    err = client.recv()
    assert err["code"] == "bad_request" and err["ref"] == "d1"
    send_text(client, '{"type": "say", "room": "lobby", "ref": 99}')
    err = client.recv()
    assert err["code"] == "bad_request" and err["ref"] == 99


def test_deeply_nested_json(server):
    ws = server.ws()
    ws.send_text("[" * 30000 + "]" * 30000)
    assert ws.recv()["code"] == "bad_request"
    ws.send_text('{"type": "say", "room": "lobby", "text": "x", "extra": ' +
                 "[" * 20000 + "]" * 20000 + "}")
    answer = ws.recv()
    assert answer["type"] in ("message", "error")
    assert_still_open(ws)


def test_binary_frame_does_not_kill_the_server(server):
    ws = server.ws()
    cc.run(ws.ws.send(b"\x00\xff binary"))
    try:
        answer = ws.recv()
        assert answer["type"] == "error"
    except cc.Closed:
        pass
    assert server.ws().welcome["type"] == "welcome"


# ---------------------------------------------------------------- each error code


@pytest.mark.parametrize("kind", CLIENT_KINDS)
@pytest.mark.parametrize("room", ["bad room", "bad!room", "a.b", "", "#", "##x",
                                  "r" * 33, "#" + "r" * 33, "caf\u00e9", "lobby/x"])
def test_bad_room(server, kind, room):
    client = json_client(server, kind)
    answer = client.request({"type": "join", "room": room})
    assert answer["type"] == "error" and answer["code"] == "bad_room", answer
    answer = client.request({"type": "say", "room": room, "text": "x"})
    assert answer["type"] == "error" and answer["code"] in ("bad_room", "not_in_room")
    assert_still_open(client)


@pytest.mark.parametrize("kind", CLIENT_KINDS)
@pytest.mark.parametrize("room,name", [
    ("#Games", "games"), ("GAMES", "games"), ("#lobby", "lobby"),
    ("r" * 32, "r" * 32), ("#" + "R" * 32, "r" * 32), ("a-b_c9", "a-b_c9"), ("0", "0"),
])
def test_room_names_are_normalised(server, kind, room, name):
    client = json_client(server, kind)
    history = client.join(room)
    assert history["room"] == name
    msg = client.request({"type": "say", "room": room, "text": "hi"})
    assert msg["type"] == "message" and msg["room"] == name
    rooms = {r["room"] for r in client.request({"type": "rooms"})["rooms"]}
    assert name in rooms


def test_text_room_names(server):
    t = server.text()
    ws = server.ws()
    ws.join("games")
    t.send("/join #GaMeS")
    assert ws.expect("joined", room="games")["nick"] == t.nick
    t.send("/join " + "x" * 33)
    assert t.expect(lambda l: l.startswith("!")) == "! bad room: " + "x" * 33


@pytest.mark.parametrize("kind", CLIENT_KINDS)
@pytest.mark.parametrize("nick", ["", "a b", "a.b", "n" * 25, "caf\u00e9", "x/y", "<b>"])
def test_bad_nick(server, kind, nick):
    client = json_client(server, kind)
    answer = client.request({"type": "nick", "nick": nick})
    assert answer["type"] == "error" and answer["code"] == "bad_nick", answer
    assert_still_open(client)


@pytest.mark.parametrize("nick", ["A", "n" * 24, "a-b_C9", "0"])
def test_good_nicks(server, nick):
    ws = server.ws()
    ws.rename(nick)


def test_nick_taken_across_transports_case_insensitive(server):
    ws = server.ws()
    ws.rename("Alice")
    t = server.text()
    t.send("/nick alice")
    assert t.expect(lambda l: l.startswith("!")) == "! nick taken: alice"
    u = server.udp_client()
    u.hello()
    u.send("/nick ALICE")
    assert u.expect(lambda l: l.startswith("!")) == "! nick taken: ALICE"
    n = server.ndjson()
    answer = n.request({"type": "nick", "nick": "aLiCe"})
    assert answer["type"] == "error" and answer["code"] == "nick_taken"
    other = server.ws()
    answer = other.request({"type": "nick", "nick": "ALICE"})
    assert answer["code"] == "nick_taken"
    # Guest names are taken too.
    answer = other.request({"type": "nick", "nick": t.nick.upper()})
    assert answer["code"] == "nick_taken"


def test_new_guest_name_skips_a_taken_one(server):
    a = server.ws()
    num = int(a.nick.split("-")[1])
    a.rename(f"guest-{num + 1}")
    b = server.ws()
    assert b.nick.lower() != f"guest-{num + 1}"


def test_nick_is_free_again_after_disconnect(server):
    a = server.ws()
    a.rename("Phoenix")
    watcher = server.ws()
    a.close()
    watcher.expect("left", nick="Phoenix")
    b = server.text()
    b.rename("phoenix")


def test_own_nick_in_other_case_is_allowed_or_refused_cleanly(server):
    ws = server.ws()
    ws.rename("Bob")
    answer = ws.request({"type": "nick", "nick": "BOB"})
    assert answer["type"] in ("nick", "error")
    assert_still_open(ws)


@pytest.mark.parametrize("kind", CLIENT_KINDS)
def test_not_in_room(server, kind):
    client = json_client(server, kind)
    answer = client.request({"type": "say", "room": "elsewhere", "text": "x"})
    assert answer["type"] == "error" and answer["code"] == "not_in_room"
    answer = client.request({"type": "leave", "room": "elsewhere"})
    assert answer["type"] == "error" and answer["code"] == "not_in_room"
    assert_still_open(client)


@pytest.mark.parametrize("kind", CLIENT_KINDS)
def test_too_long(server, kind):
    client = json_client(server, kind)
    answer = client.request({"type": "say", "room": "lobby", "text": "x" * 4097})
    assert answer["type"] == "error" and answer["code"] == "too_long"
    assert_still_open(client)


@pytest.mark.parametrize("kind", CLIENT_KINDS)
def test_rate_limited(chatgate, kind):
    server = chatgate("--rate", "1", "--burst", "2")
    client = json_client(server, kind)
    client.send_many([{"type": "say", "room": "lobby", "text": f"t{i}", "ref": i}
                      for i in range(4)])
    answers = [client.recv_until(lambda o, i=i: o.get("ref") == i)[0] for i in range(4)]
    assert [a["type"] for a in answers[:1]] == ["message"]
    codes = [a["code"] for a in answers if a["type"] == "error"]
    assert codes and set(codes) == {"rate_limited"}


# ---------------------------------------------------------------- text transports


def test_text_garbage_does_not_hurt(server):
    a, b = server.text(), server.text()
    a.send_raw(bytes(range(256)) * 8 + b"\n")
    a.send_raw(b"\n\n\r\n   \n")
    a.send("/")
    a.send("//")
    a.send("/ nick")
    a.send("still talking")
    line = b.expect(lambda l: "still talking" in l)
    assert line == f"[lobby] {a.nick}: still talking"


def test_connect_and_drop_repeatedly(server):
    for _ in range(50):
        s = socket.create_connection(("127.0.0.1", server.tcp), timeout=5)
        s.close()
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", server.http), timeout=5)
        s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\n")
        s.close()
    assert server.get("/healthz")[0] == 200
    assert server.text().room == "lobby"


def test_http_garbage(server):
    s = socket.create_connection(("127.0.0.1", server.http), timeout=5)
    s.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
    s.settimeout(5)
    try:
        s.recv(1000)
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    assert server.get("/healthz")[0] == 200


def test_udp_garbage(server):
    u = server.udp_client()
    u.send(b"\x00\xff\xfe" * 100)
    welcome = u.read_line()
    assert cc.WELCOME_RE.match(welcome)
    u.send(b"")
    u.send("/who")
    assert u.sync() is not None
