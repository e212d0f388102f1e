"""Many clients in one room: everyone gets everything, in one id order."""

import asyncio
import json
import re
import threading

import chatgate_client as cc

WS_CLIENTS = 100
TCP_CLIENTS = 30
SENDERS = 5          # of each kind
PER_SENDER = 10
TOTAL = 2 * SENDERS * PER_SENDER


async def open_ws(port):
    ws = await cc.ws_open(port)
    welcome = json.loads(await asyncio.wait_for(ws.recv(), 30))
    assert welcome["type"] == "welcome"
    return ws, welcome["nick"]


async def collect(ws, count):
    """(id, from, text) of the first `count` messages, in arrival order."""
    got = []
    while len(got) < count:
        obj = json.loads(await asyncio.wait_for(ws.recv(), 60))
        if obj["type"] == "message":
            got.append((obj["id"], obj["from"], obj["text"]))
    return got


def test_every_client_gets_every_message_in_the_same_order(fast_server):
    server = fast_server
    async def open_all():
        return await asyncio.gather(*(open_ws(server.http) for _ in range(WS_CLIENTS)))
    opened = cc.run(open_all(), 120)
    try:
        tcps = [server.text() for _ in range(TCP_CLIENTS)]

        async def ws_send():
            for i in range(PER_SENDER):
                for ws, nick in opened[:SENDERS]:
                    await ws.send(json.dumps({"type": "say", "room": "lobby",
                                              "text": f"{nick} #{i}"}))
        sending = threading.Thread(target=cc.run, args=(ws_send(),))
        sending.start()
        for t in tcps[:SENDERS]:
            t.send_raw(b"".join(f"{t.nick} #{i}\n".encode() for i in range(PER_SENDER)))
        sending.join()

        async def collect_all():
            return await asyncio.gather(*(collect(ws, TOTAL) for ws, _ in opened))
        ws_views = cc.run(collect_all(), 120)
        reference = ws_views[0]
        assert [m[0] for m in reference] == list(range(1, TOTAL + 1))
        for view in ws_views:
            assert view == reference
        # Each sender's own messages keep the order it sent them in.
        for sender in [n for _, n in opened[:SENDERS]] + [t.nick for t in tcps[:SENDERS]]:
            mine = [text for _, frm, text in reference if frm == sender]
            assert mine == [f"{sender} #{i}" for i in range(PER_SENDER)]

        line_re = re.compile(r"^\[lobby\] (\S+): (.*)$")
        for t in tcps:
            expected = [(frm, text) for _, frm, text in reference if frm != t.nick]
            got = []
            while len(got) < len(expected):
                m = line_re.match(t.read_line(timeout=30))
                if m:
                    got.append((m[1], m[2]))
            assert got == expected
    finally:
        async def close_all():
            await asyncio.gather(*(ws.close() for ws, _ in opened), return_exceptions=True)
        cc.run(close_all())


def test_concurrent_senders_in_two_rooms_get_gapless_ids(fast_server):
    server = fast_server
    watchers = {room: server.ws() for room in ("red", "blue")}
    for room, w in watchers.items():
        w.join(room)
    senders = [server.ws() for _ in range(4)]
    for s in senders:
        s.join("red")
        s.join("blue")

    def blast(client):
        for i in range(25):
            client.say(f"r{i}", room="red")
            client.say(f"b{i}", room="blue")

    threads = [threading.Thread(target=blast, args=(s,)) for s in senders]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for room, w in watchers.items():
        ids = []
        while len(ids) < 100:
            m = w.expect("message", room=room)
            ids.append(m["id"])
        assert ids == list(range(1, 101))
