"""IRC (SPEC 14): raw-socket numerics and limits, chat with the other
transports, and Debian's python3-irc as a client nobody here wrote."""

import socket
import time

import pytest

import chatgate_client as cc

T = 10  # seconds; tolerant of a loaded machine


class Irc(cc.LineSocket, cc.TextLines):
    """A raw IRC connection: send lines, read CRLF lines."""

    def send(self, line):
        self.send_raw(line.encode() + b"\r\n")

    def read_line(self, timeout=None):
        line = self.read_line_bytes(timeout).decode("utf-8")
        assert line.endswith("\r"), f"IRC lines end with CRLF: {line!r}"
        return line[:-1]

    def register(self, nick, caps=None):
        if caps:
            self.send("CAP LS 302")
            self.expect(lambda l: " CAP * LS " in l)
            self.send("CAP REQ :" + " ".join(caps))
            self.expect(lambda l: " CAP * ACK " in l)
            self.send("CAP END")
        self.send(f"NICK {nick}")
        self.send(f"USER {nick} 0 * :{nick} real")
        before = self.read_until(lambda l: " 376 " in l or " 422 " in l)[1]
        self.sync()
        return before

    def sync(self):
        """Everything before the answer to a PING marker."""
        marker = cc.new_ref("s")
        self.send(f"PING {marker}")
        return self.read_until(lambda l: l.endswith(f"PONG chatgate {marker}"))[1]


@pytest.fixture
def irc_at():
    made = []

    def connect(srv):
        c = Irc(srv.irc, timeout=T)
        made.append(c)
        return c
    yield connect
    for c in made:
        c.close()


@pytest.fixture
def irc(server, irc_at):
    return lambda: irc_at(server)


def test_ports_file_names_irc(server):
    assert isinstance(server.irc, int) and server.irc > 0


def test_registration_welcome_and_lobby(irc):
    c = irc()
    c.send("NICK alice")
    c.send("USER alice 0 * :Alice")
    lines = c.read_until(lambda l: " 376 " in l)[1]
    text = "\n".join(lines)
    for n in ("001", "002", "003", "004", "005"):
        assert f":chatgate {n} alice " in text
    assert "CHANTYPES=#" in text and "NICKLEN=24" in text and "CHANNELLEN=33" in text
    assert "CASEMAPPING=ascii" in text
    # The welcome says which nick characters work.
    assert "A-Z a-z 0-9 _ -" in text
    c.expect(":alice!irc@chatgate JOIN #lobby")
    c.expect(lambda l: " 353 alice = #lobby :" in l and "alice" in l.split(":")[-1])
    c.expect(":chatgate 366 alice #lobby :End of /NAMES list")


def test_commands_before_registration_get_451(irc):
    c = irc()
    c.send("JOIN #x")
    assert c.expect(lambda l: " 451 " in l) == ":chatgate 451 * :You have not registered"


def test_bad_nick_432_and_nick_in_use_433(irc):
    a = irc()
    a.send("NICK bad[nick]")
    line = a.expect(lambda l: " 432 " in l)
    assert "bad[nick]" in line and "A-Z a-z 0-9 _ -" in line
    a.send("NICK")
    a.expect(lambda l: " 431 " in l)
    a.register("taken1")
    b = irc()
    b.send("NICK TAKEN1")  # nicks are unique case-insensitively
    b.expect(":chatgate 433 * TAKEN1 :Nickname is already in use")
    b.send("NICK free1")
    b.send("USER free1 0 * :x")
    b.expect(lambda l: l.startswith(":chatgate 001 free1 "))


def test_long_line_417_and_unknown_421(irc):
    c = irc()
    c.register("longy")
    c.send("PRIVMSG #lobby :" + "x" * 600)
    c.expect(":chatgate 417 longy :Input line was too long")
    c.send("FROBNICATE a b")
    c.expect(":chatgate 421 longy FROBNICATE :Unknown command")
    # Still usable after both.
    c.sync()


def test_tags_limit_and_unregistered_flood(irc):
    c = irc()
    c.register("taggy")
    # 8191 bytes of tags are allowed in front of a 512-byte line...
    c.send("@k=" + "v" * 8000 + " PING tagged")
    c.expect(lambda l: l.endswith("PONG chatgate tagged"))
    # ...more are not.
    c.send("@k=" + "v" * 8200 + " PING x")
    c.expect(":chatgate 417 taggy :Input line was too long")
    c.sync()
    # A client that never registers is closed after 64 lines.
    d = irc()
    for _ in range(70):
        d.send("FOO")
    assert d.expect(lambda l: l.startswith("ERROR ")) == \
        "ERROR :Closing link: too many lines before registration"
    assert d.wait_closed(T)


