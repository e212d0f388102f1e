"""SPEC 13: TLS (HTTPS, WSS, TLS TCP chat, reload on SIGHUP) and tokens
(HS256 JWTs, reserved nicks, --require-auth), with a certificate made at
test time."""

import base64
import hashlib
import hmac
import http.client
import json
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest
import websockets
import websockets.exceptions

import chatgate_client as cc

SECRET = "test-secret-0123456789"


# --------------------------------------------------------------------------
# certificates and tokens


def make_cert(directory, cn, san="DNS:localhost,IP:127.0.0.1"):
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-subj", f"/CN={cn}", "-days", "1", "-keyout", str(key), "-out", str(cert),
         "-addext", f"subjectAltName={san}"],
        check=True, capture_output=True)
    return cert, key


@pytest.fixture
def certs(tmp_path):
    """Two self-signed pairs (CN one, CN two) and a live/ folder serving the first."""
    one = make_cert(tmp_path / "one", "one")
    two = make_cert(tmp_path / "two", "two")
    live = tmp_path / "live"
    live.mkdir()
    shutil.copy(one[0], live / "fullchain.pem")
    shutil.copy(one[1], live / "privkey.pem")
    return {"one": one, "two": two, "cert": live / "fullchain.pem", "key": live / "privkey.pem"}


def client_ctx(certs):
    ctx = ssl.create_default_context()
    ctx.load_verify_locations(str(certs["one"][0]))
    ctx.load_verify_locations(str(certs["two"][0]))
    return ctx


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(sub="alice", secret=SECRET, alg="HS256", **claims):
    header = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = b64(json.dumps(dict(sub=sub, **claims)).encode())
    signing = f"{header}.{payload}".encode()
    digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}.get(alg, hashlib.sha256)
    sig = b64(hmac.new(secret.encode(), signing, digest).digest()) if alg != "none" else ""
    return f"{header}.{payload}.{sig}"


def bad_tokens():
    now = int(time.time())
    return {
        "expired": token(exp=now - 120),
        "not yet valid": token(nbf=now + 600),
        "forged": token(secret="not-the-secret"),
        "alg none": token(alg="none"),
        "alg HS512": token(alg="HS512"),
    }


# --------------------------------------------------------------------------
# clients


class TlsText(cc.TextClient):
    """A terminal user on the TLS TCP chat port."""

    def __init__(self, port, ctx, read_welcome=True):
        raw = socket.create_connection((cc.HOST, port), timeout=cc.TIMEOUT)
        self.sock = ctx.wrap_socket(raw, server_hostname="localhost")
        self.buf, self.eof, self.timeout = b"", False, cc.TIMEOUT
        self.nick = self.welcome = None
        if read_welcome:
            self.welcome = self.read_line()
            m = cc.WELCOME_RE.match(self.welcome)
            assert m, self.welcome
            self.nick = m["nick"]

    def subject_cn(self):
        return dict(x[0] for x in self.sock.getpeercert()["subject"])["commonName"]


class TlsNdjson(cc.NdjsonClient):
    def __init__(self, port, ctx):
        cc.JsonClient.__init__(self)
        raw = socket.create_connection((cc.HOST, port), timeout=cc.TIMEOUT)
        self.sock = ctx.wrap_socket(raw, server_hostname="localhost")
        self.buf, self.eof, self.timeout = b"", False, cc.TIMEOUT
        assert cc.WELCOME_RE.match(self.read_line_bytes().decode())
        self.send({"type": "rooms", "ref": "hello"})
        self._take_welcome()


class Wss(cc.WsClient):
    def __init__(self, port, ctx, path="/ws", read_welcome=True):
        cc.JsonClient.__init__(self)
        async def open_():
            return await websockets.connect(
                f"wss://localhost:{port}{path}", ssl=ctx, host=cc.HOST, server_hostname="localhost",
                compression=None, open_timeout=cc.TIMEOUT, close_timeout=2, ping_interval=None)
        self.ws = cc.run(open_())
        if read_welcome:
            self._take_welcome()
            self.history = self.expect("history")


