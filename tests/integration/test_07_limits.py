"""SPEC 7: every input and queue is capped, and the cap says so."""

import json
import re
import socket
import time

import pytest
import websockets.exceptions

import chatgate_client as cc
from conftest import FAST


def message_lines(lines):
    return [l for l in lines if l.startswith("[")]


# ---------------------------------------------------------------- message size


@pytest.mark.parametrize("text", ["x" * 4096, "é" * 2048, "😀" * 1024])
def test_text_at_the_limit_is_delivered(server, text):
    a, b = server.text(), server.text()
    a.send(text)
    assert b.expect(re.compile(r"^\[")) == f"[lobby] {a.nick}: {text}"


@pytest.mark.parametrize("text", ["x" * 4097, "é" * 2048 + "x", "x" * 20000])
def test_text_over_the_limit_is_refused(server, text):
    a, b = server.text(), server.text()
    a.send(text)
    assert a.expect(re.compile(r"^!")) == "! message too long"
    a.send("still here")
    line, skipped = b.read_until(re.compile(r"^\["))
    assert line == f"[lobby] {a.nick}: still here", skipped


@pytest.mark.parametrize("text", ["x" * 4096, "é" * 2048])
def test_json_at_the_limit_is_delivered(server, text):
    ws = server.ws()
    ws.say(text)
    assert ws.expect("message")["text"] == text


@pytest.mark.parametrize("text", ["x" * 4097, "é" * 2048 + "x"])
def test_json_over_the_limit_is_too_long(server, text):
    ws = server.ws()
    answer = ws.request({"type": "say", "room": "lobby", "text": text})
    assert answer["type"] == "error" and answer["code"] == "too_long"
    assert isinstance(answer["message"], str) and answer["message"]
    ws.say("still here")
    assert ws.expect("message")["text"] == "still here"


def test_size_is_counted_as_received_before_repair(server):
    a, ws = server.text(), server.ws()
    # 4096 invalid bytes are 4096 bytes received, however long the repair is.
    # (Not 0xFF: on the TCP port that is telnet's IAC, and IAC IAC one byte.)
    a.send_raw(b"\x80" * 4096 + b"\n")
    text = ws.expect("message")["text"]
    assert text and set(text) == {"\ufffd"}
    a.send_raw(b"\x80" * 4097 + b"\n")
    assert a.expect(re.compile(r"^!")) == "! message too long"


def test_udp_over_the_limit_is_refused(server):
    ws = server.ws()
    u = server.udp_client()
    u.hello()
    u.send("x" * 4097)
    assert u.expect(re.compile(r"^!")) == "! message too long"
    u.send("x" * 4096)
    assert ws.expect("message")["text"] == "x" * 4096


def test_max_message_bytes_flag(chatgate):
    server = chatgate("--max-message-bytes", "10")
    a, b, ws = server.text(), server.text(), server.ws()
    n = server.ndjson()
    a.send("0123456789")
    assert ws.expect("message")["text"] == "0123456789"
    a.send("0123456789a")
    assert a.expect(re.compile(r"^!")) == "! message too long"
    assert ws.request({"type": "say", "room": "lobby", "text": "0123456789"})["type"] == "message"
    assert ws.request({"type": "say", "room": "lobby", "text": "0123456789a"})["code"] == "too_long"
    assert n.request({"type": "say", "room": "lobby", "text": "0123456789"})["type"] == "message"
    assert n.request({"type": "say", "room": "lobby", "text": "0123456789a"})["code"] == "too_long"
    texts = [l for l in b.sync() if l.startswith("[")]
    assert texts == [f"[lobby] {a.nick}: 0123456789", f"[lobby] {ws.nick}: 0123456789",
                     f"[lobby] {n.nick}: 0123456789"]


def test_two_megabyte_line_keeps_memory_bounded(server):
    a, b = server.text(), server.text()
    a.expect(f"* {b.nick} joined #lobby")
    rss_before, hwm_before = server.rss_kb(), server.hwm_kb()
    # No newline: the 250 ms idle ends the line.
    a.send_raw(b"x" * (2 * 1024 * 1024))
    assert a.expect(re.compile(r"^!"), timeout=20) == "! message too long"
    # Anything sent before the line's 250 ms idle is still part of it.
    time.sleep(0.8)
    a.send("after the flood")
    line, skipped = b.read_until(re.compile(r"^\["), timeout=20)
    assert line == f"[lobby] {a.nick}: after the flood", [s[:80] for s in skipped]
    rss_after, hwm_after = server.rss_kb(), server.hwm_kb()
    # A line buffered whole would add 2 MiB or more to the peak.
    assert hwm_after - hwm_before < 1024, (hwm_before, hwm_after)
    assert rss_after - rss_before < 1024, (rss_before, rss_after)