def test_chat_with_websocket_tcp_and_udp(server, irc):
    ws = server.ws()
    tcp = server.text()
    udp = server.udp_client()
    udp.hello()
    c = irc()
    c.register("ircy")
    # IRC -> everyone, via "irc".
    c.send("PRIVMSG #lobby :hello from irc")
    m = ws.expect("message")
    assert (m["from"], m["via"], m["text"]) == ("ircy", "irc", "hello from irc")
    tcp.expect("[lobby] ircy: hello from irc")
    udp.expect("[lobby] ircy: hello from irc")
    # Without echo-message the sender does not get its own line back.
    assert not any("hello from irc" in l for l in c.sync())
    # Everyone -> IRC, as nick!via@chatgate.
    ws.send({"type": "say", "room": "lobby", "text": "from the browser"})
    c.expect(f":{ws.nick}!ws@chatgate PRIVMSG #lobby :from the browser")
    tcp.send("from a terminal")
    c.expect(f":{tcp.nick}!tcp@chatgate PRIVMSG #lobby :from a terminal")
    udp.send("/me waves")
    c.expect(f":{udp.nick}!udp@chatgate PRIVMSG #lobby :\x01ACTION waves\x01")
    c.send("PRIVMSG #lobby :\x01ACTION dances\x01")
    tcp.expect("[lobby] * ircy dances")


def test_join_history_topic_part_and_server_time(server, irc):
    ws = server.ws()
    ws.send({"type": "join", "room": "den"})
    ws.expect("joined")
    ws.send({"type": "topic", "room": "den", "topic": "den talk"})
    ws.expect("topic")
    ws.send({"type": "say", "room": "den", "text": "earlier"})
    ws.expect("message")
    c = irc()
    c.register("histy", caps=["server-time", "message-tags"])
    c.send("JOIN #den,#Other")
    c.expect(":histy!irc@chatgate JOIN #den")
    c.expect(":chatgate 332 histy #den :den talk")
    c.expect(lambda l: l.startswith(f":chatgate 333 histy #den {ws.nick} "))
    line = c.expect(lambda l: "PRIVMSG #den :earlier" in l)
    assert line.startswith("@time=20") and line.split(" ")[0].endswith("Z")
    c.expect(lambda l: " 353 histy = #den :" in l and ws.nick in l and "histy" in l)
    c.expect(":chatgate 366 histy #den :End of /NAMES list")
    c.expect(":histy!irc@chatgate JOIN #other")
    j = ws.expect("joined", nick="histy", room="den")
    assert j["via"] == "irc"
    # TOPIC set from IRC reaches the WebSocket user.
    c.send("TOPIC #den :new topic")
    t = ws.expect("topic")
    assert (t["topic"], t["by"]) == ("new topic", "histy")
    c.expect(":histy TOPIC #den :new topic")
    c.send("PART #den")
    c.expect(":histy!irc@chatgate PART #den")
    assert ws.expect("left")["nick"] == "histy"
    c.send("PRIVMSG #den :still here?")
    c.expect(":chatgate 442 histy #den :You're not on that channel")
    c.send("JOIN nohash")
    c.expect(lambda l: " 403 histy nohash " in l)


def test_dm_nick_who_whois_list_mode(server, irc):
    ws = server.ws()
    c = irc()
    c.register("dmer", caps=["echo-message"])
    c.send(f"PRIVMSG {ws.nick} :psst")
    m = ws.expect("message")
    assert (m["from"], m["to"], m["via"], m["text"]) == ("dmer", ws.nick, "irc", "psst")
    # echo-message: the sender gets its own line back.
    c.expect(f":dmer!irc@chatgate PRIVMSG {ws.nick} :psst")
    ws.send({"type": "say", "to": "dmer", "text": "back at you"})
    c.expect(f":{ws.nick}!ws@chatgate PRIVMSG dmer :back at you")
    c.send("PRIVMSG nobody :x")
    c.expect(":chatgate 401 dmer nobody :No such nick/channel")
    c.send("PRIVMSG")
    c.expect(lambda l: " 411 dmer " in l)
    c.send("PRIVMSG #lobby")
    c.expect(":chatgate 412 dmer :No text to send")
    c.send("NICK dmer2")
    c.expect(":dmer NICK dmer2")
    assert ws.expect("nick")["nick"] == "dmer2"
    c.send(f"NICK {ws.nick}")
    c.expect(f":chatgate 433 dmer2 {ws.nick} :Nickname is already in use")
    c.send("WHO #lobby")
    c.expect(lambda l: l.startswith(f":chatgate 352 dmer2 #lobby ws chatgate chatgate {ws.nick} H :0 "))
    c.expect(":chatgate 315 dmer2 #lobby :End of /WHO list")
    c.send(f"WHOIS {ws.nick}")
    c.expect(f":chatgate 311 dmer2 {ws.nick} ws chatgate * :{ws.nick}")
    c.expect(f":chatgate 318 dmer2 {ws.nick} :End of /WHOIS list")
    c.send("LIST")
    c.expect(lambda l: " 321 dmer2 " in l)
    c.expect(lambda l: l.startswith(":chatgate 322 dmer2 #lobby 2"))
    c.expect(":chatgate 323 dmer2 :End of /LIST")
    c.send("MODE #lobby")
    c.expect(":chatgate 324 dmer2 #lobby :+n")
    c.send("MODE #lobby +o dmer2")
    c.expect(lambda l: " 482 dmer2 #lobby " in l)
    c.send("MODE dmer2")
    c.expect(":chatgate 221 dmer2 :+")
    c.send("MODE dmer2 +i")
    c.expect(lambda l: " 501 dmer2 " in l)
    c.send("AWAY :lunch")
    c.expect(lambda l: " 306 dmer2 " in l)
    c.send("AWAY")
    c.expect(lambda l: " 305 dmer2 " in l)
    c.send("USER a b c d")
    c.expect(lambda l: " 462 dmer2 " in l)
    c.send("JOIN")
    c.expect(":chatgate 461 dmer2 JOIN :Not enough parameters")
    c.send("QUIT :bye")
    c.expect(lambda l: l.startswith("ERROR :Closing link"))
    assert c.wait_closed(T)
    assert ws.expect("left")["nick"] == "dmer2"


