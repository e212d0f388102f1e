"""SPEC 5: RFC 862 echo over TCP and UDP, watched from room echo."""

import socket
import subprocess
import threading

import pytest

import chatgate_client as cc


def echo_tcp(server):
    s = socket.create_connection(("127.0.0.1", server.echo), timeout=10)
    return s


def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def test_tcp_echo_returns_bytes_as_they_arrive(server):
    s = echo_tcp(server)
    s.sendall(b"no newline yet")
    assert recv_exactly(s, 14) == b"no newline yet"
    s.sendall(b" and more\r\n")
    assert recv_exactly(s, 11) == b" and more\r\n"
    s.close()


def test_tcp_echo_is_binary_safe(server):
    s = echo_tcp(server)
    payload = bytes(range(256)) * 4
    s.sendall(payload)
    assert recv_exactly(s, len(payload)) == payload
    s.close()


def test_tcp_echo_large_stream(server):
    s = echo_tcp(server)
    payload = bytes((i * 7 + i // 251) & 0xFF for i in range(512 * 1024))
    sender = threading.Thread(target=s.sendall, args=(payload,))
    sender.start()
    got = recv_exactly(s, len(payload))
    sender.join()
    assert got == payload
    s.close()


def test_nc_echo_round_trip(server):
    # `printf ... | nc -q 2 HOST ECHO_PORT`: everything comes back before close.
    payload = b"line one\nline two\n\x00\xffno newline"
    out = subprocess.run(["nc", "-q", "2", "127.0.0.1", str(server.echo)], input=payload,
                         capture_output=True, timeout=20).stdout
    assert out == payload


def test_udp_echo_returns_each_datagram(server):
    u = cc.UdpClient(server.echo)
    for payload in [b"hello", bytes(range(256)), b"\x00" * 10, "é😀".encode()]:
        u.send(payload)
        assert u.read_datagram() == payload
    u.close()


def test_tcp_echo_traffic_is_posted_to_room_echo(server):
    ws = server.ws()
    ws.join("echo")
    s = echo_tcp(server)
    s.sendall(b"ping from echo\n")
    assert recv_exactly(s, 15) == b"ping from echo\n"
    msg = ws.expect("message", room="echo")
    # Decision: from is the echo client's IP:PORT.
    assert msg["from"] == "%s:%d" % s.getsockname()
    assert msg["via"] == "echo" and msg["text"] == "ping from echo"
    assert isinstance(msg["id"], int) and isinstance(msg["ts"], int)
    s.close()


def test_udp_echo_traffic_is_posted_to_room_echo(server):
    ws = server.ws()
    ws.join("echo")
    u = cc.UdpClient(server.echo)
    u.send(b"udp ping")
    assert u.read_datagram() == b"udp ping"
    msg = ws.expect("message", room="echo")
    assert msg["from"] == u.address and msg["via"] == "echo" and msg["text"] == "udp ping"
    u.close()


def test_echo_posts_are_repaired_and_cleaned(server):
    ws = server.ws()
    ws.join("echo")
    u = cc.UdpClient(server.echo)
    u.send(b"bin\x00\x01ary \xff\xfe\tok\r\n")
    assert u.read_datagram() == b"bin\x00\x01ary \xff\xfe\tok\r\n"
    text = ws.expect("message", room="echo")["text"]
    assert text.startswith("binary \ufffd") and text.endswith("\tok"), repr(text)
    assert all(ch == "\t" or ch >= " " for ch in text)
    u.close()


def test_empty_chunk_is_not_posted(server):
    ws = server.ws()
    ws.join("echo")
    u = cc.UdpClient(server.echo)
    u.send(b"\x00\x01\r\n")
    assert u.read_datagram() == b"\x00\x01\r\n"
    u.send(b"visible")
    assert u.read_datagram() == b"visible"
    # Decision: an empty chunk (after removing control characters) is not posted.
    assert ws.expect("message", room="echo")["text"] == "visible"
    u.close()


def test_text_clients_in_room_echo_see_it(server):
    t = server.text()
    t.send("/join echo")
    t.sync()
    u = cc.UdpClient(server.echo)
    u.send(b"seen by nc")
    u.read_datagram()
    assert t.expect(lambda l: l.startswith("[echo]")) == f"[echo] {u.address}: seen by nc"
    u.close()


def test_echo_room_flag(chatgate):
    server = chatgate("--echo-room", "watch")
    ws = server.ws()
    ws.join("watch")
    u = cc.UdpClient(server.echo)
    u.send(b"to watch")
    u.read_datagram()
    assert ws.expect("message", room="watch")["text"] == "to watch"
    u.close()


def test_empty_echo_room_switches_posting_off(chatgate):
    server = chatgate("--echo-room", "")
    ws = server.ws()
    ws.join("echo")
    u = cc.UdpClient(server.echo)
    s = echo_tcp(server)
    for i in range(2):
        u.send(b"unposted")
        assert u.read_datagram() == b"unposted"
        s.sendall(b"unposted too\n")
        assert recv_exactly(s, 13) == b"unposted too\n"
    ws.say("only me", room="echo")
    msg = ws.expect("message", room="echo")
    assert msg["text"] == "only me" and msg["via"] == "ws"
    assert msg["id"] == 1
    s.close()
    u.close()


def test_echo_clients_are_not_chat_clients(server):
    s = echo_tcp(server)
    s.sendall(b"x")
    assert recv_exactly(s, 1) == b"x"
    ws = server.ws()
    who = ws.request({"type": "who", "room": "lobby"})
    assert who["members"] == [{"nick": ws.nick, "via": "ws"}]
    ws.say("chat must not leak into an echo stream")
    ws.expect("message")
    s.sendall(b"abc")
    assert recv_exactly(s, 3) == b"abc"
    s.settimeout(0.3)
    with pytest.raises(socket.timeout):
        s.recv(100)
    s.close()


def test_each_line_of_a_chunk_is_its_own_message(server):
    # SPEC 9: `printf 'ping\nhello\n' | nc HOST 7007` shows two messages.
    ws = server.ws()
    ws.join("echo")
    out = subprocess.run(["nc", "-q", "2", "127.0.0.1", str(server.echo)], input=b"ping\nhello\n",
                         capture_output=True, timeout=20).stdout
    assert out == b"ping\nhello\n"
    assert [ws.expect("message", room="echo")["text"] for _ in range(2)] == ["ping", "hello"]
    u = cc.UdpClient(server.echo)
    u.send(b"one\r\ntwo\n\nthree")
    assert u.read_datagram() == b"one\r\ntwo\n\nthree"
    assert [ws.expect("message", room="echo")["text"] for _ in range(3)] == ["one", "two", "three"]
    u.close()


def test_echo_connections_have_their_own_cap_and_never_fill_the_chat(chatgate):
    # Decision (docs/protocol.md, Echo): TCP echo connections do not count
    # toward --max-clients; they have a cap of their own of the same number.
    server = chatgate("--max-clients", "2")
    echoes = []
    for i in range(2):
        e = socket.create_connection(("127.0.0.1", server.echo), timeout=10)
        e.sendall(b"ping%d" % i)
        assert e.recv(16) == b"ping%d" % i
        echoes.append(e)
    # Echo is full: the next echo connection is closed without a word.
    extra = socket.create_connection(("127.0.0.1", server.echo), timeout=10)
    try:
        extra.sendall(b"hello?")
        assert extra.recv(16) == b""
    except ConnectionResetError:
        pass
    extra.close()
    # Chat is not: two chat clients still get in, the third is refused.
    a, ws = server.text(), server.ws()
    assert a.room == "lobby" and ws.welcome["rooms"] == ["lobby"]
    refused = cc.TextClient(server.tcp, read_welcome=False)
    assert refused.read_line() == "! server full"
    refused.close()
    for e in echoes:
        e.close()
