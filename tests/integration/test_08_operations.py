"""SPEC 8 and 1: health, metrics, shutdown on a signal."""

import json
import re
import signal
import socket

import chatgate_client as cc


def test_healthz(server):
    status, headers, body = server.get("/healthz")
    assert status == 200
    assert json.loads(body) == {"status": "ok"}


def test_metrics_format_and_names(server):
    status, headers, body = server.get("/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain")
    text = body.decode()
    values = cc.parse_metrics(text)
    assert values and all(name.startswith("chatgate_") for name in values), list(values)[:20]
    for family in ["chatgate_clients", "chatgate_messages_received_total",
                   "chatgate_messages_delivered_total", "chatgate_rooms",
                   "chatgate_clients_dropped_total"]:
        assert re.search(rf"^# TYPE {family} (gauge|counter)$", text, re.M) or \
            any(k.split("{")[0] == family for k in values), f"{family} missing:\n{text}"


def test_metrics_count_clients_by_transport(server):
    ws, t1, t2 = server.ws(), server.text(), server.text()
    n = server.ndjson()
    u = server.udp_client()
    u.hello()
    m = server.metrics()
    assert m['chatgate_clients{transport="ws"}'] == 1
    assert m['chatgate_clients{transport="tcp"}'] == 3
    assert m['chatgate_clients{transport="udp"}'] == 1
    t1.close()
    ws.expect("left", nick=t1.nick)
    cc.wait_for(lambda: server.metrics()['chatgate_clients{transport="tcp"}'] == 2,
                timeout=5, what="the tcp gauge to drop to 2")


def test_metrics_count_messages_and_rooms(server):
    ws, t = server.ws(), server.text()
    u = server.udp_client()
    u.hello()
    before = server.metrics()
    for i in range(3):
        ws.say(f"w{i}")
    t.send("from tcp")
    t.send("from tcp 2")
    u.send("from udp")
    for text in ["w0", "w1", "w2", "from tcp", "from tcp 2", "from udp"]:
        ws.expect("message", text=text)
    ws.join("extra-room")
    after = server.metrics()

    def delta(name):
        return after.get(name, 0) - before.get(name, 0)

    assert delta('chatgate_messages_received_total{transport="ws"}') >= 3
    assert delta('chatgate_messages_received_total{transport="tcp"}') >= 2
    assert delta('chatgate_messages_received_total{transport="udp"}') >= 1
    # 6 messages, each to the ws client (its own ack included): ws gets 6;
    # the tcp client gets the 4 it did not send, the udp peer the 5 it did not.
    assert delta('chatgate_messages_delivered_total{transport="ws"}') >= 6
    assert delta('chatgate_messages_delivered_total{transport="tcp"}') >= 4
    assert delta('chatgate_messages_delivered_total{transport="udp"}') >= 5
    assert after["chatgate_rooms"] == before["chatgate_rooms"] + 1


def test_sigterm_with_every_kind_of_client(chatgate):
    server = chatgate()
    t = server.text()
    u = server.udp_client()
    u.hello()
    n = server.ndjson()
    ws = server.ws()
    rc, elapsed = server.stop(signal.SIGTERM)
    assert rc == 0, server.stderr()[-2000:]
    assert elapsed <= 2.5
    line, _ = t.read_until(lambda l: l.startswith("* server"))
    assert line == "* server shutting down"
    assert t.wait_closed(timeout=5)
    assert u.expect(lambda l: l.startswith("* server")) == "* server shutting down"
    # Decision: NDJSON clients get a bye object.
    assert n.expect("bye") == {"type": "bye", "message": "server shutting down"}
    assert n.wait_closed(timeout=5)
    assert ws.wait_closed() == 1001


def test_sigint_exits_cleanly(chatgate):
    server = chatgate()
    t, ws = server.text(), server.ws()
    rc, elapsed = server.stop(signal.SIGINT)
    assert rc == 0 and elapsed <= 2.5
    assert t.expect(lambda l: l.startswith("* server")) == "* server shutting down"
    assert ws.wait_closed() == 1001


def test_shutdown_with_a_client_that_never_reads(chatgate):
    # Flush must not wait forever for a client whose buffers are full.
    server = chatgate("--rate", "100000", "--burst", "100000")
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect(("127.0.0.1", server.tcp))
    t = server.text()
    t.send_raw(b"".join(b"fill %05d %s\n" % (i, b"z" * 200) for i in range(1500)))
    t.sync()
    rc, elapsed = server.stop(signal.SIGTERM)
    assert rc == 0 and elapsed <= 2.5
    slow.close()