def test_ping_timeout(chatgate, irc_at):
    server = chatgate("--irc-ping-s", "1")

    def irc():
        return irc_at(server)
    c = irc()
    c.register("sleepy")
    c.expect("PING chatgate", timeout=T)
    start = time.monotonic()
    c.expect("ERROR :Closing link: ping timeout", timeout=T)
    assert time.monotonic() - start >= 0.5
    assert c.wait_closed(T)
    # A client that answers stays.
    d = irc()
    d.register("awake")
    for _ in range(3):
        d.expect("PING chatgate", timeout=T)
        d.send("PONG chatgate")
    d.sync()


def test_irc_counts_toward_max_clients(chatgate, irc_at):
    server = chatgate("--max-clients", "1")

    def irc():
        return irc_at(server)
    tcp = server.text()
    c = irc()
    # Refused at accept (or at registration when it filled up meanwhile).
    try:
        c.send("NICK full1")
        c.send("USER full1 0 * :x")
    except OSError:
        pass
    assert c.expect(lambda l: l.startswith("ERROR ")) == "ERROR :Closing link: server full"
    assert c.wait_closed(T)
    assert tcp.nick


def test_irc_lines_count_toward_rate_limit(chatgate, irc_at):
    server = chatgate("--rate", "1", "--burst", "2")

    def irc():
        return irc_at(server)
    c = irc()
    c.register("spammy")
    for i in range(6):
        c.send(f"PRIVMSG #lobby :m{i}")
    c.expect(":chatgate NOTICE spammy :rate_limited: slow down")


def test_no_irc(chatgate):
    server = chatgate("--no-irc")
    assert server.irc is None


def pump_irc(reactor, got, pred, what):
    """Runs python3-irc's loop until an event it recorded in `got` matches."""
    deadline = time.monotonic() + T
    while time.monotonic() < deadline:
        reactor.process_once(0.05)
        if any(pred(g) for g in got):
            return
    raise AssertionError(f"python3-irc never saw {what}: {got}")


def test_python3_irc_client(server, irc):
    irc_client = pytest.importorskip("irc.client")
    reactor = getattr(irc_client, "Reactor", None) or irc_client.IRC  # Debian 12 has 8.5: IRC
    reactor = reactor()
    conn = reactor.server().connect("127.0.0.1", server.irc, "pyirc")
    got = []
    conn.add_global_handler("pubmsg", lambda c, e: got.append(("pub", irc_client.NickMask(e.source).nick, e.target, e.arguments[0])))
    conn.add_global_handler("privmsg", lambda c, e: got.append(("priv", irc_client.NickMask(e.source).nick, e.arguments[0])))
    conn.add_global_handler("join", lambda c, e: got.append(("join", irc_client.NickMask(e.source).nick, e.target)))
    conn.add_global_handler("welcome", lambda c, e: got.append(("welcome", e.target)))

    def pump(pred, what):
        pump_irc(reactor, got, pred, what)

    pump(lambda g: g == ("welcome", "pyirc"), "welcome")
    conn.join("#pyroom")
    pump(lambda g: g == ("join", "pyirc", "#pyroom"), "its JOIN")
    ws = server.ws()
    ws.send({"type": "join", "room": "pyroom"})
    ws.expect("joined")
    ws.send({"type": "say", "room": "pyroom", "text": "hi python"})
    pump(lambda g: g == ("pub", ws.nick, "#pyroom", "hi python"), "the WebSocket message")
    conn.privmsg("#pyroom", "hi browser")
    m = ws.expect("message", **{"from": "pyirc"})
    assert (m["from"], m["via"], m["text"]) == ("pyirc", "irc", "hi browser")
    ws.send({"type": "say", "to": "pyirc", "text": "private"})
    pump(lambda g: g == ("priv", ws.nick, "private"), "the DM")
    conn.disconnect("done")


