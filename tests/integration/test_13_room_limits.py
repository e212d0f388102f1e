"""Limits the gateway adds where the SPEC is silent (docs/protocol.md):
rooms per WebSocket/NDJSON client (--max-rooms-per-client)."""

from conftest import FAST


def test_rooms_per_client_are_capped(chatgate):
    server = chatgate("--max-rooms-per-client", "3", *FAST)
    ws = server.ws()
    ws.join("two")
    ws.join("three")  # lobby, two, three: at the cap
    answer = ws.request({"type": "join", "room": "four"})
    assert answer["type"] == "error" and answer["code"] == "bad_room", answer
    assert answer["message"] == "too many rooms: at most 3"
    # Leaving one makes room again, and the connection kept working.
    assert ws.request({"type": "leave", "room": "two"})["type"] == "left"
    assert ws.request({"type": "join", "room": "four"})["type"] == "joined"


def test_text_clients_are_never_capped_by_it(chatgate):
    # A text client is in one room at a time, so /join always works.
    server = chatgate("--max-rooms-per-client", "1", *FAST)
    c = server.text()
    for room in ("a", "b", "c"):
        c.send(f"/join {room}")
        assert c.expect(lambda l: "joined" in l or l.startswith("!")) == f"* {c.nick} joined #{room}"


def test_ndjson_client_is_capped_too(chatgate):
    server = chatgate("--max-rooms-per-client", "1", *FAST)
    n = server.ndjson()
    answer = n.request({"type": "join", "room": "more"})
    assert answer["code"] == "bad_room", answer

