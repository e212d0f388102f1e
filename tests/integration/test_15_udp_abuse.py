"""SPEC 9 over UDP: address validation with /ok, the anti-amplification
budget per source IP, --max-udp-peers, one error a second, and no loops
between chatgate servers (the loop tests forge source addresses with a raw
socket, so they need root)."""

import os
import re
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest

import chatgate_client as cc
from conftest import FAST, REPO_ROOT
from test_22_irc import irc_at  # noqa: F401 (a fixture)

CLIENT = Path(os.environ.get("CHATGATE_CLIENT_BIN", REPO_ROOT / "build" / "chatgate-client"))
ALLOWANCE = 256  # bytes a minute, per source IP
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="forging a source address needs a raw socket (root)")


class Source:
    """UDP sockets on one source IP (127.0.0.N: every test gets its own
    budget), counting the payload bytes that go out and come back."""

    def __init__(self, ip, port):
        self.ip, self.port = ip, port
        self.socks = []
        self.sent = 0

    def socket(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((self.ip, 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        s.setblocking(False)
        self.socks.append(s)
        return s

    def send(self, s, data):
        s.sendto(data, ("127.0.0.1", self.port))
        self.sent += len(data)

    def collect(self, quiet=1.0, limit=10.0):
        """Every datagram that arrives until `quiet` seconds pass without one."""
        got = []
        deadline = time.monotonic() + limit
        last = time.monotonic()
        while time.monotonic() - last < quiet and time.monotonic() < deadline:
            idle = True
            for s in self.socks:
                while True:
                    try:
                        got.append(s.recv(65536))
                        idle = False
                    except BlockingIOError:
                        break
            if idle:
                time.sleep(0.02)
            else:
                last = time.monotonic()
        return got

    def close(self):
        for s in self.socks:
            s.close()


_ips = iter(range(10, 250))


@pytest.fixture
def source():
    made = []

    def make(server):
        src = Source(f"127.0.0.{next(_ips)}", server.udp)
        made.append(src)
        return src

    yield make
    for src in made:
        src.close()


def assert_within_budget(received, sent, started):
    out = sum(len(d) for d in received)
    minutes = (time.monotonic() - started) / 60
    assert out <= 3 * sent + ALLOWANCE * (1 + minutes), (out, sent)
    return out


def fill_history(server, text_len=4000, count=100):
    ws = server.ws()
    for i in range(count):
        ws.say(f"{i:03d} " + "h" * (text_len - 4))
    ws.expect("message", text=f"{count - 1:03d} " + "h" * (text_len - 4))
    return ws


# ---------------------------------------------------------------- validation


def test_a_new_peer_learns_how_to_validate(server):
    u = server.udp_client()
    u.send(b"")
    assert cc.WELCOME_RE.match(u.read_line())
    prompt = u.read_line()
    m = cc.OK_PROMPT_RE.match(prompt)
    assert m, prompt
    assert re.fullmatch(r"[a-z2-9]{12}", m["code"])
    # A second peer gets another code.
    v = server.udp_client()
    v.hello()
    assert v.code != m["code"]


def test_ok_validates_and_replays_the_history(server):
    ws = server.ws()
    for text in ["one", "two", "three"]:
        ws.say(text)
    u = server.udp_client()
    u.hello()
    # Unvalidated: no history replay.
    with pytest.raises(cc.ReadTimeout):
        u.read_line(timeout=0.5)
    u.send(f"/ok {u.code}")
    assert u.read_line() == cc.OK_CONFIRMED
    assert [u.read_line() for _ in range(3)] == [f"[lobby] {ws.nick}: {t}" for t in ["one", "two", "three"]]
    u.send(f"/OK {u.code}")
    assert u.read_line() == "* already validated"
    m = server.metrics()
    assert m["chatgate_udp_validations_total"] == 1 and m["chatgate_udp_unvalidated_peers"] == 0


def test_wrong_code_is_an_error_and_changes_nothing(server):
    ws = server.ws()
    ws.say("history")
    u = server.udp_client()
    u.hello()
    u.send("/ok abcdefghijkm")
    assert u.read_line() == "! wrong code: send /ok with the code this server sent to your address"
    time.sleep(1.1)
    u.send("/ok")
    assert u.read_line() == "! usage: /ok CODE"
    # Still unvalidated: another client's arrival is not announced to it.
    server.text()
    with pytest.raises(cc.ReadTimeout):
        u.read_line(timeout=0.5)
    assert server.metrics()["chatgate_udp_unvalidated_peers"] == 1


def test_ok_among_other_lines_and_help_tells_how(server):
    ws = server.ws()
    ws.say("kept")
    # A UDP user who missed the prompt learns how to validate from /help:
    # the budget cuts the list short, so the prompt comes again first.
    u = server.udp_client()
    u.hello()
    u.send("/help")
    assert u.read_line() == f"* send /ok {u.code} to receive everything"
    assert u.read_line() == "* commands:"
    # /ok works among other lines of one datagram, in any case.
    u.send(f"/nick udp-user\n/OK {u.code.upper()}\n/who")
    u.expect(cc.OK_CONFIRMED)
    assert u.read_line() == f"[lobby] {ws.nick}: kept"  # the history
    assert u.expect("* udp-user (udp)")
    assert server.metrics()["chatgate_udp_validations_total"] == 1


def test_notices_only_once_validated(server):
    u = server.udp_client()
    u.hello()
    a = server.text()
    a.send("hello udp")
    # The message arrives, the join notice before it did not.
    assert u.read_line() == f"[lobby] {a.nick}: hello udp"
    u.validate()
    assert u.read_line() == f"[lobby] {a.nick}: hello udp"  # the history
    b = server.text()
    assert u.read_line() == f"* {b.nick} joined #lobby"
    b.close()
    assert u.read_line() == f"* {b.nick} left #lobby"


def test_unvalidated_peers_come_and_go_unannounced(chatgate, source):
    # A flood of throwaway source ports must not flood everyone with notices.
    server = chatgate("--max-udp-peers", "10", "--udp-idle-s", "1")
    a = server.text()
    crowd = source(server)
    for _ in range(30):
        crowd.send(crowd.socket(), b"")
    cc.wait_for(lambda: server.metrics()['chatgate_clients_dropped_total{reason="udp_evicted"}'] == 20,
                timeout=10, what="20 evictions")
    time.sleep(1.5)  # and the idle ones forgotten
    assert not [l for l in a.sync() if "joined" in l or "left" in l]


def test_unvalidated_join_gets_its_confirmation_but_no_history(server):
    ws = server.ws()
    ws.join("side")
    ws.say("old news", room="side")
    u = server.udp_client()
    u.hello()
    u.send("/join side")
    assert u.read_line() == f"* {u.nick} joined #side"
    with pytest.raises(cc.ReadTimeout):
        u.read_line(timeout=0.5)
    u.validate()
    assert u.read_line() == f"[side] {ws.nick}: old news"


# ---------------------------------------------------------------- budget


def test_empty_datagram_to_a_full_history(chatgate, source):
    server = chatgate(*FAST)
    fill_history(server)
    src = source(server)
    s = src.socket()
    started = time.monotonic()
    src.send(s, b"")
    got = src.collect()
    out = assert_within_budget(got, src.sent, started)
    lines = b"".join(got).decode().splitlines()
    # What fits is the welcome and how to validate: enough to start.
    assert cc.WELCOME_RE.match(lines[0]) and cc.OK_PROMPT_RE.match(lines[1]), lines
    assert out <= ALLOWANCE
    assert server.metrics()["chatgate_udp_budget_drops_total"] == 0  # history was never sent
    print(f"empty datagram, full history: {out} bytes out")


def test_65k_of_help_lines(chatgate, source):
    # /help answers ~12 lines for 6 bytes: the budget is what stops it.
    server = chatgate(*FAST)
    src = source(server)
    s = src.socket()
    started = time.monotonic()
    src.send(s, b"/help\n" * (65000 // 6))
    got = src.collect()
    out = assert_within_budget(got, src.sent, started)
    assert out > 2 * src.sent, "the budget should be nearly used, not starved"
    m = server.metrics()
    assert m["chatgate_udp_budget_drops_total"] > 100000
    print(f"65 KB of /help: {src.sent} bytes in, {out} out, ratio {out / src.sent:.2f}")


def test_65k_of_join_lines_in_a_full_lobby(chatgate, source):
    server = chatgate(*FAST)
    watcher = fill_history(server)
    src = source(server)
    s = src.socket()
    started = time.monotonic()
    src.send(s, b"/join x\n/join lobby\n" * (65000 // 20))
    got = src.collect()
    out = assert_within_budget(got, src.sent, started)
    assert not [d for d in got if b"hhhh" in d], "history must not be replayed to an unvalidated peer"
    print(f"65 KB of /join: {src.sent} bytes in, {out} out, ratio {out / src.sent:.2f}")
    assert server.get("/healthz")[0] == 200
    watcher.close()


def test_65k_of_short_lines_draws_one_error_a_second(server, source):
    # Default rate limit: 40 lines pass, the rest are refused; one `! ` a second.
    src = source(server)
    s = src.socket()
    started = time.monotonic()
    src.send(s, b"/who\n" * 13000)
    got = src.collect(quiet=1.5)
    assert_within_budget(got, src.sent, started)
    errors = [d for d in got if d.startswith(b"! ")]
    assert errors == [b"! slow down\n"], errors
    assert server.metrics()['chatgate_udp_dropped_total{reason="error_rate"}'] > 10000


def test_who_40_times_in_a_crowded_lobby(chatgate, source):
    # The probe: /who x40 in one datagram, each answer a line per
    # member. Unlimited it would be 40 x 41 lines for 200 bytes.
    server = chatgate(*FAST)
    crowd = [server.text() for _ in range(40)]
    for i, c in enumerate(crowd):
        c.rename(f"a-rather-long-nick-{i:02d}")
    src = source(server)
    s = src.socket()
    started = time.monotonic()
    src.send(s, b"/who\n" * 40)
    got = src.collect()
    out = assert_within_budget(got, src.sent, started)
    who_answer = 41 * len("* a-rather-long-nick-00 (tcp)\n")
    assert out < who_answer, "not even one whole /who answer fits the budget"
    assert server.metrics()["chatgate_udp_budget_drops_total"] > 40 * 40
    print(f"/who x40, 41 members: {src.sent} bytes in, {out} out, ratio {out / src.sent:.2f}")


def test_65k_of_message_lines_posts_a_burst_and_one_error(server, source):
    # The probe: 32,500 short lines in one datagram drew 32,458
    # `! slow down` datagrams. Now: the burst is posted, one error comes back.
    ws = server.ws()
    src = source(server)
    s = src.socket()
    started = time.monotonic()
    src.send(s, b"a\n" * 32500)
    got = src.collect(quiet=1.5)
    out = assert_within_budget(got, src.sent, started)
    assert [d for d in got if d.startswith(b"! ")] == [b"! slow down\n"], got
    assert out <= ALLOWANCE, got  # welcome, /ok prompt, one error
    posted = [o for o in ws.sync() if o["type"] == "message"]
    # The burst (40), and what the rate (20/s) refilled while the lines were handled.
    refilled = 20 * (time.monotonic() - started)
    assert 40 <= len(posted) <= 40 + refilled and {o["text"] for o in posted} == {"a"}, len(posted)
    print(f"65 KB of 'a' lines: {src.sent} bytes in, {out} out")


def test_many_ports_of_one_address_share_one_budget(chatgate, source):
    server = chatgate(*FAST)
    src = source(server)
    started = time.monotonic()
    for _ in range(200):
        s = src.socket()
        src.send(s, b"")
        src.send(s, b"/help")
    got = src.collect()
    out = assert_within_budget(got, src.sent, started)
    welcomes = [d for d in got if d.startswith(b"* welcome ")]
    assert 1 <= len(welcomes) < 200
    print(f"200 ports: {src.sent} bytes in, {out} out")


def test_throwaway_ports_share_one_rate(server, source):
    # Every new source port is a new peer with a fresh --burst (40): 50 ports
    # posted 2000 messages at once. Unvalidated peers together may send as
    # many lines as 10 clients (burst 400, 200/s); a TCP user still gets through.
    ws, t = server.ws(), server.text()
    src = source(server)
    started = time.monotonic()
    for _ in range(50):
        src.send(src.socket(), b"spam\n" * 40)
    cc.wait_for(lambda: server.metrics()['chatgate_udp_dropped_total{reason="unvalidated_rate"}'] > 0,
                timeout=10, what="the shared rate to refuse lines")
    t.send("still heard")
    got = [o for o in ws.sync(timeout=30) if o["type"] == "message"]
    spam = [o for o in got if o["text"] == "spam"]
    assert 400 <= len(spam) <= 400 + 200 * (time.monotonic() - started), len(spam)
    assert [o["from"] for o in got if o["text"] == "still heard"] == [t.nick]
    # Each refused peer is told, once a second at most, within its budget.
    assert [d for d in src.collect() if d.startswith(b"! ")] != []
    print(f"50 ports x 40 lines: {len(spam)} posted")


def test_validated_peer_gets_everything(chatgate, source):
    server = chatgate(*FAST)
    fill_history(server, text_len=1000)
    u = server.udp_client()
    u.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    u.hello()
    u.validate()
    history = [u.read_line() for _ in range(100)]
    assert history[0].startswith(f"[lobby] ") and history[-1].endswith("h" * 10)
    assert server.metrics()["chatgate_udp_budget_drops_total"] == 0


def test_error_replies_at_most_once_a_second(server):
    u = server.udp_client()
    u.hello()
    u.send("/nick ?a\n/nick ?b\n/nick ?c")
    assert u.read_line() == "! bad nick: ?a"
    with pytest.raises(cc.ReadTimeout):
        u.read_line(timeout=0.7)
    time.sleep(0.4)
    u.send("/nick ?d")
    assert u.read_line() == "! bad nick: ?d"


# ---------------------------------------------------------------- nicks

# One datagram with a forged source makes an unvalidated peer; its nick is a
# weak claim (docs/protocol.md, "Nicks"): whoever is validated and asks for
# it gets it, and the peer goes on as a fresh guest.

TAKEN_BACK = re.compile(r"^\* (?P<old>\S+) is now known as (?P<nick>guest-\d+)$")


def squat(server, nick):
    """What a forged datagram looks like to the server: a peer that sends
    `/nick NICK` and never reads (from an address of its own, so its budget
    is its own). Returns once the server has it."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((f"127.0.0.{next(_ips)}", 0))
    s.sendto(f"/nick {nick}".encode(), ("127.0.0.1", server.udp))
    wait_held(server, nick, "udp")
    return s


def members(server):
    ws = server.ws()
    try:
        return {m["nick"]: m["via"] for m in ws.request({"type": "who", "room": "lobby"})["members"]}
    finally:
        ws.close()


def wait_held(server, nick, via):
    cc.wait_for(lambda: members(server).get(nick) == via, timeout=10, what=f"{nick} held over {via}")


def test_a_squatted_nick_goes_to_whoever_is_validated(server):
    squatters = [squat(server, nick) for nick in ("alice", "bob", "carol")]
    watcher = server.ws()
    ws = server.ws()
    ws.rename("Alice")  # any letter case
    tcp = server.text()
    tcp.rename("bob")
    nd = server.ndjson()
    nd.rename("carol")
    # The room heard each squatter renamed to a guest.
    for old in ("alice", "bob", "carol"):
        renamed = watcher.expect("nick", old=old)
        assert re.fullmatch(r"guest-\d+", renamed["nick"]), renamed
    held = members(server)
    assert (held["Alice"], held["bob"], held["carol"]) == ("ws", "tcp", "tcp")
    assert sorted(v for n, v in held.items() if n.startswith("guest-")).count("udp") == 3
    for s in squatters:
        s.close()


def test_a_renamed_peer_goes_on_chatting_as_a_guest(server):
    u = server.udp_client()
    u.hello()
    u.send("/nick alice")
    assert u.read_line() == f"* {u.nick} is now known as alice"
    ws = server.ws()
    # A direct message to a weakly held nick reaches the peer (budget allowing).
    ws.send({"type": "say", "to": "alice", "text": "psst"})
    assert u.read_line() == f"*{ws.nick}* psst"
    ws.rename("alice")
    m = TAKEN_BACK.match(u.read_line())
    assert m and m["old"] == "alice", m
    assert u.read_line() == "! nick taken: alice (claimed by a validated client; /ok first to keep a nick)"
    u.nick = m["nick"]
    # The conversation goes on without /ok, and with it.
    u.send("still here")
    assert ws.expect("message", text="still here")["from"] == u.nick
    u.validate()
    u.send("validated now")
    got = ws.expect("message", text="validated now")
    assert (got["from"], got["via"]) == (u.nick, "udp")
    other = server.ws()
    other.send({"type": "say", "to": "alice", "text": "for the new alice"})
    assert ws.expect("message", text="for the new alice")["to"] == "alice"


def test_a_validated_peers_nick_stays_its_own(server, irc_at):
    u = server.udp_client()
    u.hello()
    u.validate()
    u.send("/nick dave")
    u.expect(f"* {u.nick} is now known as dave")
    answer = server.ws().request({"type": "nick", "nick": "Dave"})
    assert answer["type"] == "error" and answer["code"] == "nick_taken", answer
    t = server.text()
    t.send("/nick dave")
    t.expect("! nick taken: dave")
    c = irc_at(server)
    c.send("NICK dave")
    c.expect(lambda l: " 433 " in l and " dave " in l)
    assert members(server)["dave"] == "udp"


def test_unvalidated_peers_cannot_take_each_others_nick(server):
    first = squat(server, "erin")
    u = server.udp_client()
    u.hello()
    u.send("/nick ERIN")
    assert u.read_line() == "! nick taken: ERIN"
    assert members(server)["erin"] == "udp"
    first.close()


def test_irc_takes_a_squatted_nick(server, irc_at):
    squat(server, "frank")
    squat(server, "gina")
    c = irc_at(server)
    c.register("frank")  # registration
    c.send("NICK gina")  # and NICK once registered
    c.expect(":frank NICK gina")
    held = members(server)
    assert held["gina"] == "irc" and "frank" not in held


@needs_root
def test_a_forged_datagram_locks_nobody_out(server):
    """The real thing: a datagram whose source address nobody listens on."""
    raw = raw_socket()
    forge(raw, "127.0.0.99", 40000, server.udp, b"/nick hank")
    wait_held(server, "hank", "udp")
    ws = server.ws()
    ws.rename("hank")
    assert members(server)["hank"] == "ws"
    raw.close()


# ---------------------------------------------------------------- peers cap


def test_unvalidated_peers_have_their_own_cap(chatgate, source):
    server = chatgate("--max-clients", "3", "--max-udp-peers", "50")
    first = source(server)
    oldest = first.socket()
    first.send(oldest, b"")
    assert any(d.startswith(b"* welcome ") for d in first.collect(quiet=0.3))
    crowd = source(server)
    for _ in range(60):
        crowd.send(crowd.socket(), b"")
    cc.wait_for(lambda: server.metrics()['chatgate_clients_dropped_total{reason="udp_evicted"}'] == 11,
                timeout=10, what="11 evictions")
    m = server.metrics()
    assert m["chatgate_udp_unvalidated_peers"] == 50
    # TCP and WebSocket users still get in.
    t, ws, w2 = server.text(), server.ws(), server.ws()
    assert t.nick and ws.nick and w2.nick
    # The oldest peer was forgotten: its next datagram makes it new again.
    first.send(oldest, b"/nick ?x")
    again = [d for d in first.collect(quiet=0.5) if d.startswith(b"* welcome ")]
    assert again, "the oldest unvalidated peer should have been forgotten"
    # A validated peer counts: max-clients is reached with 3 others.
    u = server.udp_client()
    u.hello()
    u.send(f"/ok {u.code}")
    assert u.read_line() == "! server full"


def test_budget_table_is_bounded(chatgate):
    if os.geteuid() != 0:
        pytest.skip("needs a raw socket")
    server = chatgate("--max-udp-peers", "10")
    raw = raw_socket()
    key = 'chatgate_udp_datagrams_total{direction="in",listener="chat"}'
    for i in range(3000):
        forge(raw, f"127.1.{i // 250}.{i % 250 + 1}", 40000, server.udp, b"")
        if i % 100 == 99:
            # Let the server keep up: its socket buffer holds a few hundred.
            deadline = time.monotonic() + 3
            while server.metrics()[key] < 0.9 * (i + 1) and time.monotonic() < deadline:
                time.sleep(0.02)
    arrived = cc.wait_for(lambda: server.metrics()[key] >= 2000 and server.metrics()[key],
                          timeout=10, what="the forged datagrams to arrive")
    print(f"{arrived} source addresses")
    m = server.metrics()
    assert 0 < m["chatgate_udp_budget_sources"] <= 1024
    assert m["chatgate_udp_unvalidated_peers"] == 10
    raw.close()


# ---------------------------------------------------------------- loops


def raw_socket():
    return socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)


def forge(raw, src_ip, src_port, dst_port, payload, dst_ip="127.0.0.1"):
    """One UDP datagram with a made-up source (IP_HDRINCL)."""
    udp = struct.pack("!HHHH", src_port, dst_port, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, socket.IPPROTO_UDP, 0,
                     socket.inet_aton(src_ip), socket.inet_aton(dst_ip))
    raw.sendto(ip + udp, (dst_ip, 0))


def datagrams(server):
    m = server.metrics()
    return sum(v for k, v in m.items() if k.startswith("chatgate_udp_datagrams_total"))


@needs_root
@pytest.mark.parametrize("a_kind,b_kind", [("echo", "echo"), ("udp", "echo"), ("echo", "udp"), ("udp", "udp")])
@pytest.mark.parametrize("payload", [b"loop me", b"/who\n/help\n/nick ?"])
def test_forged_datagram_between_two_servers_stops(chatgate, a_kind, b_kind, payload):
    a = chatgate(*FAST)
    b = chatgate(*FAST)
    before = datagrams(a) + datagrams(b)
    raw = raw_socket()
    started = time.monotonic()
    forge(raw, "127.0.0.1", b.ports[b_kind], a.ports[a_kind], payload)
    raw.close()
    time.sleep(1.0)
    at_1s = datagrams(a) + datagrams(b)
    time.sleep(1.0)
    at_2s = datagrams(a) + datagrams(b)
    exchanged = at_1s - before
    assert at_2s == at_1s, f"still bouncing after {time.monotonic() - started:.1f}s: {at_1s} -> {at_2s}"
    assert 1 <= exchanged <= 100, exchanged
    print(f"{a_kind}<->{b_kind}: {exchanged} datagrams in all")


def test_an_echo_at_a_peers_address_gets_nothing_posted(server, source):
    """A peer whose address is an echo service (a forged source can make one
    of any echo): what the chat sends it comes straight back, and must not
    be taken for that peer's own lines and posted to the room."""
    ws = server.ws()
    src = source(server)
    echo = src.socket()

    def reflect(seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                echo.sendto(echo.recv(65536), ("127.0.0.1", server.udp))
            except BlockingIOError:
                time.sleep(0.01)

    src.send(echo, b"")  # the welcome and the /ok prompt come, and go back
    reflect(1.0)
    ws.say("hi there")  # reaches the unvalidated peer, and goes back too
    reflect(1.0)
    posted = [o for o in ws.sync() if o["type"] == "message" and o["from"] != ws.nick]
    assert posted == [], posted
    assert server.metrics()['chatgate_udp_dropped_total{reason="reflection"}'] == 3


@needs_root
def test_echo_never_answers_its_own_ports(server):
    raw = raw_socket()
    forge(raw, "127.0.0.1", server.udp, server.echo, b"from my own chat port")
    forge(raw, "127.0.0.1", server.echo, server.echo, b"from my own echo port")
    raw.close()
    cc.wait_for(lambda: server.metrics()['chatgate_udp_dropped_total{reason="own_port"}'] == 2,
                timeout=5, what="both forged datagrams refused")
    m = server.metrics()
    assert m['chatgate_udp_datagrams_total{direction="out",listener="echo"}'] == 0
    assert m['chatgate_udp_datagrams_total{direction="in",listener="chat"}'] == 0


@needs_root
def test_echo_never_answers_a_low_port(server):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for port in range(1023, 900, -1):
        try:
            s.bind(("127.0.0.1", port))
            break
        except OSError:
            continue
    s.settimeout(1.0)
    s.sendto(b"from a service port", ("127.0.0.1", server.echo))
    with pytest.raises(socket.timeout):
        s.recv(100)
    # The chat port does not answer it either.
    s.sendto(b"hello", ("127.0.0.1", server.udp))
    with pytest.raises(socket.timeout):
        s.recv(100)
    s.close()
    assert server.metrics()['chatgate_udp_dropped_total{reason="low_port"}'] == 2


def test_echo_stops_repeating_one_datagram(server):
    u = cc.UdpClient(server.echo)
    for _ in range(40):
        u.send(b"same")
    got = []
    with pytest.raises(cc.ReadTimeout):
        while True:
            got.append(u.read_datagram(timeout=0.5))
    assert got == [b"same"] * 16
    # Different payloads pass, and the same one again after a quiet while.
    u.send(b"other")
    assert u.read_datagram() == b"other"
    time.sleep(2.1)
    u.send(b"same")
    assert u.read_datagram() == b"same"
    u.close()


def test_echo_probe_of_1000_round_trips(server):
    if not CLIENT.exists():
        pytest.skip("chatgate-client not built")
    out = subprocess.run([str(CLIENT), "echo", "--udp", f"127.0.0.1:{server.echo}", "--count", "1000",
                          "--size", "64"], capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert b"1000 round trips of 64 bytes, 0 lost" in out.stdout, out.stdout