def test_irssi_in_tmux(server, tmp_path):
    import shutil
    import subprocess
    if not shutil.which("tmux") or not shutil.which("irssi"):
        pytest.skip("tmux or irssi missing")
    home = tmp_path / "irssi"
    home.mkdir()
    (home / "config").write_text('settings = { core = { real_name = "t"; user_name = "t"; } };\n')
    session = f"cg{server.pid}"
    sock = str(tmp_path / "tmux.sock")
    tmux = ["tmux", "-S", sock]
    subprocess.run(tmux + ["new-session", "-d", "-s", session, "-x", "200", "-y", "50",
                           f"irssi --home={home} -c 127.0.0.1 -p {server.irc} -n irssiuser"],
                   check=True)
    try:
        def screen():
            return subprocess.run(tmux + ["capture-pane", "-p", "-t", session],
                                  capture_output=True, text=True).stdout
        ws = server.ws()
        j = ws.expect("joined", timeout=20, nick="irssiuser")
        assert j["via"] == "irc"
        subprocess.run(tmux + ["send-keys", "-t", session, "/join #lobby", "Enter"], check=True)
        ws.send({"type": "say", "room": "lobby", "text": "hello irssi from the browser"})
        cc.wait_for(lambda: "hello irssi from the browser" in screen(), timeout=20,
                    what="irssi showing the browser's message")
        subprocess.run(tmux + ["send-keys", "-t", session, "hi browser, irssi here", "Enter"], check=True)
        m = ws.expect("message", timeout=20, **{"from": "irssiuser"})
        assert (m["via"], m["text"], m["room"]) == ("irc", "hi browser, irssi here", "lobby")
    finally:
        subprocess.run(tmux + ["kill-session", "-t", session], capture_output=True)


