#!/usr/bin/python3
"""Talk to a running chatgate the way its users do; used by docker/test.sh.

  chat_check.py chat     HOST HTTP TCP UDP ECHO   health, metrics, ws<->tcp chat, udp, echo
  chat_check.py shutdown HOST HTTP TCP            hold a ws and a tcp client, print
                                                  "ready", then check the goodbye
                                                  each gets when the server stops
  chat_check.py cluster  HOST HTTP_A HTTP_B TCP_B two nodes of one cluster (SPEC 11):
                                                  both ready, a message crosses from
                                                  a to b and back with one id each

Needs Debian's python3-websockets (run with /usr/bin/python3).
"""
import asyncio
import json
import socket
import sys

import websockets

TIMEOUT = 5.0


def fail(what):
    print(f"FAIL: {what}", flush=True)
    sys.exit(1)


def ok(what):
    print(f"ok: {what}", flush=True)


async def http_get(host, port, path):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), TIMEOUT)
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, body.decode(errors="replace")


async def ws_expect(ws, pred, what):
    """Read frames until one matches pred; others (joined, history...) are skipped."""
    async def loop():
        while True:
            event = json.loads(await ws.recv())
            if pred(event):
                return event
    try:
        return await asyncio.wait_for(loop(), TIMEOUT)
    except asyncio.TimeoutError:
        fail(f"websocket: no {what} within {TIMEOUT}s")


async def tcp_expect(reader, pred, what):
    async def loop():
        while True:
            line = await reader.readline()
            if not line:
                fail(f"tcp: connection closed while waiting for {what}")
            line = line.decode(errors="replace").rstrip("\n")
            if pred(line):
                return line
    try:
        return await asyncio.wait_for(loop(), TIMEOUT)
    except asyncio.TimeoutError:
        fail(f"tcp: no {what} within {TIMEOUT}s")


async def check_chat(host, http, tcp, udp, echo):
    status, body = await http_get(host, http, "/healthz")
    if status != 200 or json.loads(body).get("status") != "ok":
        fail(f"/healthz answered {status} {body!r}")
    ok("/healthz 200 {\"status\":\"ok\"}")

    async with websockets.connect(f"ws://{host}:{http}/ws") as ws:
        welcome = await ws_expect(ws, lambda e: e.get("type") == "welcome", "welcome")
        ws_nick = welcome["nick"]
        ok(f"websocket welcome as {ws_nick}")

        reader, writer = await asyncio.open_connection(host, tcp)
        line = await tcp_expect(reader, lambda l: l.startswith("* welcome "), "welcome")
        tcp_nick = line.split()[2].rstrip(",")
        ok(f"tcp welcome as {tcp_nick}")
        await ws_expect(ws, lambda e: e.get("type") == "joined" and e.get("nick") == tcp_nick,
                        "joined for the tcp client")

        writer.write(b"hello from tcp\n")
        await writer.drain()
        msg = await ws_expect(ws, lambda e: e.get("type") == "message" and e.get("from") == tcp_nick,
                              "message from tcp")
        if msg.get("via") != "tcp" or msg.get("text") != "hello from tcp":
            fail(f"websocket got {msg}")
        ok("tcp -> websocket")

        await ws.send(json.dumps({"type": "say", "room": "lobby", "text": "hello from ws", "ref": 7}))
        line = await tcp_expect(reader, lambda l: "hello from ws" in l, "message from ws")
        if line != f"[lobby] {ws_nick}: hello from ws":
            fail(f"tcp got {line!r}")
        own = await ws_expect(ws, lambda e: e.get("type") == "message" and e.get("from") == ws_nick,
                              "own message back")
        if own.get("ref") != 7 or own.get("via") != "ws":
            fail(f"own message came back as {own}")
        ok("websocket -> tcp")

        udp_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp_sock.sendto(b"hello from udp\n", (host, udp))
        msg = await ws_expect(ws, lambda e: e.get("type") == "message" and e.get("via") == "udp",
                              "message from udp")
        if msg.get("text") != "hello from udp":
            fail(f"websocket got {msg}")
        udp_sock.sendto(b"/quit\n", (host, udp))
        udp_sock.close()
        ok("udp -> websocket")

        er, ew = await asyncio.open_connection(host, echo)
        ew.write(b"ping\n")
        await ew.drain()
        back = await asyncio.wait_for(er.readexactly(5), TIMEOUT)
        if back != b"ping\n":
            fail(f"echo answered {back!r}")
        ew.close()
        ok("echo")

        writer.close()

    status, body = await http_get(host, http, "/metrics")
    if status != 200 or "chatgate_clients" not in body:
        fail(f"/metrics answered {status}")
    ok("/metrics")