def ws_status(port, path, ctx=None):
    """The HTTP status a WebSocket handshake got (101 if it opened)."""
    async def attempt():
        url = f"{'wss' if ctx else 'ws'}://localhost:{port}{path}"
        kw = dict(ssl=ctx, server_hostname="localhost") if ctx else {}
        try:
            ws = await websockets.connect(url, host=cc.HOST, open_timeout=cc.TIMEOUT, **kw)
        except websockets.exceptions.InvalidStatusCode as e:
            return e.status_code
        await ws.close()
        return 101
    return cc.run(attempt())


def wait_log(server, needle, timeout=10):
    deadline = time.monotonic() + timeout
    while needle not in server.stderr():
        assert time.monotonic() < deadline, f"no {needle!r} in the log:\n{server.stderr()[-2000:]}"
        time.sleep(0.05)


@pytest.fixture
def tls_server(chatgate, certs):
    return chatgate("--tls-cert", str(certs["cert"]), "--tls-key", str(certs["key"]), *cc_fast())


def cc_fast():
    return ("--rate", "100000", "--burst", "100000")


# --------------------------------------------------------------------------
# TLS


def test_https_page_and_healthz(tls_server, certs):
    ctx = client_ctx(certs)
    ctx.check_hostname = False
    for path, expect in (("/", b"<html"), ("/healthz", b'"ok"')):
        # websocketpp answers one request per connection.
        conn = http.client.HTTPSConnection(cc.HOST, tls_server.http, context=ctx, timeout=cc.TIMEOUT)
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        assert resp.status == 200 and expect in body.lower(), (path, resp.status, body[:200])
    assert json.loads(tls_server.ports_file.read_text())["tls_tcp"] == tls_server.tls_tcp


def test_plain_http_on_the_tls_port_gets_no_page(tls_server):
    s = socket.create_connection((cc.HOST, tls_server.http), timeout=cc.TIMEOUT)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    try:
        while chunk := s.recv(4096):
            data += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    assert not data.startswith(b"HTTP/"), data[:100]
    s.close()
    # Still serving TLS afterwards.
    assert TlsText(tls_server.tls_tcp, _insecure()).nick


def _insecure():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def test_wss_tls_tcp_and_plain_clients_chat_together(tls_server, certs):
    ctx = client_ctx(certs)
    browser = Wss(tls_server.http, ctx)
    term = TlsText(tls_server.tls_tcp, ctx)
    plain = tls_server.text()
    ndjson = TlsNdjson(tls_server.tls_tcp, ctx)
    browser.say("over wss")
    for c in (term, plain):
        c.expect(f"[lobby] {browser.nick}: over wss")
    ndjson.expect("message", text="over wss")
    term.send("over tls tcp")
    browser.expect("message", text="over tls tcp", **{"from": term.nick})
    plain.expect(f"[lobby] {term.nick}: over tls tcp")
    # A burst larger than one gathered write (64 KiB) arrives whole and in order.
    for i in range(300):
        term.send(f"line {i:04d} " + "x" * 400)
    for i in range(300):
        browser.expect("message", text=f"line {i:04d} " + "x" * 400)
    who = plain.sync()
    assert not any(l.startswith("!") for l in who), who