# ---------------------------------------------------------------- frame size


def say_frame(size):
    """A say request whose JSON encoding is exactly size bytes."""
    empty = json.dumps({"type": "say", "room": "lobby", "text": ""})
    frame = json.dumps({"type": "say", "room": "lobby", "text": "f" * (size - len(empty))})
    assert len(frame) == size
    return frame


def close_code_after_sending(ws, frame):
    """Send a frame the server should refuse; returns the close code."""
    try:
        ws.send_text(frame)
    except websockets.exceptions.ConnectionClosed:
        pass  # the server closed while the frame was still going out
    return ws.wait_closed()


def test_frame_at_the_limit_is_accepted(chatgate):
    server = chatgate("--max-frame-bytes", "1000")
    ws = server.ws()
    frame = say_frame(1000)
    ws.send_text(frame)
    assert ws.expect("message")["text"] == json.loads(frame)["text"]


def test_frame_over_the_limit_closes_1009(chatgate):
    server = chatgate("--max-frame-bytes", "1000")
    ws = server.ws()
    assert close_code_after_sending(ws, say_frame(1001)) == 1009
    assert server.ws().welcome["type"] == "welcome"


def test_default_frame_limit_is_64k(chatgate):
    server = chatgate("--max-message-bytes", "70000")
    ok = server.ws()
    ok.send_text(say_frame(65536))
    assert ok.expect("message")["text"].startswith("fff")
    big = server.ws()
    assert close_code_after_sending(big, say_frame(65537)) == 1009


def test_huge_frame_closes_1009(server):
    ws = server.ws()
    hwm_before = server.hwm_kb()
    assert close_code_after_sending(ws, say_frame(2 * 1024 * 1024)) == 1009
    assert server.hwm_kb() - hwm_before < 4096


# ---------------------------------------------------------------- rate


def flood_text(client, count, prefix="flood"):
    client.send_raw(b"".join(f"{prefix} {i}\n".encode() for i in range(count)))


def delivered_indexes(lines, nick, prefix="flood"):
    pat = re.compile(rf"^\[lobby\] {re.escape(nick)}: {prefix} (\d+)$")
    return [int(m[1]) for m in map(pat.match, lines) if m]


def test_text_rate_limit_default(server):
    a, b = server.text(), server.text()
    flood_text(a, 60)
    time.sleep(1.0)  # let the bucket refill so the marker below gets through
    a.send("done")
    _, lines = b.read_until(f"[lobby] {a.nick}: done")
    got = delivered_indexes(lines, a.nick)
    # Burst of 40, plus what 20/s refills while the flood is handled.
    assert 40 <= len(got) < 60, got
    assert got[:40] == list(range(40)) and got == sorted(got)
    assert "! slow down" in a.sync()


def test_json_rate_limit_default(server):
    ws, peer = server.ws(), server.ws()
    refs = [f"f{i}" for i in range(60)]
    ws.send_many([{"type": "say", "room": "lobby", "text": ref, "ref": ref} for ref in refs])
    time.sleep(1.0)
    answers = [o for o in ws.sync() if o.get("ref") in refs]
    delivered = [o for o in answers if o["type"] == "message"]
    errors = [o for o in answers if o["type"] == "error"]
    assert 40 <= len(delivered) < 60
    assert errors and all(e["code"] == "rate_limited" for e in errors)
    assert [m["id"] for m in delivered] == list(range(1, len(delivered) + 1))
    peer_got = [o["text"] for o in peer.sync() if o["type"] == "message"]
    assert peer_got == [m["text"] for m in delivered]


def test_rate_limit_is_per_client(server):
    a, b, ws = server.text(), server.text(), server.ws()
    flood_text(a, 60)
    assert a.expect(lambda l: l.startswith("!")) == "! slow down"
    b.send("i am not flooding")
    msg = ws.recv_until(lambda o: o["type"] == "message" and o["from"] == b.nick)[0]
    assert msg["text"] == "i am not flooding"