async def check_shutdown(host, http, tcp):
    async with websockets.connect(f"ws://{host}:{http}/ws") as ws:
        await ws_expect(ws, lambda e: e.get("type") == "welcome", "welcome")
        reader, writer = await asyncio.open_connection(host, tcp)
        await tcp_expect(reader, lambda l: l.startswith("* welcome "), "welcome")
        print("ready", flush=True)

        async def tcp_until_eof():
            lines = []
            while True:
                line = await reader.readline()
                if not line:
                    return lines
                lines.append(line.decode(errors="replace").rstrip("\n"))

        async def ws_until_close():
            try:
                while True:
                    await ws.recv()
            except websockets.ConnectionClosed as closed:
                return closed.code

        lines, code = await asyncio.wait_for(asyncio.gather(tcp_until_eof(), ws_until_close()), 30)
        if "* server shutting down" not in lines:
            fail(f"tcp client got {lines} before the close")
        ok("tcp client got '* server shutting down'")
        if code != 1001:
            fail(f"websocket closed with {code}, not 1001")
        ok("websocket client got close 1001")


async def check_cluster(host, http_a, http_b, tcp_b):
    async def ready(port):
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            try:
                status, body = await http_get(host, port, "/readyz")
                if status == 200:
                    return
            except (OSError, ValueError, IndexError, asyncio.TimeoutError):
                status, body = None, ""
            if asyncio.get_running_loop().time() > deadline:
                fail(f"node on {port}: /readyz answered {status} {body!r} for 30 s")
            await asyncio.sleep(0.5)

    await ready(http_a)
    await ready(http_b)
    ok("both nodes ready (Redis reached)")
    async with websockets.connect(f"ws://{host}:{http_a}/ws") as wa, \
            websockets.connect(f"ws://{host}:{http_b}/ws") as wb:
        nick_a = (await ws_expect(wa, lambda e: e.get("type") == "welcome", "welcome on a"))["nick"]
        nick_b = (await ws_expect(wb, lambda e: e.get("type") == "welcome", "welcome on b"))["nick"]
        if nick_a.lower() == nick_b.lower():
            fail(f"both nodes handed out the nick {nick_a}")
        ok(f"welcomes as {nick_a} (a) and {nick_b} (b): guest nicks differ across nodes")
        await wa.send(json.dumps({"type": "say", "room": "lobby", "text": "across the cluster", "ref": 1}))
        mine = await ws_expect(wa, lambda e: e.get("type") == "message" and e.get("ref") == 1, "own message on a")
        theirs = await ws_expect(wb, lambda e: e.get("type") == "message" and e.get("text") == "across the cluster",
                                 "a's message on b")
        if mine.get("id") != theirs.get("id") or theirs.get("from") != nick_a:
            fail(f"a showed {mine}, b showed {theirs}")
        ok(f"websocket a -> websocket b, id {mine['id']} on both")
        reader, writer = await asyncio.open_connection(host, tcp_b)
        await tcp_expect(reader, lambda l: l.startswith("* welcome "), "welcome on b's tcp port")
        writer.write(b"back from b over tcp\n")
        await writer.drain()
        back = await ws_expect(wa, lambda e: e.get("type") == "message" and e.get("text") == "back from b over tcp",
                               "b's tcp message on a")
        if back.get("id") != mine["id"] + 1 or back.get("via") != "tcp":
            fail(f"a got {back} after id {mine['id']}")
        ok(f"tcp b -> websocket a, id {back['id']}")
        writer.close()
    status, body = await http_get(host, http_b, "/metrics")
    if status != 200 or "chatgate_redis_up 1" not in body:
        fail(f"node b's /metrics: {status}, no chatgate_redis_up 1")
    ok("/metrics: chatgate_redis_up 1")


def main():
    mode, host, *ports = sys.argv[1:]
    ports = [int(p) for p in ports]
    if mode == "chat":
        asyncio.run(check_chat(host, *ports))
    elif mode == "shutdown":
        asyncio.run(check_shutdown(host, *ports))
    elif mode == "cluster":
        asyncio.run(check_cluster(host, *ports))
    else:
        fail(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
