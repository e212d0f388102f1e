"""SPEC 8 and 1: health, metrics, shutdown on a signal."""

import json
import re
import signal
import socket
import subprocess
import time

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


# --------------------------------------------------------------------------
# SPEC 9, drain: --shutdown-delay-s N keeps serving for N seconds after
# SIGTERM with /readyz at 503, then shuts down as SPEC 1 says.


def wait_exit(server, limit):
    """Waits for the process to end; returns its exit status (None: still running)."""
    try:
        server.returncode = server.proc.wait(limit)
    except subprocess.TimeoutExpired:
        return None
    return server.returncode


def test_readyz_is_200_while_running(server):
    status, _, body = server.get("/readyz")
    assert status == 200 and json.loads(body) == {"status": "ready"}


def test_shutdown_delay_keeps_serving_with_readyz_503(chatgate):
    delay = 6  # room for the checks below on a loaded machine
    server = chatgate("--shutdown-delay-s", str(delay))
    t, ws = server.text(), server.ws()
    start = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    # A load balancer sees 503 at once...
    cc.wait_for(lambda: server.get("/readyz")[0] == 503, timeout=5, what="/readyz 503")
    # ...while everything else goes on: liveness, chat both ways, newcomers.
    assert server.get("/healthz")[0] == 200
    t.send("still here")
    assert ws.expect("message", text="still here")["from"] == t.nick
    ws.say("me too")
    assert t.expect(f"[lobby] {ws.nick}: me too")
    late_ws, late_tcp = server.ws(), server.text()
    late_tcp.send("newcomer")
    assert late_ws.expect("message", text="newcomer")["via"] == "tcp"
    assert time.monotonic() - start < delay, "the checks took longer than the delay"
    assert server.get("/readyz")[0] == 503
    assert server.proc.poll() is None
    # Then the usual shutdown: every client told, exit 0 within 2 s of its start.
    rc = wait_exit(server, delay + cc.TIMEOUT)
    elapsed = time.monotonic() - start
    assert rc == 0, server.stderr()[-2000:]
    assert delay - 0.2 <= elapsed <= delay + 2.5, elapsed
    assert t.expect("* server shutting down")
    assert ws.wait_closed() == 1001
    assert late_ws.wait_closed() == 1001


def test_a_second_signal_during_the_delay_shuts_down_at_once(chatgate):
    server = chatgate("--shutdown-delay-s", "60")
    t = server.text()
    server.proc.send_signal(signal.SIGTERM)
    cc.wait_for(lambda: server.get("/readyz")[0] == 503, timeout=5, what="/readyz 503")
    t.send("/who")
    assert t.expect(f"* {t.nick} (tcp)")  # still served
    start = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    rc = wait_exit(server, 2.5)
    assert rc == 0, (rc, server.stderr()[-2000:])
    assert time.monotonic() - start <= 2.5
    assert t.expect("* server shutting down")


def test_sigint_does_not_wait_for_the_delay(chatgate):
    # Decision: the delay is for SIGTERM (orchestrators); Ctrl-C at a
    # terminal means now.
    server = chatgate("--shutdown-delay-s", "60")
    t = server.text()
    start = time.monotonic()
    server.proc.send_signal(signal.SIGINT)
    rc = wait_exit(server, 2.5)
    assert rc == 0, (rc, server.stderr()[-2000:])
    assert time.monotonic() - start <= 2.5
    assert t.expect("* server shutting down")


def test_shutdown_delay_from_the_environment(chatgate):
    server = chatgate(env={"CHATGATE_SHUTDOWN_DELAY_S": "60"})
    server.proc.send_signal(signal.SIGTERM)
    cc.wait_for(lambda: server.get("/readyz")[0] == 503, timeout=5, what="/readyz 503")
    assert server.get("/healthz")[0] == 200
    assert server.proc.poll() is None
    server.proc.send_signal(signal.SIGTERM)
    assert wait_exit(server, 2.5) == 0


def test_without_a_delay_sigterm_stops_at_once(chatgate):
    server = chatgate()
    t = server.text()
    rc, elapsed = server.stop(signal.SIGTERM)
    assert rc == 0 and elapsed <= 2.5
    assert t.expect("* server shutting down")


# --------------------------------------------------------------------------
# --web-root: files only, never a folder, never outside the root.


def raw_get(port, target):
    """GET with the target sent as is (http.client would normalise it)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=cc.TIMEOUT)
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_web_root_serves_files_but_not_folders(chatgate, tmp_path):
    root = tmp_path / "www"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "index.html").write_text("<p>home</p>")
    (root / "sub" / "page.txt").write_text("in a folder")
    (tmp_path / "secret.txt").write_text("outside the root")
    server = chatgate("--web-root", str(root))
    assert raw_get(server.http, "/") == (200, b"<p>home</p>")
    assert raw_get(server.http, "/sub/page.txt") == (200, b"in a folder")
    for folder in ("/sub", "/sub/", "/sub/deeper", "/sub/deeper/"):
        status, body = raw_get(server.http, folder)
        assert status == 404, (folder, status, body)
    for escape in ("/../secret.txt", "/sub/../../secret.txt", "/..", "/sub/..",
                   "/%2e%2e/secret.txt", "/..%2fsecret.txt"):
        status, body = raw_get(server.http, escape)
        assert status == 404 and b"outside" not in body, (escape, status, body)
    assert server.get("/healthz")[0] == 200
