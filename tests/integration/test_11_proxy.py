"""Issue 5: behind a proxy. --trust-proxy takes the client address from
X-Forwarded-For (WebSocket upgrades) and from a PROXY v1 header (TCP chat);
without it those headers are ignored. Addresses show in the connection log."""

import re
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
