"""SPEC 11: several chatgate nodes share one set of rooms through a real
redis-server (tests/integration/redis_server.py; skipped without one).

Nodes run with --redis-timeout-ms 2000 (a refused command is `unavailable`
within about 2 s) and --redis-ttl-ms 3000 (a dead node's nicks and presence
expire within 3 s instead of the default 12 s), so the whole file stays
well under a minute on a loaded machine.
"""

import threading
import time

import pytest

from chatgate_client import wait_for
from conftest import FAST

TIMEOUT_MS = 2000
TTL_MS = 3000


def node_flags(redis, name, *extra):
    return ("--redis", redis.url(), "--node-id", name, "--redis-timeout-ms", str(TIMEOUT_MS),
            "--redis-ttl-ms", str(TTL_MS), *FAST, *extra)


def ready(node):
    status, _, _ = node.get("/readyz")
    return status == 200


def wait_ready(*nodes, up=True, what="every node ready"):
    """Waits until every node's /readyz answers 200 (up=False: 503)."""
    wait_for(lambda: all(ready(node) == up for node in nodes), timeout=15, what=what)


@pytest.fixture
def cluster(chatgate, redis_server):
    """cluster(n=2, redis=None, extra=()) -> (redis, [nodes]), every node ready."""
    def start(n=2, redis=None, extra=()):
        redis = redis or redis_server()
        nodes = [chatgate(*node_flags(redis, f"n{i}", *extra)) for i in range(n)]
        wait_ready(*nodes)
        return redis, nodes
    return start


def messages(client, count, room="lobby", timeout=15.0):
    """The next `count` chat messages of `room` that a JSON client receives."""
    got = []
    while len(got) < count:
        obj, _ = client.recv_until(lambda o: o["type"] == "message" and o.get("room") == room,
                                   timeout)
        got.append(obj)
    return got


def ws_in(node, room, nick=None):
    """A WebSocket client on `node`, renamed to `nick` if given, in `room`."""
    ws = node.ws()
    if nick:
        ws.rename(nick)
    if room != "lobby":
        ws.join(room)
    return ws


# --------------------------------------------------------------------------
# start-up


def test_db_and_redis_together_is_a_startup_error(chatgate, tmp_path):
    import subprocess
    from conftest import BINARY
    run = subprocess.run([str(BINARY), "--db", str(tmp_path / "x.db"), "--redis", "redis://127.0.0.1:1",
                          "--http-port", "0", "--irc-port", "0"], capture_output=True, timeout=10)
    assert run.returncode == 2
    lines = run.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "--db" in lines[0] and "--redis" in lines[0], lines
    run = subprocess.run([str(BINARY), "--redis", "http://x", "--irc-port", "0"], capture_output=True,
                         timeout=10)
    assert run.returncode == 2 and "--redis" in run.stderr.decode(), run.stderr


def test_metrics_name_the_node_and_redis_state(cluster):
    _, (a, _) = cluster()
    m = a.metrics()
    assert m["chatgate_redis_up"] == 1
    status, _, body = a.get("/metrics")
    assert 'chatgate_node_info{node="n0"} 1' in body.decode()


# --------------------------------------------------------------------------
# one chat across nodes


def test_a_message_crosses_nodes_on_every_transport_with_one_id(cluster):
    _, (a, b) = cluster()
    ws_a, ws_b = a.ws(), b.ws()
    tcp_b = b.text()
    udp_b = b.udp_client()
    udp_b.hello()
    udp_b.validate()
    ws_a.sync(), ws_b.sync()

    ws_a.say("from A over ws", ref="x1")
    mine = ws_a.expect("message", text="from A over ws")
    theirs = ws_b.expect("message", text="from A over ws")
    assert mine["id"] == theirs["id"] and mine["ts"] == theirs["ts"]
    tcp_b.expect(lambda l: l.endswith("from A over ws"))
    udp_b.expect(lambda l: l.endswith("from A over ws"))

    tcp_b.send("from B over tcp")
    got_a = ws_a.expect("message", text="from B over tcp")
    got_b = ws_b.expect("message", text="from B over tcp")
    assert got_a["id"] == got_b["id"] == mine["id"] + 1
    assert got_a["via"] == "tcp"

    udp_b.send("from B over udp")
    got_a = ws_a.expect("message", text="from B over udp")
    assert got_a["id"] == mine["id"] + 2 and got_a["via"] == "udp"