def test_irc_framework_kiwi(server):
    """Kiwi IRC's irc-framework (npm) chats with a WebSocket user."""
    import json as _json
    import shutil
    import subprocess
    from pathlib import Path
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("node and npm are needed")
    script = Path(__file__).resolve().parent.parent / "irc" / "run_kiwi.sh"
    ws = server.ws()
    ws.send({"type": "join", "room": "kiwi"})
    ws.expect("joined", room="kiwi")
    proc = subprocess.Popen([str(script), str(server.irc)], stdout=subprocess.PIPE, text=True)
    try:
        ws.expect("joined", room="kiwi", nick="kiwi", timeout=60)  # npm ci may run first
        ws.send({"type": "say", "room": "kiwi", "text": "ping kiwi"})
        m = ws.expect("message", room="kiwi", text="pong from kiwi", timeout=20)
        assert (m["from"], m["via"]) == ("kiwi", "irc")
        a = ws.expect("message", room="kiwi", text="waves", timeout=20)
        assert a["me"] is True
        d = ws.expect("message", text="a private word", timeout=20)
        assert (d["from"], d["to"]) == ("kiwi", ws.nick)
        t = ws.expect("topic", room="kiwi", timeout=20)
        assert (t["topic"], t["by"]) == ("set by kiwi", "kiwi")
        ws.expect("left", room="kiwi", nick="kiwi", timeout=20)
        stdout, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    seen = [_json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    kinds = {e["ev"]: e for e in seen}
    assert "timeout" not in kinds, seen
    assert kinds["registered"]["nick"] == "kiwi"
    assert "server-time" in kinds["registered"]["caps"], seen
    assert {"ev": "join", "nick": "kiwi", "channel": "#kiwi", "ident": "irc"} in seen
    names = [e for e in seen if e["ev"] == "names" and e["channel"] == "#kiwi"]
    assert names and set(names[0]["users"]) >= {"kiwi", ws.nick}, seen
    got = [e for e in seen if e["ev"] == "message" and e["text"] == "ping kiwi"]
    assert got and got[0]["nick"] == ws.nick and got[0]["ident"] == "ws" and got[0]["time"], seen
    assert kinds["whois"]["nick"] == ws.nick and kinds["whois"]["ident"] == "ws", seen
    assert [ws.nick, "ws"] in kinds["who"]["users"], seen
    assert ["#kiwi", 2] in kinds["list"]["channels"] or ["#kiwi", "2"] in kinds["list"]["channels"], seen
    assert kinds["part"]["channel"] == "#kiwi"


# --------------------------------------------------------------------------
# IRC over TLS (--irc-tls-port): the same certificate, reloaded on SIGHUP


class IrcTls(Irc):
    """An IRC connection over TLS, checked against the test's certificates."""

    def __init__(self, port, ctx, timeout=T):
        super().__init__(port, timeout=timeout)
        self.sock = ctx.wrap_socket(self.sock, server_hostname="localhost")

    def subject_cn(self):
        return dict(x[0] for x in self.sock.getpeercert()["subject"])["commonName"]


# The certificates of the TLS tests: two self-signed pairs, live/ serving the first.
from test_18_tls_auth import certs as tls_certs  # noqa: E402,F401  (a fixture)
from test_18_tls_auth import client_ctx as tls_ctx  # noqa: E402


@pytest.fixture
def irc_tls_server(chatgate, tls_certs):
    return chatgate("--tls-cert", str(tls_certs["cert"]), "--tls-key", str(tls_certs["key"]))


def test_irc_tls_port_in_the_ports_file_only_with_a_certificate(chatgate, tls_certs):
    assert "irc_tls" not in chatgate().ports
    cert = ("--tls-cert", str(tls_certs["cert"]), "--tls-key", str(tls_certs["key"]))
    both = chatgate(*cert)
    assert both.irc_tls > 0 and both.irc > 0 and both.irc_tls != both.irc
    assert "irc_tls" not in chatgate(*cert, "--no-irc-tls").ports
    # --no-irc leaves IRC over TLS on: an operator can serve IRC over TLS only.
    tls_only = chatgate(*cert, "--no-irc")
    assert tls_only.irc is None and tls_only.irc_tls > 0


def test_irc_over_tls_chats_with_plain_irc_and_websocket(irc_tls_server, tls_certs, irc_at):
    ctx = tls_ctx(tls_certs)
    secure = IrcTls(irc_tls_server.irc_tls, ctx)
    assert secure.subject_cn() == "one"
    secure.register("secure1", caps=["server-time"])
    plain = irc_at(irc_tls_server)
    plain.register("plain1")
    secure.send("JOIN #tlsroom")
    plain.send("JOIN #tlsroom")
    secure.expect(":plain1!irc@chatgate JOIN #tlsroom")
    secure.sync()
    # WSS: the HTTP port serves WebSocket over TLS only.
    from test_18_tls_auth import Wss
    ws = Wss(irc_tls_server.http, ctx)
    ws.join("tlsroom")
    ws.say("hello tls irc", room="tlsroom")
    line = secure.expect(lambda l: l.endswith(f"PRIVMSG #tlsroom :hello tls irc"))
    assert line.startswith("@time=") and f":{ws.nick}!ws@chatgate " in line
    secure.send("PRIVMSG #tlsroom :from the encrypted side")
    plain.expect(":secure1!irc@chatgate PRIVMSG #tlsroom :from the encrypted side")
    m = ws.expect("message", text="from the encrypted side")
    assert (m["from"], m["via"]) == ("secure1", "irc")
    assert "irc-tls" in irc_tls_server.stderr() and "over TLS" in irc_tls_server.stderr()


def test_irc_tls_port_speaks_only_tls(irc_tls_server):
    c = Irc(irc_tls_server.irc_tls, timeout=T)
    c.send("NICK cleartext")
    c.send("USER cleartext 0 * :x")
    # The handshake fails on a cleartext line: closed, never registered.
    assert c.wait_closed(T)
    assert b" 001 " not in c.buf
    c.close()


def test_irc_tls_with_openssl_s_client(irc_tls_server, tls_certs):
    import shutil
    import subprocess
    if not shutil.which("openssl"):
        pytest.skip("openssl missing")
    proc = subprocess.Popen(
        ["openssl", "s_client", "-quiet", "-verify_return_error", "-CAfile", str(tls_certs["one"][0]),
         "-connect", f"127.0.0.1:{irc_tls_server.irc_tls}"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        proc.stdin.write(b"NICK sclient\r\nUSER sclient 0 * :s\r\nPING done\r\nQUIT\r\n")
        proc.stdin.flush()
        out, _ = proc.communicate(timeout=T)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = out.decode()
    assert ":chatgate 001 sclient " in text and ":sclient!irc@chatgate JOIN #lobby" in text
    assert "PONG chatgate done" in text and "ERROR :Closing link" in text


def test_irc_tls_reloads_on_sighup_and_keeps_old_connections(irc_tls_server, tls_certs, irc_at):
    import shutil
    import signal
    from test_18_tls_auth import wait_log
    ctx = tls_ctx(tls_certs)
    old = IrcTls(irc_tls_server.irc_tls, ctx)
    old.register("oldconn")
    assert old.subject_cn() == "one"
    shutil.copy(tls_certs["two"][0], tls_certs["cert"])
    shutil.copy(tls_certs["two"][1], tls_certs["key"])
    irc_tls_server.proc.send_signal(signal.SIGHUP)
    wait_log(irc_tls_server, "tls: reloaded certificate")
    new = IrcTls(irc_tls_server.irc_tls, ctx)
    assert new.subject_cn() == "two"
    new.register("newconn")
    old.send("PRIVMSG #lobby :still here after the reload")
    new.expect(":oldconn!irc@chatgate PRIVMSG #lobby :still here after the reload")
    old.sync()


def test_irc_tls_client_that_does_not_read_is_dropped(chatgate, tls_certs):
    """The TLS session writes through the same capped queue: a client that
    never reads is dropped at --max-queue-bytes, the readers get everything."""
    from test_07_limits import Flood
    srv = chatgate("--tls-cert", str(tls_certs["cert"]), "--tls-key", str(tls_certs["key"]),
                   *cc_fast(), "--max-queue-bytes", "65536")
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", srv.irc_tls))
    stuck = tls_ctx(tls_certs).wrap_socket(raw, server_hostname="localhost")
    from test_18_tls_auth import Wss

    def observer():
        # The HTTP port speaks WSS only; the stuck client registers once the
        # flood's observer is there to see it join.
        w = srv._track(Wss(srv.http, tls_ctx(tls_certs)))
        stuck.sendall(b"NICK stuck\r\nUSER stuck 0 * :s\r\n")
        return w
    srv.ws = observer
    flood = Flood(srv, "irc", slow=stuck)
    assert flood.slow_nick == "stuck"
    flood.run(at_most=4000, after_drop=100, grace_s=20)
    assert flood.dropped_after, "the TLS IRC client that never reads was not dropped"
    assert flood.dropped_after * flood.SIZE > 65536
    flood.check_healthy_readers_got_everything()
    assert [o for o in flood.events if o["type"] == "left"] == \
        [{"type": "left", "room": "lobby", "nick": "stuck", "via": "irc"}]
    assert any("irc-tls" in l and "dropped: not reading" in l for l in srv.stderr().splitlines())
    stuck.close()


def cc_fast():
    return ("--rate", "100000", "--burst", "100000")


def test_python3_irc_client_over_tls(irc_tls_server, tls_certs):
    import functools
    irc_client = pytest.importorskip("irc.client")
    import irc.connection
    ctx = tls_ctx(tls_certs)
    factory = irc.connection.Factory(wrapper=functools.partial(ctx.wrap_socket, server_hostname="localhost"))
    reactor = (getattr(irc_client, "Reactor", None) or irc_client.IRC)()
    conn = reactor.server().connect("127.0.0.1", irc_tls_server.irc_tls, "pytls", connect_factory=factory)
    got = []
    conn.add_global_handler("welcome", lambda c, e: got.append(("welcome", e.target)))
    conn.add_global_handler("pubmsg", lambda c, e: got.append(("pub", e.target, e.arguments[0])))

    def pump(pred, what):
        pump_irc(reactor, got, pred, what)

    pump(lambda g: g == ("welcome", "pytls"), "welcome")
    from test_18_tls_auth import Wss
    ws = Wss(irc_tls_server.http, ctx)
    ws.say("to python over tls")
    pump(lambda g: g == ("pub", "#lobby", "to python over tls"), "the WSS message")
    conn.privmsg("#lobby", "python over tls answers")
    m = ws.expect("message", text="python over tls answers")
    assert (m["from"], m["via"]) == ("pytls", "irc")
    conn.disconnect("done")


# --------------------------------------------------------------------------
# SASL PLAIN (IRCv3 sasl-3.1): the token is the password


def sasl_b64(authcid, password, authzid=""):
    import base64
    return base64.b64encode(f"{authzid}\0{authcid}\0{password}".encode()).decode()


def sasl_begin(c, nick="whoever", version="302"):
    c.send(f"CAP LS {version}")
    caps = c.expect(lambda l: " CAP * LS " in l)
    c.send(f"NICK {nick}")
    c.send(f"USER {nick} 0 * :x")
    c.send("CAP REQ :sasl")
    c.expect(lambda l: " CAP " in l and (l.endswith(" ACK :sasl") or l.endswith(" ACK sasl")))
    return caps


def sasl_send(c, payload):
    c.send("AUTHENTICATE PLAIN")
    c.expect("AUTHENTICATE +")
    chunks = [payload[i:i + 400] for i in range(0, len(payload), 400)]
    for chunk in chunks:
        c.send(f"AUTHENTICATE {chunk}")
    if len(payload) % 400 == 0:
        c.send("AUTHENTICATE +")


@pytest.fixture
def sasl_server(chatgate):
    from test_18_tls_auth import SECRET
    return chatgate("--auth-secret", SECRET, *cc_fast())


def test_sasl_plain_registers_under_the_tokens_nick(sasl_server, irc_at):
    from test_18_tls_auth import token
    member = sasl_server.ws()
    c = irc_at(sasl_server)
    caps = sasl_begin(c)
    assert caps.endswith(":server-time message-tags echo-message sasl=PLAIN")
    sasl_send(c, sasl_b64("saslyn", token("saslyn")))
    assert c.expect(lambda l: " 900 " in l) == \
        ":chatgate 900 whoever whoever!irc@chatgate saslyn :You are now logged in as saslyn"
    c.expect(":chatgate 903 whoever :SASL authentication successful")
    c.send("CAP END")
    c.expect(lambda l: l.startswith(":chatgate 001 saslyn "))
    c.expect(":saslyn!irc@chatgate JOIN #lobby")
    member.expect("joined", nick="saslyn")
    c.send("AUTHENTICATE PLAIN")
    c.expect(":chatgate 907 saslyn :You have already authenticated using SASL")
    # The nick is now reserved: a later client without the token does not get it.
    c.close()
    member.expect("left", nick="saslyn")
    other = irc_at(sasl_server)
    other.send("NICK saslyn")
    other.send("USER saslyn 0 * :x")
    assert not other.expect(lambda l: " 001 " in l).startswith(":chatgate 001 saslyn ")


def test_sasl_chunks_of_400_and_the_closing_plus(sasl_server, irc_at):
    from test_18_tls_auth import token
    # A token whose PLAIN message is exactly 800 base64 bytes ends with "+".
    for pad in range(700):
        payload = sasl_b64("chunky", token("chunky", note="n" * pad))
        if len(payload) == 800:
            break
    assert len(payload) == 800
    c = irc_at(sasl_server)
    sasl_begin(c)
    sasl_send(c, payload)
    c.expect(lambda l: " 903 " in l)
    c.send("CAP END")
    c.expect(lambda l: l.startswith(":chatgate 001 chunky "))
    # A longer one, 400 + 400 + the rest.
    d = irc_at(sasl_server)
    sasl_begin(d, "other")
    sasl_send(d, sasl_b64("chunky2", token("chunky2", note="n" * 700)))
    d.expect(lambda l: " 903 " in l)


def test_sasl_failures_have_their_numerics(sasl_server, irc_at):
    from test_18_tls_auth import bad_tokens, token
    c = irc_at(sasl_server)
    sasl_begin(c, "failer")
    c.send("AUTHENTICATE EXTERNAL")
    c.expect(":chatgate 908 failer PLAIN :are available SASL mechanisms")
    assert "EXTERNAL is not supported" in c.expect(lambda l: " 904 " in l)
    for name, bad in bad_tokens().items():
        sasl_send(c, sasl_b64("alice", bad))
        assert c.expect(lambda l: " 904 " in l).startswith(
            ":chatgate 904 failer :SASL authentication failed: bad token"), name
    # Someone else's token: the username is not its sub.
    sasl_send(c, sasl_b64("mallory", token("alice")))
    assert "the username must be the token's sub (alice)" in c.expect(lambda l: " 904 " in l)
    sasl_send(c, "bm90IHBsYWlu")  # "not plain": no NULs
    assert "not a PLAIN message" in c.expect(lambda l: " 904 " in l)
    c.send("AUTHENTICATE PLAIN")
    c.expect("AUTHENTICATE +")
    c.send("AUTHENTICATE " + "A" * 401)
    c.expect(":chatgate 905 failer :SASL message too long")
    c.send("AUTHENTICATE PLAIN")
    c.expect("AUTHENTICATE +")
    c.send("AUTHENTICATE *")
    c.expect(":chatgate 906 failer :SASL authentication aborted")
    # Too many chunks: refused, not buffered.
    c.send("AUTHENTICATE PLAIN")
    c.expect("AUTHENTICATE +")
    for _ in range(16):
        c.send("AUTHENTICATE " + "A" * 400)
    assert "too long" in c.expect(lambda l: " 904 " in l)
    # After all that, a good token still works, and registration follows.
    sasl_send(c, sasl_b64("", token("failer")))
    c.expect(lambda l: " 903 " in l)
    c.send("CAP END")
    c.expect(lambda l: l.startswith(":chatgate 001 failer "))
    # After registration SASL is over.
    d = irc_at(sasl_server)
    d.register("latecomer")
    d.send("AUTHENTICATE PLAIN")
    assert "only before registration" in d.expect(lambda l: " 904 " in l)


def test_sasl_is_not_offered_without_tokens(server, irc):
    c = irc()
    c.send("CAP LS 302")
    assert "sasl" not in c.expect(lambda l: " CAP * LS " in l)
    c.send("CAP REQ :sasl")
    assert c.expect(lambda l: " NAK " in l).endswith("sasl")
    c.send("AUTHENTICATE PLAIN")
    assert "accepts no tokens" in c.expect(lambda l: " 904 " in l)
    c.send("CAP END")
    c.register("nosasl")


def test_require_auth_takes_sasl_and_refuses_without_it(chatgate, irc_at):
    from test_18_tls_auth import SECRET, token
    strict = chatgate("--auth-secret", SECRET, "--require-auth", *cc_fast())
    c = irc_at(strict)
    caps = sasl_begin(c, "strict1", version="")
    assert caps.endswith(" sasl")  # no values without CAP LS 302
    sasl_send(c, sasl_b64("strict1", token("strict1")))
    c.expect(lambda l: " 903 " in l)
    c.send("CAP END")
    c.expect(lambda l: l.startswith(":chatgate 001 strict1 "))
    # CAP END in the middle of an exchange aborts it, and without a token
    # registration is refused.
    d = irc_at(strict)
    sasl_begin(d, "strict2")
    d.send("AUTHENTICATE PLAIN")
    d.expect("AUTHENTICATE +")
    d.send("CAP END")
    d.expect(":chatgate 906 strict2 :SASL authentication aborted")
    assert "PASS or SASL PLAIN" in d.expect(lambda l: " 464 " in l)
    d.expect("ERROR :Closing link: token required")
    assert d.wait_closed(T)


def test_irc_framework_sasl_over_tls(chatgate, tls_certs):
    """Kiwi IRC's irc-framework with tls and its account option (SASL PLAIN)."""
    import json as _json
    import os
    import shutil
    import subprocess
    from pathlib import Path
    from test_18_tls_auth import SECRET, token
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("node and npm are needed")
    srv = chatgate("--tls-cert", str(tls_certs["cert"]), "--tls-key", str(tls_certs["key"]),
                   "--auth-secret", SECRET, "--require-auth", *cc_fast())
    script = Path(__file__).resolve().parent.parent / "irc" / "run_kiwi.sh"
    # Node checks the certificate against the test's CA: no verification switched off.
    env = dict(os.environ, NODE_EXTRA_CA_CERTS=str(tls_certs["one"][0]))

    def run(account, password):
        out = subprocess.run([str(script), "kiwi_sasl.js", str(srv.irc_tls), account, password],
                             capture_output=True, text=True, timeout=90, env=env)
        return [_json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]

    seen = run("kiwisasl", token("kiwisasl"))
    kinds = {e["ev"]: e for e in seen}
    assert "timeout" not in kinds and "error" not in kinds, seen
    assert kinds["loggedin"]["account"] == "kiwisasl", seen
    assert kinds["registered"]["nick"] == "kiwisasl" and "sasl" in kinds["registered"]["caps"], seen
    assert kinds["joined"]["channel"] == "#kiwitls", seen
    # A wrong account name: SASL fails, and --require-auth then refuses it.
    seen = run("someoneelse", token("kiwisasl"))
    kinds = {e["ev"]: e for e in seen}
    assert "the username must be the token's sub" in kinds["sasl failed"]["message"], seen
    assert "registered" not in kinds, seen


def test_irssi_over_tls_with_sasl(chatgate, tls_certs, tmp_path):
    """Debian's irssi: /connect -tls with SASL PLAIN carrying a token."""
    import shutil
    import subprocess
    from test_18_tls_auth import SECRET, Wss, token
    if not shutil.which("tmux") or not shutil.which("irssi"):
        pytest.skip("tmux or irssi missing")
    srv = chatgate("--tls-cert", str(tls_certs["cert"]), "--tls-key", str(tls_certs["key"]),
                   "--auth-secret", SECRET, "--require-auth", *cc_fast())
    home = tmp_path / "irssi"
    home.mkdir()
    (home / "config").write_text('settings = { core = { real_name = "t"; user_name = "t"; nick = "ignored"; }; };\n')
    session = f"cgtls{srv.pid}"
    tmux = ["tmux", "-S", str(tmp_path / "tmux.sock")]
    subprocess.run(tmux + ["new-session", "-d", "-s", session, "-x", "200", "-y", "50",
                           f"irssi --home={home}"], check=True)

    def keys(text):
        subprocess.run(tmux + ["send-keys", "-t", session, text, "Enter"], check=True)
    try:
        watcher = Wss(srv.http, tls_ctx(tls_certs), path="/ws?token=" + token("watcher"))
        keys(f"/network add -sasl_mechanism PLAIN -sasl_username irssitls -sasl_password {token('irssitls')} cg")
        # irssi checks the name: "localhost" is in the certificate (as a DNS name).
        keys(f"/server add -4 -tls -tls_cafile {tls_certs['one'][0]} -network cg localhost {srv.irc_tls}")
        keys("/connect cg")

        def screen():
            return subprocess.run(tmux + ["capture-pane", "-p", "-t", session],
                                  capture_output=True, text=True).stdout
        try:
            j = watcher.expect("joined", timeout=30, nick="irssitls")
        except AssertionError:
            raise AssertionError("irssi never joined; its screen:\n" + screen()) from None
        assert j["via"] == "irc"
        keys("/join #lobby")
        watcher.say("hello irssi over tls")
        keys("hi from irssi over tls")
        m = watcher.expect("message", timeout=20, **{"from": "irssitls"})
        assert (m["via"], m["text"]) == ("irc", "hi from irssi over tls")
    finally:
        subprocess.run(tmux + ["kill-session", "-t", session], capture_output=True)