def test_rate_and_burst_flags(chatgate):
    server = chatgate("--rate", "2", "--burst", "5")
    a, b = server.text(), server.text()
    flood_text(a, 12)
    time.sleep(1.6)
    a.send("done")
    _, lines = b.read_until(f"[lobby] {a.nick}: done")
    got = delivered_indexes(lines, a.nick)
    assert 5 <= len(got) <= 7, got
    assert got[:5] == [0, 1, 2, 3, 4]
    time.sleep(1.6)
    assert "! slow down" in a.sync()


def test_commands_count_toward_the_rate(chatgate):
    server = chatgate("--rate", "1", "--burst", "3")
    a = server.text()
    a.send_raw(b"/who\n" * 6)
    time.sleep(2.2)
    assert "! slow down" in a.sync()


def test_every_json_request_counts_toward_the_rate(chatgate):
    server = chatgate("--rate", "1", "--burst", "3")
    ws = server.ws()
    ws.send_many([{"type": "rooms", "ref": i} for i in range(6)])
    answers = [ws.recv_until(lambda o, i=i: o.get("ref") == i)[0] for i in range(6)]
    assert [a["type"] for a in answers[:3]] == ["rooms"] * 3
    assert "rate_limited" in [a.get("code") for a in answers[3:]]


def test_every_line_of_a_datagram_counts_toward_the_rate(server):
    ws = server.ws()
    u = server.udp_client()
    u.hello()
    time.sleep(1.0)  # the hello used two tokens; let them come back
    u.send("\n".join(f"flood {i}" for i in range(60)))
    assert u.expect(lambda l: l.startswith("!")) == "! slow down"
    time.sleep(1.0)
    got = [o["text"] for o in ws.sync() if o["type"] == "message"]
    assert 40 <= len(got) < 60 and got[:40] == [f"flood {i}" for i in range(40)]


def test_raised_limits_let_a_flood_through(fast_server):
    a, b = fast_server.text(), fast_server.text()
    flood_text(a, 300)
    a.send("done")
    _, lines = b.read_until(f"[lobby] {a.nick}: done")
    assert delivered_indexes(lines, a.nick) == list(range(300))
    assert "! slow down" not in a.sync()


# ---------------------------------------------------------------- slow consumers


def raw_ws_never_reading(port, rcvbuf):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              b"Sec-WebSocket-Version: 13\r\n\r\n")
    return s


class Flood:
    """A sender floods the lobby while a reader that never reads sits in it.

    The flood is paced by the healthy readers (a WebSocket and a TCP client):
    each batch is sent once both have received the previous one, so only the
    client that never reads can fall behind.
    """

    BATCH = 10
    PAD = "p" * 3000
    SIZE = len("[lobby] guest-NN: load 00000 \n") + 3000  # bytes per text line

    def __init__(self, server, slow_kind, slow=None):
        self.observer = server.ws()
        if slow is not None:
            self.slow = slow  # made by the caller (IRC over TLS: test_22)
        elif slow_kind == "tcp":
            self.slow = socket.socket()
            self.slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            self.slow.connect(("127.0.0.1", server.tcp))
        elif slow_kind == "irc":
            # An IRC client registers, then never reads (SPEC 14: its output
            # counts toward --max-queue-bytes).
            self.slow = socket.socket()
            self.slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            self.slow.connect(("127.0.0.1", server.irc))
            self.slow.sendall(b"NICK slowirc\r\nUSER slowirc 0 * :slow\r\n")
        else:
            self.slow = raw_ws_never_reading(server.http, 4096)
        self.slow_nick = self.observer.expect("joined")["nick"]
        self.watcher = server.text()
        self.sender = server.text()
        self.observer.expect("joined", nick=self.sender.nick)
        self.watcher.expect(f"* {self.sender.nick} joined #lobby")
        self.sent = 0
        self.events = []        # everything the WebSocket observer got
        self.lines = []         # everything the TCP watcher got
        self.dropped_after = None  # messages sent when the drop was seen

    def text(self, i):
        return f"load {i:05d} {self.PAD}"

    def batch(self):
        first, self.sent = self.sent, self.sent + self.BATCH
        self.sender.send_raw(b"".join(
            self.text(i).encode() + b"\n" for i in range(first, self.sent)))
        last = self.text(self.sent - 1)
        while True:
            obj = self.observer.recv(timeout=30)
            self.events.append(obj)
            if obj["type"] == "left" and obj["nick"] == self.slow_nick:
                self.dropped_after = self.dropped_after or self.sent
            if obj["type"] == "message" and obj["text"] == last:
                break
        while True:
            self.lines.append(self.watcher.read_line(timeout=30))
            if self.lines[-1].endswith(last):
                break

    def run(self, at_most, after_drop=0, grace_s=0):
        """Floods up to at_most messages; with grace_s, goes on (for at most
        that long) until the client that never reads is dropped: a full queue
        sheds messages, and the drop comes once its socket has taken nothing
        for 2 s (docs/architecture.md, "Queues and limits")."""
        deadline = None
        while True:
            if self.sent >= at_most:
                deadline = deadline or time.monotonic() + grace_s
                if self.dropped_after or time.monotonic() > deadline:
                    break
            self.batch()
            if self.dropped_after and self.sent >= self.dropped_after + after_drop:
                break

    def check_healthy_readers_got_everything(self):
        msgs = [o for o in self.events if o["type"] == "message"]
        assert [m["id"] for m in msgs] == list(range(1, self.sent + 1))
        assert [m["text"] for m in msgs] == [self.text(i) for i in range(self.sent)]
        loads = [l for l in self.lines if l.startswith("[lobby]")]
        assert loads == [f"[lobby] {self.sender.nick}: {self.text(i)}" for i in range(self.sent)]


