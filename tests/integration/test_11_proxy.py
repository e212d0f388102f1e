"""Issue 5: behind a proxy. --trust-proxy takes the client address from
X-Forwarded-For (WebSocket upgrades) and from a PROXY v1 header (TCP chat);
without it those headers are ignored. Addresses show in the connection log."""

import re
import socket
import time

import chatgate_client as cc


def wait_for_log(server, pattern, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if re.search(pattern, server.stderr()):
            return
        time.sleep(0.05)
    raise AssertionError(f"no log line matching {pattern!r}:\n{server.stderr()}")


def test_forwarded_for_is_used_when_trusted(chatgate):
    server = chatgate("--trust-proxy")
    # The last entry is the one the proxy added; earlier ones are the client's word.
    server.ws(extra_headers={"X-Forwarded-For": "10.9.9.9, 203.0.113.9"})
    wait_for_log(server, r"ws 203\.0\.113\.9 connected")
    assert "10.9.9.9" not in server.stderr()


def test_forwarded_for_is_ignored_without_trust(chatgate):
    server = chatgate()
    server.ws(extra_headers={"X-Forwarded-For": "203.0.113.9"})
    wait_for_log(server, r"ws 127\.0\.0\.1:\d+ connected")
    assert "203.0.113.9" not in server.stderr()


def test_proxy_header_gives_the_tcp_client_address(chatgate):
    server = chatgate("--trust-proxy")
    ws = server.ws()
    c = server.text(read_welcome=False)
    c.send_raw(b"PROXY TCP4 198.51.100.7 127.0.0.1 40000 7000\r\nhello through the proxy\n")
    msg = ws.expect("message")
    # The header is not a chat line.
    assert msg["text"] == "hello through the proxy" and msg["via"] == "tcp"
    wait_for_log(server, r"tcp 127\.0\.0\.1:\d+ is 198\.51\.100\.7:40000")


def test_proxy_header_then_ndjson(chatgate):
    server = chatgate("--trust-proxy")
    c = server.text(read_welcome=False)
    c.send_raw(b'PROXY TCP6 2001:db8::7 ::1 4000 7000\r\n{"type":"rooms","ref":1}\n')
    # The text welcome may come first; then the JSON welcome, then the answer.
    lines = [c.read_line() for _ in range(4)]
    assert any('"type":"rooms"' in l and '"ref":1' in l for l in lines), lines
    wait_for_log(server, r"is \[2001:db8::7\]:4000")


def test_proxy_header_is_plain_text_without_trust(chatgate):
    server = chatgate()
    ws = server.ws()
    c = server.text(read_welcome=False)
    c.send_raw(b"PROXY TCP4 198.51.100.7 127.0.0.1 40000 7000\r\n")
    msg = ws.expect("message")
    assert msg["text"] == "PROXY TCP4 198.51.100.7 127.0.0.1 40000 7000"
    assert "198.51.100.7:40000" not in server.stderr()


def test_readyz(chatgate):
    server = chatgate()
    status, _, body = server.get("/readyz")
    assert status == 200 and b"ready" in body


# --- SPEC 9: with --trust-proxy, only a valid PROXY v1 header is served ------

V2_HEADER = (b"\r\n\r\n\x00\r\nQUIT\n" + b"\x21\x11\x00\x0c" +
             bytes([198, 51, 100, 7, 127, 0, 0, 1]) + b"\x9c\x40\x1b\x58")

BAD_FIRST_LINES = [
    b"PROXY TCP4 999.1.1.1 127.0.0.1 40000 7000\r\n",
    b"PROXY TCP4 198.51.100.7 127.0.0.1 99999 7000\r\n",
    b"PROXY TCP4 198.51.100.7 127.0.0.1 40000 65536\r\n",
    b"PROXY TCP4 2001:db8::7 ::1 4000 7000\r\n",
    b"PROXY TCP6 198.51.100.7 127.0.0.1 40000 7000\r\n",
    b"PROXY UDP4 198.51.100.7 127.0.0.1 40000 7000\r\n",
    b"PROXY TCP4 198.51.100.7 127.0.0.1 40000\r\n",
    b"PROXY UNKNOWN " + b"x" * 100 + b"\r\n",
    b"PROXY TCP4 198.51.100.7 127.0.0.1 40000 7000 " + b"y" * 5000 + b"\r\n",
    V2_HEADER,
    b"hello without a header\n",
    b'{"type":"say","room":"lobby","text":"json without a header"}\n',
]


def test_malformed_proxy_header_closes_the_connection(chatgate):
    server = chatgate("--trust-proxy")
    ws = server.ws()
    for first in BAD_FIRST_LINES:
        c = server.text(read_welcome=False)
        c.send_raw(first + b"posted anyway?\n")
        assert c.wait_closed(timeout=5), f"still open after {first[:60]!r}"
        # Nothing of it, nor what followed, reached the room.
        texts = [o.get("text", "") for o in ws.sync() if o["type"] == "message"]
        assert texts == [], (first[:60], texts)
    assert "198.51.100.7:40000" not in server.stderr()
    wait_for_log(server, r"first line is not a PROXY v1 header: \"PROXY TCP4 999\.1\.1\.1")
    # A good header still works afterwards.
    c = server.text(read_welcome=False)
    c.send_raw(b"PROXY TCP4 198.51.100.8 127.0.0.1 40000 7000\r\nfine\n")
    assert ws.expect("message")["text"] == "fine"


def test_partial_proxy_header_is_closed_after_the_line_idle_time(chatgate):
    server = chatgate("--trust-proxy")
    c = server.text(read_welcome=False)
    c.send_raw(b"PROXY TCP4 198.51.")
    assert c.wait_closed(timeout=5)


def test_silent_connection_is_closed_without_a_proxy_header(chatgate):
    server = chatgate("--trust-proxy")
    c = server.text(read_welcome=False)
    started = time.monotonic()
    assert c.wait_closed(timeout=15)
    assert time.monotonic() - started >= 4.5
    wait_for_log(server, r"not a PROXY v1 header: \"\(nothing within 5 s\)\"")


def test_proxy_header_bytes_are_escaped_in_the_log(chatgate):
    server = chatgate("--trust-proxy")
    c = server.text(read_welcome=False)
    c.send_raw(b"PROXY TCP4 \x1b[31m1.2.3.4\x07\\ 5.6.7.8 1 2\xfe\x80\r\n")
    assert c.wait_closed(timeout=5)
    wait_for_log(server, r"PROXY TCP4 \\x1b\[31m1\.2\.3\.4\\x07\\x5c 5\.6\.7\.8 1 2\\xfe\\x80\"")
    log = server.stderr_path.read_bytes()
    assert b"\x1b" not in log and b"\x07" not in log and b"\xff" not in log


def raw_upgrade(port, forwarded_for):
    """A WebSocket handshake with any bytes in X-Forwarded-For."""
    s = socket.create_connection((cc.HOST, port), timeout=cc.TIMEOUT)
    s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
              b"X-Forwarded-For: " + forwarded_for + b"\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        assert chunk, data
        data += chunk
    assert data.startswith(b"HTTP/1.1 101"), data
    return s


def test_forwarded_for_that_is_not_an_address_is_ignored(chatgate):
    server = chatgate("--trust-proxy")
    for value in ("999.1.1.1", "evil", "203.0.113.9, not-an-ip", "1.2.3.4:80", "[2001:db8::1]"):
        server.ws(extra_headers={"X-Forwarded-For": value})
        wait_for_log(server, r"X-Forwarded-For ignored, not an IP address: \"" + re.escape(value))
    connected = re.findall(r"ws (\S+) connected", server.stderr())
    assert len(connected) == 5 and all(re.fullmatch(r"127\.0\.0\.1:\d+", p) for p in connected), connected
    server.ws(extra_headers={"X-Forwarded-For": "10.0.0.1, 2001:db8::9"})
    wait_for_log(server, r"ws 2001:db8::9 connected")


def test_forwarded_for_bytes_are_escaped_in_the_log(chatgate):
    server = chatgate("--trust-proxy")
    s = raw_upgrade(server.http, b"\x1b[2J\x1b[31mred\x07 \xff\xfe")
    wait_for_log(server, r"not an IP address: \"\\x1b\[2J\\x1b\[31mred\\x07 \\xff\\xfe\"")
    s.close()
    log = server.stderr_path.read_bytes()
    assert b"\x1b" not in log and b"\x07" not in log and b"\xff" not in log