def test_openssl_s_client_chats(tls_server, certs):
    watcher = tls_server.text()
    proc = subprocess.Popen(
        ["openssl", "s_client", "-quiet", "-connect", f"127.0.0.1:{tls_server.tls_tcp}",
         "-CAfile", str(certs["one"][0]), "-verify_return_error", "-servername", "localhost"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        welcome = proc.stdout.readline().decode()
        assert welcome.startswith("* welcome "), welcome
        proc.stdin.write(b"hello from s_client\n")
        proc.stdin.flush()
        watcher.expect(lambda l: l.endswith(": hello from s_client"))
        proc.stdin.write(b"/quit\n")
        proc.stdin.flush()
        proc.wait(cc.TIMEOUT)
    finally:
        proc.kill()


def test_tls_1_0_and_1_1_are_refused(tls_server):
    probe = subprocess.run(["openssl", "ciphers", "-s", "-tls1_1", "DEFAULT:@SECLEVEL=0"],
                           capture_output=True, text=True)
    if probe.returncode != 0 or not probe.stdout.strip():
        pytest.skip("this OpenSSL cannot offer TLS 1.1 at all: " + probe.stderr.strip())
    for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        ctx = _insecure()
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = version
        ctx.maximum_version = version
        for port in (tls_server.tls_tcp, tls_server.http):
            raw = socket.create_connection((cc.HOST, port), timeout=cc.TIMEOUT)
            with pytest.raises(ssl.SSLError) as err:
                ctx.wrap_socket(raw, server_hostname="localhost")
            raw.close()
            assert "NO_PROTOCOLS_AVAILABLE" not in str(err.value), err.value
    # TLS 1.2 and 1.3 both work.
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = _insecure()
        ctx.minimum_version = ctx.maximum_version = version
        c = TlsText(tls_server.tls_tcp, ctx)
        assert c.sock.version() == {"TLSv1_2": "TLSv1.2", "TLSv1_3": "TLSv1.3"}[version.name]


def test_sighup_reloads_for_new_connections_and_keeps_old_ones(tls_server, certs):
    ctx = client_ctx(certs)
    old = TlsText(tls_server.tls_tcp, ctx)
    old_wss = Wss(tls_server.http, ctx)
    assert old.subject_cn() == "one"
    shutil.copy(certs["two"][0], certs["cert"])
    shutil.copy(certs["two"][1], certs["key"])
    tls_server.proc.send_signal(signal.SIGHUP)
    wait_log(tls_server, "tls: reloaded certificate")
    new = TlsText(tls_server.tls_tcp, ctx)
    assert new.subject_cn() == "two"
    raw = ctx.wrap_socket(socket.create_connection((cc.HOST, tls_server.http)), server_hostname="localhost")
    assert dict(x[0] for x in raw.getpeercert()["subject"])["commonName"] == "two"
    raw.close()
    # The old connections were not touched.
    old.send("still here")
    new.expect(f"[lobby] {old.nick}: still here")
    old_wss.expect("message", text="still here")
    old_wss.say("wss still here")
    old.expect(f"[lobby] {old_wss.nick}: wss still here")

    # A bad file: logged, the last good pair kept.
    certs["cert"].write_text("not a certificate\n")
    tls_server.proc.send_signal(signal.SIGHUP)
    wait_log(tls_server, "reload failed, keeping the old certificate")
    assert str(certs["cert"]) in tls_server.stderr()
    again = TlsText(tls_server.tls_tcp, ctx)
    assert again.subject_cn() == "two"
    old.send("after the bad reload")
    again.expect(f"[lobby] {old.nick}: after the bad reload")


@pytest.mark.parametrize("problem", ["missing", "unreadable", "mismatched", "garbage"])
def test_bad_certificate_at_startup_exits_2_naming_the_file(chatgate, certs, tmp_path, problem):
    cert, key = certs["one"]
    if problem == "missing":
        cert = tmp_path / "nope.pem"
    elif problem == "mismatched":
        key = certs["two"][1]
    elif problem == "garbage":
        cert = tmp_path / "garbage.pem"
        cert.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    elif problem == "unreadable":
        cert = tmp_path / "dir.pem"
        cert.mkdir()
    server = cc_start_failing(chatgate, "--tls-cert", str(cert), "--tls-key", str(key))
    rc, err = server
    assert rc == 2, err
    named = str(key) if problem == "mismatched" else str(cert)
    assert named in err and len(err.strip().splitlines()) == 1, err


def cc_start_failing(chatgate, *flags):
    from conftest import BINARY
    proc = subprocess.run([str(BINARY), "--bind", "127.0.0.1", "--http-port", "0", "--tcp-port", "0",
                           "--udp-port", "0", "--echo-port", "0", "--tls-tcp-port", "0", *flags],
                          capture_output=True, text=True, timeout=20)
    return proc.returncode, proc.stderr


# --------------------------------------------------------------------------
# tokens


@pytest.fixture
def auth_server(chatgate):
    return chatgate("--auth-secret", SECRET, *cc_fast())


def test_ws_token_in_the_url_names_the_client(auth_server):
    c = auth_server.ws(path="/ws?token=" + token("alice", exp=int(time.time()) + 600))
    assert c.nick == "alice"


@pytest.mark.parametrize("kind", list(bad_tokens()))
def test_bad_tokens_get_bad_token_on_every_transport(auth_server, kind):
    bad = bad_tokens()[kind]
    ws = auth_server.ws()
    answer = ws.request({"type": "auth", "token": bad})
    assert answer["type"] == "error" and answer["code"] == "bad_token", answer
    assert ws.nick != "alice"
    # In the URL: the connection opens (no --require-auth), with an error.
    # Decision: the error comes first, then the welcome as a guest.
    url_ws = auth_server.ws(path="/ws?token=" + bad, read_welcome=False)
    err = url_ws.recv()
    assert err["type"] == "error" and err["code"] == "bad_token", err
    url_ws._take_welcome()
    assert url_ws.nick.startswith("guest-")
    text = auth_server.text()
    text.send("/auth " + bad)
    line = text.expect(lambda l: l.startswith("!"))
    assert line.startswith("! bad token: "), line
    nd = auth_server.ndjson()
    assert nd.request({"type": "auth", "token": bad})["code"] == "bad_token"
    udp = auth_server.udp_client()
    udp.hello()
    udp.send("/auth " + bad)
    assert udp.expect(lambda l: l.startswith("!")).startswith("! bad token: ")


def test_good_token_renames_on_every_transport(auth_server):
    watcher = auth_server.text()
    for i, make in enumerate(["ws", "ndjson"]):
        c = getattr(auth_server, make)()
        old = c.nick
        answer = c.request({"type": "auth", "token": token(f"user{i}")})
        assert answer == dict(answer, type="nick", old=old, nick=f"user{i}"), answer
        watcher.expect(f"* {old} is now known as user{i}")
    text = auth_server.text()
    text.send("/auth " + token("textuser"))
    text.expect(f"* {text.nick} is now known as textuser")
    watcher.expect(f"* {text.nick} is now known as textuser")
    udp = auth_server.udp_client()
    udp.hello()
    udp.send("/auth " + token("udpuser"))
    watcher.expect(f"* {udp.nick} is now known as udpuser")


def test_reserved_nick_stays_reserved_after_its_owner_leaves(auth_server):
    owner = auth_server.text()
    owner.send("/auth " + token("alice"))
    owner.expect(f"* {owner.nick} is now known as alice")
    other = auth_server.ws()
    answer = other.request({"type": "nick", "nick": "Alice"})
    assert answer["type"] == "error" and answer["code"] == "nick_taken", answer
    owner.send("/quit")
    owner.wait_closed()
    time.sleep(0.2)
    for client in (auth_server.ws(), other):
        answer = client.request({"type": "nick", "nick": "alice"})
        assert answer["code"] == "nick_taken", answer
    text = auth_server.text()
    text.send("/nick alice")
    assert text.expect(lambda l: l.startswith("!")).startswith("! nick taken: alice")
    # The token still gets it.
    back = auth_server.ws(path="/ws?token=" + token("alice"))
    assert back.nick == "alice"
    # A guest who grabbed a token-owner's nick before it was reserved gives it up.
    squatter = auth_server.text()
    squatter.rename("bob")
    bob = auth_server.ws()
    answer = bob.request({"type": "auth", "token": token("bob")})
    assert answer["type"] == "nick" and answer["nick"] == "bob", answer
    squatter.expect(lambda l: l.startswith("* bob is now known as guest-"))
    assert squatter.expect(lambda l: l.startswith("!")).startswith("! nick taken: bob")


def test_secret_from_env_and_file(chatgate, tmp_path):
    by_env = chatgate(env={"CHATGATE_AUTH_SECRET": SECRET})
    assert by_env.ws(path="/ws?token=" + token("envuser")).nick == "envuser"
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    by_file = chatgate("--auth-secret-file", str(secret_file))
    assert by_file.ws(path="/ws?token=" + token("fileuser")).nick == "fileuser"
    assert SECRET not in " ".join(by_file.argv)


# --------------------------------------------------------------------------
# --require-auth


@pytest.fixture
def strict(chatgate):
    return chatgate("--auth-secret", SECRET, "--require-auth", "--auth-timeout-s", "2", *cc_fast())


def test_require_auth_ws_gets_401_without_a_good_token(strict):
    assert ws_status(strict.http, "/ws") == 401
    for bad in bad_tokens().values():
        assert ws_status(strict.http, "/ws?token=" + bad) == 401
    assert strict.ws(path="/ws?token=" + token("carol")).nick == "carol"


def test_require_auth_tcp_text_only_errors_until_auth(strict):
    member = strict.ws(path="/ws?token=" + token("member"))
    c = cc.TextClient(strict.tcp, read_welcome=False)
    assert c.read_line().startswith("* authentication required: send /auth TOKEN")
    for line in ("hello", "/who", "/join other", "/nick x"):
        c.send(line)
        assert c.read_line().startswith("! bad token: authenticate first"), line
    who = member.request({"type": "who", "room": "lobby"})
    assert [m["nick"] for m in who["members"]] == ["member"], who
    c.send("/auth " + bad_tokens()["forged"])
    assert c.read_line().startswith("! bad token: bad signature")
    c.send("/auth " + token("dave"))
    assert cc.WELCOME_RE.match(c.read_line())["nick"] == "dave"
    member.expect("joined", nick="dave")
    c.send("hi all")
    member.expect("message", text="hi all", **{"from": "dave"})
    c.close()


def test_require_auth_ndjson_and_udp(strict):
    member = strict.ws(path="/ws?token=" + token("member"))
    s = cc.LineSocket(strict.tcp)
    assert s.read_line_bytes().startswith(b"* authentication required")
    s.send_raw(b'{"type":"say","room":"lobby","text":"x","ref":1}\n')
    err = json.loads(s.read_line_bytes())
    assert err["code"] == "bad_token" and err["ref"] == 1, err
    s.send_raw(json.dumps({"type": "auth", "token": token("erin")}).encode() + b"\n")
    welcome = json.loads(s.read_line_bytes())
    assert welcome["type"] == "welcome" and welcome["nick"] == "erin", welcome
    member.expect("joined", nick="erin")
    s.close()
    udp = strict.udp_client()
    udp.send("hello")
    assert udp.read_line().startswith("* authentication required")
    # The address check (SPEC 9) goes on as usual, the notice standing in
    # for the welcome; the waiting peer is in no room until it authenticates.
    udp.code = cc.OK_PROMPT_RE.match(udp.read_line())["code"]
    assert udp.read_line().startswith("! bad token: authenticate first")
    udp.validate()
    udp.send("/auth " + token("frank"))
    assert cc.WELCOME_RE.match(udp.expect(lambda l: l.startswith("* welcome")))["nick"] == "frank"
    member.expect("joined", nick="frank")


def test_require_auth_closes_silent_clients_after_the_timeout(strict):
    c = cc.TextClient(strict.tcp, read_welcome=False)
    start = time.monotonic()
    assert c.read_line().startswith("* authentication required")
    assert c.read_line(timeout=10).startswith("! bad token: none sent within 2 s")
    assert c.wait_closed(10)
    assert 1.5 < time.monotonic() - start < 8
    udp = strict.udp_client()
    udp.send("hello")
    udp.expect(lambda l: l.startswith("! bad token: none sent within 2 s"), timeout=10)
    # Forgotten: its next datagram is a new client, asked to authenticate again.
    time.sleep(0.3)
    # Long enough to earn the notice: the first peer spent most of this
    # address's anti-amplification budget (SPEC 9: 3x what came, +256).
    udp.send("again " + "x" * 100)
    udp.expect(lambda l: l.startswith("* authentication required"))


# --------------------------------------------------------------------------
# IRC: PASS carries the token (SPEC 14)


def irc_connect(srv):
    from test_22_irc import Irc
    return Irc(srv.irc, timeout=10)


def irc_register(c, nick, password=None):
    if password is not None:
        c.send(f"PASS {password}")
    c.send(f"NICK {nick}")
    c.send(f"USER {nick} 0 * :{nick}")


def test_irc_pass_token_gives_its_nick_and_reserves_it(auth_server):
    member = auth_server.ws(path="/ws?token=" + token("member"))
    c = irc_connect(auth_server)
    irc_register(c, "whatever", token("ivy"))
    c.expect(lambda l: l.startswith(":chatgate 001 ivy "))
    c.expect(":ivy!irc@chatgate JOIN #lobby")
    member.expect("joined", nick="ivy")
    c.close()
    member.expect("left", nick="ivy")
    # Reserved while its owner is away: registering as it without the token
    # gets a guest nick, not ivy.
    other = irc_connect(auth_server)
    irc_register(other, "ivy")
    first = other.expect(lambda l: " 001 " in l)
    assert not first.startswith(":chatgate 001 ivy "), first
    other.close()


def test_irc_without_a_good_pass_is_refused_with_require_auth(strict):
    for password in (None, bad_tokens()["forged"]):
        c = irc_connect(strict)
        irc_register(c, "jack", password)
        assert " 464 " in c.expect(lambda l: " 464 " in l)
        c.expect(lambda l: l.startswith("ERROR "))
        assert c.wait_closed(10) if hasattr(c, "wait_closed") else True
        c.close()
    c = irc_connect(strict)
    irc_register(c, "jack", token("jack"))
    c.expect(lambda l: l.startswith(":chatgate 001 jack "))
    c.expect(":jack!irc@chatgate JOIN #lobby")
    c.close()


# --------------------------------------------------------------------------
# GET /auth: what a handshake would meet, for the page (docs/operations.md)


def get_auth(srv, query=""):
    conn = http.client.HTTPConnection(cc.HOST, srv.http, timeout=cc.TIMEOUT)
    conn.request("GET", "/auth" + query)
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("Content-Type") == "application/json"
    return json.loads(resp.read())


def test_auth_endpoint_says_what_a_handshake_meets(chatgate, strict):
    assert get_auth(strict) == {"tokens": True, "required": True, "token": "none"}
    assert get_auth(strict, "?token=" + token("kim")) == {"tokens": True, "required": True, "token": "good",
                                                           "nick": "kim"}
    for reason, bad in (("expired", bad_tokens()["expired"]), ("bad signature", bad_tokens()["forged"])):
        answer = get_auth(strict, "?token=" + bad)
        assert answer["token"] == "bad" and reason in answer["reason"], answer
        assert ws_status(strict.http, "/ws?token=" + bad) == 401
    plain = chatgate()
    assert get_auth(plain) == {"tokens": False, "required": False, "token": "none"}
    assert get_auth(plain, "?token=" + token("kim"))["token"] == "bad"


# --------------------------------------------------------------------------
# reserved nicks kept with --db (SPEC 13)


def test_reserved_nick_survives_a_restart_with_the_same_db(chatgate, tmp_path):
    db = tmp_path / "chat.db"
    first = chatgate("--db", str(db), "--auth-secret", SECRET, *cc_fast())
    owner = first.ws(path="/ws?token=" + token("Alice"))
    assert owner.nick == "Alice"
    assert first.stop()[0] == 0
    import sqlite3
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT folded, nick FROM reserved_nicks").fetchall() == [("alice", "Alice")]
        assert con.execute("PRAGMA user_version").fetchone() == (3,)
    second = chatgate("--db", str(db), "--auth-secret", SECRET, *cc_fast())
    guest = second.text()
    guest.send("/nick alice")
    assert guest.expect(lambda l: l.startswith("!")).startswith("! nick taken: alice")
    assert second.ws().request({"type": "nick", "nick": "ALICE"})["code"] == "nick_taken"
    assert second.ws(path="/ws?token=" + token("alice")).nick == "alice"
    # Without --db nothing is kept.
    third = chatgate("--auth-secret", SECRET)
    assert third.ws().request({"type": "nick", "nick": "alice"})["type"] == "nick"


def test_a_version_1_database_is_migrated_and_keeps_its_messages(chatgate, tmp_path):
    import sqlite3
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as con:
        con.executescript("""
            CREATE TABLE rooms (name TEXT PRIMARY KEY, last_id INTEGER NOT NULL, topic TEXT, topic_by TEXT,
                                topic_ts INTEGER) WITHOUT ROWID;
            CREATE TABLE messages (room TEXT NOT NULL, id INTEGER NOT NULL, ts INTEGER NOT NULL, nick TEXT NOT NULL,
                                   via TEXT NOT NULL, me INTEGER NOT NULL DEFAULT 0, text TEXT NOT NULL,
                                   PRIMARY KEY (room, id)) WITHOUT ROWID;
            INSERT INTO rooms VALUES ('lobby', 1, NULL, NULL, NULL);
            INSERT INTO messages VALUES ('lobby', 1, 1700000000000, 'old', 'tcp', 0, 'from version 1');
            PRAGMA user_version=1;
        """)
    srv = chatgate("--db", str(db), "--auth-secret", SECRET)
    wait_log(srv, "schema migrated to version 2")
    c = srv.ws()
    assert [m["text"] for m in c.history["messages"]] == ["from version 1"]
    assert srv.ws(path="/ws?token=" + token("newbie")).nick == "newbie"
    assert srv.stop()[0] == 0
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT nick FROM reserved_nicks").fetchall() == [("newbie",)]


# --------------------------------------------------------------------------
# /metrics for tokens and TLS (docs/operations.md)


def auth_metrics(srv):
    m = srv.metrics()
    return {r: m[f'chatgate_auth_total{{result="{r}"}}'] for r in ("ok", "bad_token", "expired", "required")}


def test_auth_metrics_count_each_result(strict):
    before = auth_metrics(strict)
    assert ws_status(strict.http, "/ws") == 401
    assert ws_status(strict.http, "/ws?token=" + bad_tokens()["expired"]) == 401
    assert ws_status(strict.http, "/ws?token=" + bad_tokens()["forged"]) == 401
    assert strict.ws(path="/ws?token=" + token("counted")).nick == "counted"
    text = cc.TextClient(strict.tcp, read_welcome=False)
    text.read_line()
    text.send("/auth " + bad_tokens()["alg none"])
    assert text.read_line().startswith("! bad token: ")
    silent = cc.TextClient(strict.tcp, read_welcome=False)
    assert silent.read_line(timeout=10) and silent.wait_closed(10)
    assert text.wait_closed(10)
    after = auth_metrics(strict)
    # required: the 401 without a token, and both TCP clients closed at the
    # timeout (the one whose token was refused had none that counted either).
    assert {k: after[k] - before[k] for k in after} == {"ok": 1, "bad_token": 2, "expired": 1, "required": 3}, after


def test_tls_handshake_failures_are_counted_by_listener(tls_server, certs):
    def failures():
        ctx = client_ctx(certs)
        conn = http.client.HTTPSConnection("localhost", tls_server.http, context=ctx, timeout=cc.TIMEOUT)
        conn.request("GET", "/metrics")
        m = cc.parse_metrics(conn.getresponse().read().decode())
        return {l: m[f'chatgate_tls_handshake_failures_total{{listener="{l}"}}'] for l in ("https", "tls_tcp", "irc_tls")}

    before = failures()
    # Plain text at every TLS port, and a client that refuses the certificate.
    for port in (tls_server.http, tls_server.tls_tcp, tls_server.irc_tls):
        s = socket.create_connection((cc.HOST, port), timeout=cc.TIMEOUT)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            s.recv(100)
        except OSError:
            pass
        s.close()
    strict_ctx = ssl.create_default_context()  # the system's CAs: the self-signed cert is refused
    raw = socket.create_connection((cc.HOST, tls_server.tls_tcp), timeout=cc.TIMEOUT)
    with pytest.raises(ssl.SSLError):
        strict_ctx.wrap_socket(raw, server_hostname="localhost")
    raw.close()
    deadline = time.monotonic() + 10
    while True:
        after = failures()
        delta = {k: after[k] - before[k] for k in after}
        if delta == {"https": 1, "tls_tcp": 2, "irc_tls": 1} or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert delta == {"https": 1, "tls_tcp": 2, "irc_tls": 1}, delta
    # A good handshake is not a failure.
    TlsText(tls_server.tls_tcp, client_ctx(certs))
    assert failures() == after
