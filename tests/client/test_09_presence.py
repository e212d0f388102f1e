"""chatgate-client in a room above the server's --presence-limit: joins and
leaves come as counts (docs/protocol.md, `presence`), and the client shows
how many people are there; /who still lists every one of them."""

from client_helpers import ws


def test_client_shows_the_size_of_a_big_room(chatgate, background):
    server = chatgate("--presence-limit", "2")
    crowd = [server.ws() for _ in range(3)]
    client = background("chat", *ws(server), "--nick", "counter")
    # Its own join: the room's size, not one line per member.
    client.wait_line("* #lobby: 4 people here")
    # Someone joins: counted, then told as a count within about a second.
    crowd.append(server.ws())
    client.wait_line(lambda l: l.startswith("* #lobby: 5 people here (") and l.endswith(" joined, 0 left)"))
    crowd.pop().close()
    client.wait_line("* #lobby: 4 people here (0 joined, 1 left)")
    client.send("/who")
    for c in crowd:
        client.wait_line(f"* {c.nick} (ws)")
    status, lines, err = client.finish()
    assert status == 0, err
    assert not [l for l in lines if " joined #lobby" in l or " left #lobby" in l], lines