def test_concurrent_senders_on_two_nodes_one_order_no_gaps(cluster):
    _, (a, b) = cluster()
    room = "race"
    receivers = [ws_in(a, room), ws_in(b, room)]
    senders = [ws_in(a, room), ws_in(b, room)]
    n = 60

    def send_all(ws, tag):
        for i in range(n):
            ws.say(f"{tag}-{i}", room=room)

    threads = [threading.Thread(target=send_all, args=(s, t)) for s, t in zip(senders, "AB")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seen = [[(m["id"], m["text"]) for m in messages(r, 2 * n, room)] for r in receivers]
    assert seen[0] == seen[1]
    ids = [i for i, _ in seen[0]]
    assert ids == list(range(ids[0], ids[0] + 2 * n))
    for tag in "AB":
        own = [t for _, t in seen[0] if t.startswith(tag)]
        assert own == [f"{tag}-{i}" for i in range(n)]  # each sender's order kept


def test_since_resumes_on_another_node(cluster):
    _, (a, b) = cluster()
    first = ws_in(a, "resume")
    for i in range(5):
        first.say(f"m{i}", room="resume")
    got = messages(first, 5, "resume")
    last_seen = got[1]["id"]
    first.close()
    again = b.ws()
    hist = again.join("resume", since=last_seen)
    assert [m["text"] for m in hist["messages"]] == ["m2", "m3", "m4"]
    assert [m["id"] for m in hist["messages"]] == [m["id"] for m in got[2:]]
    # And a plain join on the other node shows the same history.
    assert [m["id"] for m in b.ws().join("resume")["messages"]] == [m["id"] for m in got]


# --------------------------------------------------------------------------
# Redis trouble


def test_redis_killed_and_restarted(cluster, redis_server):
    redis = redis_server(extra=("--appendonly", "yes", "--appendfsync", "always"))
    _, (a, b) = cluster(redis=redis)
    ws_a, ws_b = a.ws(), b.ws()
    tcp_a = a.text()
    ws_a.say("before")
    before = ws_b.expect("message", text="before")

    redis.kill()
    wait_ready(a, up=False, what="/readyz 503")
    assert a.metrics()["chatgate_redis_up"] == 0
    start = time.monotonic()
    ws_a.say("while down", ref="down1")
    err = ws_a.expect("error", ref="down1", timeout=TIMEOUT_MS / 1000 + 5)
    assert err["code"] == "unavailable"
    tcp_a.send("text while down")
    tcp_a.expect("! unavailable, not sent", timeout=TIMEOUT_MS / 1000 + 5)
    assert time.monotonic() - start < TIMEOUT_MS / 1000 + 4
    # Clients stay connected.
    assert ws_a.request({"type": "who", "room": "lobby"})["type"] in ("who", "error")

    redis.start()
    wait_ready(a, b, what="nodes ready again")
    assert a.metrics()["chatgate_redis_up"] == 1
    ws_b.say("after")
    got = ws_a.expect("message", text="after")
    assert got["id"] == before["id"] + 1  # nothing refused took an id
    ws_b.expect("message", text="after")
    assert not [o for o in ws_b.sync() if o.get("text") in ("while down", "text while down")]


def test_redis_paused_refused_messages_never_appear(cluster):
    redis, (a, b) = cluster()
    ws_a, ws_b = a.ws(), b.ws()
    ws_a.say("first")
    first = ws_b.expect("message", text="first")

    redis.pause()
    try:
        ws_a.say("stale", ref="s1")
        err = ws_a.expect("error", ref="s1", timeout=TIMEOUT_MS / 1000 + 5)
        assert err["code"] == "unavailable"
        wait_ready(a, up=False, what="/readyz 503 while paused")
    finally:
        redis.resume()
    wait_ready(a, b, what="nodes ready again")
    ws_a.say("fresh")
    fresh = ws_b.expect("message", text="fresh")
    assert fresh["id"] == first["id"] + 1
    later = ws_b.sync() + ws_a.sync()
    assert not [o for o in later if o.get("text") == "stale"]
    hist = b.ws().join("lobby")["messages"]
    assert "stale" not in [m["text"] for m in hist]


def test_subscription_killed_backfills_in_order_once(cluster):
    redis, (a, b) = cluster()
    ws_a, ws_b = a.ws(), b.ws()
    ws_a.sync(), ws_b.sync()
    n = 40
    redis.command("CLIENT", "KILL", "TYPE", "pubsub")
    for i in range(n):
        ws_b.say(f"k{i}")
    got = messages(ws_a, n)
    assert [m["text"] for m in got] == [f"k{i}" for i in range(n)]
    ids = [m["id"] for m in got]
    assert ids == list(range(ids[0], ids[0] + n))
    assert not [o for o in ws_a.sync() if o["type"] == "message"]
    wait_for(lambda: a.metrics()["chatgate_redis_resyncs_total"] >= 1, what="a resync counted")


# --------------------------------------------------------------------------
# nicks, presence, events and direct messages across nodes


def test_guest_nicks_differ_across_nodes(cluster):
    _, (a, b) = cluster()
    nicks = [n.ws().nick for n in (a, b, a, b)]
    assert len(set(n.lower() for n in nicks)) == 4, nicks


def test_a_nick_is_unique_across_nodes_and_the_race_has_one_winner(cluster):
    _, (a, b) = cluster()
    x, y = a.ws(), b.ws()
    x.rename("alice")
    answer = y.request({"type": "nick", "nick": "ALICE"})
    assert answer["type"] == "error" and answer["code"] == "nick_taken", answer
    # Two nodes ask for the same free nick at once: exactly one gets it.
    for i in range(5):
        nick = f"racer{i}"
        refs = ["ra%d" % i, "rb%d" % i]
        x.send({"type": "nick", "nick": nick, "ref": refs[0]})
        y.send({"type": "nick", "nick": nick, "ref": refs[1]})
        answers = [c.recv_until(lambda o, r=r: o.get("ref") == r)[0] for c, r in zip((x, y), refs)]
        assert sorted(o["type"] for o in answers) == ["error", "nick"], answers
        loser = answers[0] if answers[0]["type"] == "error" else answers[1]
        assert loser["code"] == "nick_taken", loser
    # A released nick is free on the other node.
    x.rename("alice2")
    y.rename("alice")


def test_who_rooms_and_events_span_nodes(cluster):
    _, (a, b) = cluster()
    x = ws_in(a, "hall", nick="xena")
    y = ws_in(b, "hall", nick="yuri")
    got = x.expect("joined", room="hall", nick="yuri")
    assert got["via"] == "ws"
    who = x.request({"type": "who", "room": "hall"})
    assert sorted(m["nick"] for m in who["members"]) == ["xena", "yuri"], who
    rooms = {r["room"]: r for r in y.request({"type": "rooms"})["rooms"]}
    assert rooms["hall"]["members"] == 2 and "lobby" in rooms
    # nick and topic changes reach the other node
    y.rename("yves")
    x.expect("nick", old="yuri", nick="yves")
    x.request({"type": "topic", "room": "hall", "topic": "cluster talk"})
    t = y.expect("topic", room="hall")
    assert t["topic"] == "cluster talk" and t["by"] == "xena"
    # and a text client on a third node sees the topic on join
    tcp = b.text()
    tcp.send("/join hall")
    tcp.expect(lambda l: "cluster talk" in l)
    y.send({"type": "leave", "room": "hall"})
    x.expect("left", room="hall", nick="yves")


def test_direct_messages_cross_nodes(cluster):
    _, (a, b) = cluster()
    x = a.ws()
    x.rename("sender")
    tcp = b.text()
    tcp.rename("Receiver")
    x.send({"type": "say", "to": "receiver", "text": "psst", "ref": "dm1"})
    ack = x.recv_until(lambda o: o.get("ref") == "dm1")[0]
    assert ack["type"] == "message" and ack["to"] == "Receiver" and "room" not in ack, ack
    tcp.expect("*sender* psst")
    tcp.send("/msg sender hi back")
    got = x.expect("message", text="hi back")
    assert got["to"] == "sender" and got["from"] == "Receiver"
    err = x.request({"type": "say", "to": "nobody", "text": "x"})
    assert err["type"] == "error" and err["code"] == "no_such_nick"


def test_a_squatted_nick_is_weak_on_every_node(cluster):
    """SPEC 9 in a cluster: an unvalidated UDP peer's nick (one forged
    datagram makes one) is a weak claim in Redis too: a validated client on
    another node takes it, the peer's node renames it to a guest; once the
    peer validates, its claim is as strong as anyone's."""
    import socket
    redis, (a, b) = cluster()
    watcher = a.ws()
    squatter = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    squatter.bind(("127.0.0.2", 0))  # its own budget (SPEC 9 counts per source IP)
    squatter.sendto(b"/nick alice", ("127.0.0.1", a.udp))
    wait_for(lambda: (redis.command("GET", "chatgate:nick:alice") or "") == "n0\talice\t*",
             what="the squatter's claim in Redis")
    # A direct message to it from another node names it as spelled.
    y = b.ws()
    y.send({"type": "say", "to": "alice", "text": "hello squatter", "ref": "dm"})
    ack = y.recv_until(lambda o: o.get("ref") == "dm")[0]
    assert ack["type"] == "message" and ack["to"] == "alice", ack
    # An unvalidated peer on the other node cannot take it either.
    u = b.udp_client()
    u.hello()
    u.send("/nick alice")
    assert u.read_line() == "! nick taken: alice"
    # A validated client on the other node does.
    y.rename("alice")
    renamed = watcher.expect("nick", old="alice")
    assert renamed["nick"].startswith("guest-"), renamed
    assert redis.command("GET", "chatgate:nick:alice") == "n1\talice"
    who = {m["nick"]: m["via"] for m in watcher.request({"type": "who", "room": "lobby"})["members"]}
    assert who["alice"] == "ws"
    # Unvalidated peers are in nobody's presence, renamed or not.
    assert "udp" not in who.values(), who
    # A peer that validates makes its claim strong: nobody on the other
    # node takes it, then or after the heartbeat refreshed it.
    u.send("/nick bob")
    u.expect(f"* {u.nick} is now known as bob")
    u.validate()
    wait_for(lambda: redis.command("GET", "chatgate:nick:bob") == "n1\tbob", what="a strong claim")
    answer = watcher.request({"type": "nick", "nick": "BOB"})
    assert answer["type"] == "error" and answer["code"] == "nick_taken", answer
    time.sleep(TTL_MS / 1000 + 0.5)
    answer = watcher.request({"type": "nick", "nick": "bob"})
    assert answer["type"] == "error" and answer["code"] == "nick_taken", answer
    # On one node: the validated client takes the claim over, and an
    # unvalidated peer asking for it then leaves it strong.
    squatter.sendto(b"/nick dora", ("127.0.0.1", a.udp))
    wait_for(lambda: redis.command("GET", "chatgate:nick:dora") == "n0\tdora\t*", what="a weak claim")
    watcher.rename("dora")
    assert redis.command("GET", "chatgate:nick:dora") == "n0\tdora"
    v = a.udp_client()
    v.hello()
    v.send("/nick DORA")
    assert v.read_line() == "! nick taken: DORA"
    assert redis.command("GET", "chatgate:nick:dora") == "n0\tdora"
    answer = y.request({"type": "nick", "nick": "dora"})
    assert answer["type"] == "error" and answer["code"] == "nick_taken", answer
    squatter.close()


def test_a_killed_node_frees_its_nicks_and_presence(cluster):
    import signal
    _, (a, b) = cluster()
    doomed = ws_in(a, "nest", nick="phoenix")
    watcher = ws_in(b, "nest")
    assert "phoenix" in [m["nick"] for m in watcher.request({"type": "who", "room": "nest"})["members"]]
    a.proc.send_signal(signal.SIGKILL)
    a.proc.wait(5)
    a.returncode = 0  # killed on purpose: the teardown must not count it
    killed_at = time.monotonic()
    taker = b.ws()

    def free():
        answer = taker.request({"type": "nick", "nick": "phoenix"})
        return answer["type"] == "nick"
    wait_for(free, timeout=15, what="the dead node's nick freed")
    assert time.monotonic() - killed_at < 15
    members = [m["nick"] for m in watcher.request({"type": "who", "room": "nest"})["members"]]
    assert members.count("phoenix") <= 1 and len(members) == 1, members


def test_joining_during_traffic_gets_history_then_live_once(cluster):
    _, (a, b) = cluster()
    sender = ws_in(a, "busy")
    n = 80
    stop = threading.Event()

    def talk():
        for i in range(n):
            sender.say(f"t{i}", room="busy")
            time.sleep(0.005)
        stop.set()

    t = threading.Thread(target=talk)
    t.start()
    time.sleep(0.05)
    joiners = []
    for node in (b, a, b):
        ws = node.ws()
        hist = ws.join("busy")
        joiners.append((ws, [m["id"] for m in hist["messages"]]))
    t.join()
    for ws, ids in joiners:
        live = []
        while True:
            try:
                obj, _ = ws.recv_until(lambda o: o["type"] == "message", timeout=3)
            except AssertionError:
                break
            live.append(obj["id"])
            if obj["text"] == f"t{n - 1}":
                break
        seen = ids + live
        assert seen == list(range(seen[0], seen[0] + len(seen))), (ids, live)
        assert seen[-1] - seen[0] + 1 == len(seen)


def test_password_and_db_number(chatgate, redis_server):
    redis = redis_server(password="s3cret")
    nodes = [chatgate(*node_flags(redis, f"p{i}")[2:], "--redis", redis.url(db=3)) for i in range(2)]
    wait_ready(*nodes, what="nodes ready with AUTH and SELECT")
    x, y = nodes[0].ws(), nodes[1].ws()
    x.say("secret hello")
    y.expect("message", text="secret hello")
    # The room's keys are in db 3, not in db 0.
    in_db3 = "redis.call('SELECT', 3) return redis.call('EXISTS', KEYS[1])"
    assert redis.command("EVAL", in_db3, "1", "chatgate:{lobby}:id") == 1
    assert redis.command("EXISTS", "chatgate:{lobby}:id") == 0


def test_a_node_subscribes_only_to_rooms_with_local_members(cluster):
    redis, (a, _) = cluster()
    ws = ws_in(a, "brief")
    channel = "chatgate:{brief}:ch"
    assert redis.command("PUBSUB", "NUMSUB", channel)[1] == 1
    ws.send({"type": "leave", "room": "brief"})
    wait_for(lambda: redis.command("PUBSUB", "NUMSUB", channel)[1] == 0, what="the room unsubscribed")


def irc_client(node):
    from test_22_irc import Irc
    return Irc(node.irc, timeout=10)


def irc_refused(c, nick, numeric="433"):
    """Registers with `nick` and expects `numeric` for it (433: in use)."""
    c.send(f"NICK {nick}")
    c.send(f"USER {nick} 0 * :{nick}")
    line = c.expect(lambda l: f" {numeric} " in l or " 001 " in l)
    assert f" {numeric} * {nick} :" in line, line


def test_a_tokens_nick_stays_reserved_on_every_node(cluster):
    """SPEC 13 in a cluster: a nick a token proved on one node is refused
    without its token on every node (kept in Redis), even after the owner left."""
    from test_18_tls_auth import SECRET, token
    redis, (a, b) = cluster(extra=("--auth-secret", SECRET))
    owner = a.ws(path="/ws?token=" + token("keeper"))
    assert owner.nick == "keeper"
    assert redis.command("EXISTS", "chatgate:reserved:keeper") == 1
    owner.close()
    other = b.ws()

    def refused():
        answer = other.request({"type": "nick", "nick": "Keeper"})
        return answer["type"] == "error" and answer["code"] == "nick_taken"
    # Refused from the start, then still once the owner's claim expired (TTL).
    assert refused()
    time.sleep(TTL_MS / 1000 + 0.5)
    assert refused()
    # IRC registration on the other node too.
    irc_refused(irc_client(b), "KEEPER")
    # The token itself gets it on either node.
    assert b.ws(path="/ws?token=" + token("keeper")).nick == "keeper"


def test_irc_registration_checks_the_nick_on_every_node(cluster):
    redis, (a, b) = cluster()
    x = a.ws()
    x.rename("ircnick")
    c = irc_client(b)
    irc_refused(c, "IRCNICK")
    # A free one registers, and is then taken cluster-wide.
    c.send("NICK ircfree")
    c.expect(lambda l: " 001 ircfree " in l)
    answer = x.request({"type": "nick", "nick": "IRCFREE"})
    assert answer["type"] == "error" and answer["code"] == "nick_taken", answer
    # Still taken after the claim's TTL: the heartbeat refreshed it.
    time.sleep(TTL_MS / 1000 + 0.5)
    answer = x.request({"type": "nick", "nick": "IRCFREE"})
    assert answer["type"] == "error" and answer["code"] == "nick_taken", answer
    # Without Redis a registration is refused as temporarily unavailable
    # (437), the connection stays, and works once Redis is back.
    redis.kill()
    wait_for(lambda: not ready(b), what="/readyz 503")
    late = irc_client(b)
    irc_refused(late, "latecomer", "437")
    redis.start()
    wait_for(lambda: ready(b), timeout=15, what="the node ready again")
    late.send("NICK latecomer")
    late.expect(lambda l: " 001 latecomer " in l)


def test_a_deaf_subscription_is_caught_by_its_probe_and_backfilled(chatgate, redis_server):
    """A subscription whose TCP connection stays open but hears nothing (a
    stuck proxy; redis_server.RedisProxy swallows what Redis sends on it):
    the node's probe through its own channel goes unanswered, the node drops
    the connection, resubscribes and backfills what it missed, in order, once."""
    from redis_server import RedisProxy
    redis = redis_server()
    proxy = RedisProxy(redis)
    try:
        a = chatgate(*node_flags(redis, "deaf")[2:], "--redis", proxy.url())
        b = chatgate(*node_flags(redis, "loud"))
        for node in (a, b):
            wait_for(lambda: ready(node), what="a node ready")
        ws_a, ws_b = a.ws(), b.ws()
        ws_a.sync(), ws_b.sync()
        ws_b.say("before")
        before = ws_a.expect("message", text="before")
        resyncs = a.metrics()["chatgate_redis_resyncs_total"]
        deaf = proxy.deafen("chatgate:deaf:subscriber")
        assert len(deaf) == 1
        n = 20
        for i in range(n):
            ws_b.say(f"d{i}")
        got = messages(ws_a, n, timeout=20)
        assert [m["text"] for m in got] == [f"d{i}" for i in range(n)]
        assert [m["id"] for m in got] == list(range(before["id"] + 1, before["id"] + 1 + n))
        assert deaf[0]["closed_by_client"], "the node dropped the deaf connection itself"
        wait_for(lambda: a.metrics()["chatgate_redis_resyncs_total"] > resyncs, what="a resync counted")
        assert not [o for o in ws_a.sync() if o["type"] == "message"]
        ws_b.say("after")
        assert ws_a.expect("message", text="after")["id"] == before["id"] + n + 1
    finally:
        proxy.close()