@pytest.mark.parametrize("slow_kind", ["tcp", "ws", "irc"])
def test_client_that_never_reads_is_dropped(chatgate, slow_kind):
    server = chatgate(*FAST, "--max-queue-bytes", "65536")
    flood = Flood(server, slow_kind)
    flood.run(at_most=4000, after_drop=100, grace_s=20)
    assert flood.dropped_after, "the client that never reads was not dropped"
    # At least 64 KiB had to be produced for it.
    assert flood.dropped_after * flood.SIZE > 65536
    flood.check_healthy_readers_got_everything()
    left = [o for o in flood.events if o["type"] == "left"]
    assert left == [{"type": "left", "room": "lobby", "nick": flood.slow_nick,
                     "via": slow_kind}]
    flood.slow.settimeout(10)
    try:
        while flood.slow.recv(65536):
            pass
    except ConnectionResetError:
        pass
    metrics = server.metrics()
    assert metrics.get('chatgate_clients_dropped_total{reason="slow_consumer"}', 0) == 1, metrics


def test_default_queue_limit_is_one_mebibyte(chatgate):
    server = chatgate(*FAST)
    flood = Flood(server, "tcp")
    flood.run(at_most=6000, after_drop=50, grace_s=20)
    assert flood.dropped_after, "the client that never reads was not dropped"
    assert flood.dropped_after * flood.SIZE > 1024 * 1024
    flood.check_healthy_readers_got_everything()


def test_large_queue_limit_keeps_a_slow_client(chatgate):
    server = chatgate(*FAST, "--max-queue-bytes", str(256 * 1024 * 1024))
    flood = Flood(server, "tcp")
    # Past the point where the default 1 MiB limit drops it (plus what the
    # kernel's socket buffers absorb, about 3 MB on loopback).
    flood.run(at_most=2000)
    assert not flood.dropped_after
    flood.check_healthy_readers_got_everything()
    assert {"nick": flood.slow_nick, "via": "tcp"} in flood.observer.request(
        {"type": "who", "room": "lobby"})["members"]


# ---------------------------------------------------------------- max clients


def test_max_clients(chatgate):
    server = chatgate("--max-clients", "3")
    a, b, ws = server.text(), server.text(), server.ws()
    refused = cc.TextClient(server.tcp, read_welcome=False)
    assert refused.read_line() == "! server full"
    assert refused.wait_closed()
    refused.close()
    with pytest.raises(websockets.exceptions.InvalidStatusCode) as info:
        cc.WsClient(server.http)
    assert info.value.status_code == 503
    status, _, body = cc.http_get(server.http, "/ws", headers={
        "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert status == 503 and body.strip(), "a refusal should say why"
    # A slot frees up when someone leaves.
    a.close()
    ws.expect("left", nick=a.nick)

    def try_connect():
        c = cc.TextClient(server.tcp, read_welcome=False)
        line = c.read_line()
        if cc.WELCOME_RE.match(line):
            return c
        assert line == "! server full"
        c.close()
    c = cc.wait_for(try_connect, timeout=5, interval=0.1, what="a free slot")
    server.clients.append(c)
    b.expect(re.compile(r"^\* guest-\d+ joined #lobby$"))
