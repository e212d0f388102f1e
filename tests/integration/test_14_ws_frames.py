"""WebSocket framing at the byte level (RFC 6455), with a raw socket client:
what a browser never sends, but a broken or hostile client might."""
import base64
import json
import os
import socket
import struct
import time

TIMEOUT = 10


def frame(opcode, payload, fin=True, mask=True):
    """One client frame, masked unless told otherwise."""
    header = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    bit = 0x80 if mask else 0
    if n < 126:
        header += bytes([bit | n])
    elif n < 65536:
        header += bytes([bit | 126]) + struct.pack("!H", n)
    else:
        header += bytes([bit | 127]) + struct.pack("!Q", n)
    if mask:
        key = os.urandom(4)
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        header += key
    return header + payload


class RawWs:
    """A WebSocket client that writes frames byte by byte as told."""

    def __init__(self, port, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        if rcvbuf:  # before connecting, so the window starts small
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            assert chunk, "closed during the handshake"
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def send_frame(self, opcode, payload, fin=True, mask=True):
        self.sock.sendall(frame(opcode, payload, fin, mask))

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_frame(self):
        """(opcode, payload) of the next frame from the server."""
        b0, b1 = self._read(2)
        assert b1 & 0x80 == 0, "server frames are not masked"
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read(8))[0]
        return b0 & 0x0F, self._read(n)

    def read_json(self, type_):
        """The next JSON event of this type, skipping others."""
        while True:
            op, payload = self.read_frame()
            assert op == 1, (op, payload)
            event = json.loads(payload)
            if event["type"] == type_:
                return event

    def close_code(self):
        """Reads until the server's close frame; returns its status code."""
        while True:
            op, payload = self.read_frame()
            if op == 8:
                return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None

    def at_eof(self):
        try:
            while True:
                self._read(1)
        except (EOFError, ConnectionResetError):
            return True


def say(text, ref=None):
    body = {"type": "say", "room": "lobby", "text": text}
    if ref is not None:
        body["ref"] = ref
    return json.dumps(body).encode()


def test_fragmented_message_is_reassembled(server):
    ws = RawWs(server.http)
    ws.read_json("welcome")
    whole = say("in three parts", ref=1)
    ws.send_frame(0x1, whole[:10], fin=False)
    ws.send_frame(0x9, b"between fragments")  # a ping may come between them
    ws.send_frame(0x0, whole[10:20], fin=False)
    ws.send_frame(0x0, whole[20:], fin=True)
    pongs, event = [], None
    while event is None:
        op, payload = ws.read_frame()
        if op == 0xA:
            pongs.append(payload)
        elif json.loads(payload)["type"] == "message":
            event = json.loads(payload)
    assert event["text"] == "in three parts" and event["ref"] == 1
    assert pongs == [b"between fragments"]


def test_ping_gets_a_pong_with_its_payload(server):
    ws = RawWs(server.http)
    ws.read_json("history")
    ws.send_frame(0x9, b"are you there")
    assert ws.read_frame() == (0xA, b"are you there")


def test_client_close_is_answered_with_its_code(server):
    ws = RawWs(server.http)
    ws.read_json("history")
    ws.send_frame(0x8, struct.pack("!H", 1000) + b"bye now")
    assert ws.close_code() == 1000
    assert ws.at_eof()


def test_unmasked_frame_closes_1002(server):
    ws = RawWs(server.http)
    ws.read_json("history")
    ws.send_frame(0x1, say("not masked"), mask=False)
    assert ws.close_code() == 1002
    assert ws.at_eof()


def test_invalid_utf8_closes_1007(server):
    ws = RawWs(server.http)
    ws.read_json("history")
    ws.send_frame(0x1, b'{"type":"say","room":"lobby","text":"\xff\xfe"}')
    assert ws.close_code() == 1007


def test_reserved_opcode_closes_1002(server):
    ws = RawWs(server.http)
    ws.read_json("history")
    ws.send_frame(0x3, b"?")
    assert ws.close_code() == 1002


def test_others_keep_chatting_after_a_protocol_error(server):
    alice = RawWs(server.http)
    alice.read_json("history")
    bob = RawWs(server.http)
    bob.read_json("history")
    bob.send_frame(0x1, b"x", mask=False)
    assert bob.close_code() == 1002
    alice.send_frame(0x1, say("still here", ref="a"))
    event = alice.read_json("message")
    assert event["text"] == "still here" and event["ref"] == "a"


def test_frames_split_across_reads(server):
    ws = RawWs(server.http)
    ws.read_json("history")
    whole = frame(0x1, say("byte by byte", ref=7))
    ws.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(len(whole)):
        ws.sock.send(whole[i:i + 1])
    event = ws.read_json("message")
    assert event["text"] == "byte by byte" and event["ref"] == 7


def test_pings_count_toward_the_queue_of_a_client_that_never_reads(chatgate):
    server = chatgate("--max-queue-bytes", "65536")
    other = RawWs(server.http)
    other.read_json("history")
    pinger = RawWs(server.http, rcvbuf=4096)
    burst = frame(0x9, b"p" * 125) * 1000  # 131 KB of pings, 127 KB of pongs
    dropped = 'chatgate_clients_dropped_total{reason="slow_consumer"}'
    # The kernel's socket buffers take a few MB of pongs first; then the
    # 64 KiB queue fills, pongs are shed, and a client whose socket takes
    # nothing for 2 s is dropped. Ping on (bounded) until it is.
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline:
            for _ in range(10):
                pinger.sock.sendall(burst)
            if server.metrics().get(dropped, 0) == 1:
                break
    except (BrokenPipeError, ConnectionResetError):
        pass
    metrics = server.metrics()
    assert metrics.get(dropped, 0) == 1, metrics
    other.send_frame(0x1, say("still served", ref="o"))
    assert other.read_json("message")["text"] == "still served"


def handshake(port, version_line):
    """Sends a WebSocket upgrade request; returns the status line and headers."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n{version_line}\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    sock.close()
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return head[0], headers


def test_a_handshake_without_a_version_is_refused_with_426(server):
    # RFC 6455 4.2.2: a version the server does not speak gets an error status
    # and the versions it does speak; not 500, and no waiting for hybi00 bytes.
    status, headers = handshake(server.http, "")
    assert status.startswith("HTTP/1.1 426"), status
    assert headers.get("sec-websocket-version") == "13", headers


def test_a_handshake_with_an_unknown_version_gets_a_4xx(server):
    status, _ = handshake(server.http, "Sec-WebSocket-Version: 99\r\n")
    assert status.split()[1].startswith("4"), status
    status, _ = handshake(server.http, "Sec-WebSocket-Version: x\r\n")
    assert status.split()[1].startswith("4"), status


def test_a_handshake_with_version_13_still_opens(server):
    status, _ = handshake(server.http, "Sec-WebSocket-Version: 13\r\n")
    assert status.startswith("HTTP/1.1 101"), status
    ws = RawWs(server.http)
    ws.sock.close()
    assert server.get("/healthz")[0] == 200
