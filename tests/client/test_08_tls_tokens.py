"""SPEC 13 from the terminal client: wss:// and --tls (TCP chat port) with
--ca or --insecure, and --token on every transport, against the real server
with a self-signed certificate made at test time."""

import time

import pytest

from client_helpers import run_client
from test_18_tls_auth import SECRET, make_cert, token  # tests/integration

FAST = ("--rate", "100000", "--burst", "100000")


@pytest.fixture
def certs(tmp_path):
    """The server's pair, a stranger's (a wrong CA), and one for another name."""
    return {"ok": make_cert(tmp_path / "ok", "chatgate-test"),
            "stranger": make_cert(tmp_path / "stranger", "stranger"),
            "elsewhere": make_cert(tmp_path / "elsewhere", "elsewhere", san="DNS:elsewhere.example")}


@pytest.fixture
def tls_server(chatgate, certs):
    cert, key = certs["ok"]
    return chatgate("--tls-cert", str(cert), "--tls-key", str(key), "--auth-secret", SECRET, *FAST)


def wss(srv, host="localhost"):
    return ["--ws", f"wss://{host}:{srv.http}/ws"]


def tls_tcp(srv, host="127.0.0.1"):
    return ["--tcp", f"{host}:{srv.tls_tcp}", "--tls"]


TLS_TARGETS = {"wss": wss, "tls": tls_tcp}


@pytest.mark.parametrize("via", TLS_TARGETS)
def test_tls_with_the_servers_ca_chats(tls_server, certs, via):
    watcher = tls_server.text()
    result = run_client("chat", *TLS_TARGETS[via](tls_server), "--ca", certs["ok"][0], "--nick", f"sec{via}",
                        input=f"hello over {via}\n")
    assert result.returncode == 0, result.stderr
    watcher.expect(f"[lobby] sec{via}: hello over {via}")


def test_tls_tcp_json_mode(tls_server, certs):
    watcher = tls_server.text()
    result = run_client("chat", *tls_tcp(tls_server), "--ca", certs["ok"][0], "--json", "--nick", "secjson",
                        input="hello ndjson over tls\n")
    assert result.returncode == 0, result.stderr
    watcher.expect("[lobby] secjson: hello ndjson over tls")
    assert '"type":"welcome"' in result.stdout.decode()


@pytest.mark.parametrize("via", TLS_TARGETS)
def test_a_certificate_from_another_ca_is_refused(tls_server, certs, via):
    watcher = tls_server.text()
    result = run_client("chat", *TLS_TARGETS[via](tls_server), "--ca", certs["stranger"][0], input="leak\n")
    assert result.returncode == 1
    err = result.stderr.decode()
    assert "the server's certificate is not trusted (self-signed certificate)" in err, err
    assert "use --ca FILE for its CA, or --insecure" in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert result.stdout == b""
    # Nothing was sent.
    lines = watcher.sync()
    assert not any("leak" in l for l in lines), lines


@pytest.mark.parametrize("via", TLS_TARGETS)
def test_the_system_cas_do_not_know_a_self_signed_server(tls_server, via):
    result = run_client("chat", *TLS_TARGETS[via](tls_server), input="hi\n")
    assert result.returncode == 1
    assert "certificate is not trusted" in result.stderr.decode()


@pytest.mark.parametrize("via", TLS_TARGETS)
def test_insecure_skips_the_check(tls_server, via):
    watcher = tls_server.text()
    result = run_client("chat", *TLS_TARGETS[via](tls_server), "--insecure", "--nick", f"yolo{via}",
                        input="trusting anyone\n")
    assert result.returncode == 0, result.stderr
    watcher.expect(f"[lobby] yolo{via}: trusting anyone")


def test_a_certificate_for_another_name_is_refused(chatgate, certs):
    cert, key = certs["elsewhere"]
    srv = chatgate("--tls-cert", str(cert), "--tls-key", str(key))
    for args in (wss(srv), tls_tcp(srv, host="localhost")):
        result = run_client("chat", *args, "--ca", cert, input="hi\n")
        assert result.returncode == 1
        assert "hostname mismatch" in result.stderr.decode(), result.stderr
    # The address is checked too.
    result = run_client("chat", *tls_tcp(srv), "--ca", cert, input="hi\n")
    assert result.returncode == 1
    assert "IP address mismatch" in result.stderr.decode(), result.stderr


def test_tls_to_a_plain_port_says_so(tls_server):
    result = run_client("chat", "--tcp", f"127.0.0.1:{tls_server.tcp}", "--tls", "--insecure", input="hi\n")
    assert result.returncode == 1
    assert "the server does not speak TLS there" in result.stderr.decode(), result.stderr


@pytest.mark.parametrize("args, message", [
    (["--tcp", "127.0.0.1:7443", "--tls", "--ca", "/nonexistent/ca.pem"], "--ca /nonexistent/ca.pem"),
    (["--tcp", "127.0.0.1:7000", "--insecure"], "--insecure is for TLS"),
    (["--tcp", "127.0.0.1:7000", "--ca", "x.pem"], "--ca is for TLS"),
    (["--udp", "127.0.0.1:7000", "--tls"], "--udp excludes --tls"),
    (["--ws", "ws://127.0.0.1:8080/ws", "--tls"], "--ws excludes --tls"),
    (["--token", "not-a-jwt"], "--token: not a JSON Web Token"),
    (["--token", "{tok}", "--nick", "bob"], "--token and --nick contradict"),
])
def test_usage_errors(args, message):
    args = [a.replace("{tok}", token("bob")) for a in args]
    result = run_client("chat", *args)
    assert result.returncode == 2
    assert message in result.stderr.decode(), result.stderr


def test_a_ca_file_without_a_certificate(tmp_path):
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate\n")
    result = run_client("chat", "--ws", "wss://127.0.0.1:1/ws", "--ca", bogus)
    assert result.returncode == 2
    assert f"--ca {bogus}: no usable CA certificate in it" in result.stderr.decode(), result.stderr


# --------------------------------------------------------------------------
# --token


def plain(srv, via):
    return {"tcp": ["--tcp", f"127.0.0.1:{srv.tcp}"], "json": ["--tcp", f"127.0.0.1:{srv.tcp}", "--json"],
            "udp": ["--udp", f"127.0.0.1:{srv.udp}"], "ws": ["--ws", f"ws://127.0.0.1:{srv.http}/ws"]}[via]


VIAS = ["tcp", "json", "udp", "ws"]


@pytest.fixture(params=["optional", "required"])
def auth_server(request, chatgate):
    extra = ("--require-auth",) if request.param == "required" else ()
    return chatgate("--auth-secret", SECRET, *extra, *FAST)


@pytest.mark.parametrize("via", VIAS)
def test_token_gives_its_nick_on_every_transport(auth_server, via):
    member = auth_server.ws(path="/ws?token=" + token("member"))
    nick = f"tok{via}"
    result = run_client("chat", *plain(auth_server, via), "--token", token(nick, exp=int(time.time()) + 600),
                        "--room", "ops", input="signed and sealed\n")
    assert result.returncode == 0, result.stderr
    member.request({"type": "join", "room": "ops"})
    history = member.expect("history", room="ops")
    assert [(m["from"], m["text"]) for m in history["messages"]] == [(nick, "signed and sealed")], history


def test_token_over_tls_tcp_and_wss(tls_server, certs):
    watcher = tls_server.text()
    for via, args in (("wss", wss(tls_server)), ("tls", tls_tcp(tls_server))):
        result = run_client("chat", *args, "--ca", certs["ok"][0], "--token", token(f"sealed{via}"),
                            input=f"hi via {via}\n")
        assert result.returncode == 0, result.stderr
        watcher.expect(f"[lobby] sealed{via}: hi via {via}")


@pytest.mark.parametrize("via", VIAS)
def test_a_refused_token_ends_with_status_1(auth_server, via):
    watcher = auth_server.ws(path="/ws?token=" + token("member"))
    forged = token("mallory", secret="not-the-secret")
    result = run_client("chat", *plain(auth_server, via), "--token", forged, input="as a guest?\n")
    assert result.returncode == 1
    err = result.stderr.decode()
    if via == "ws" and auth_server.argv.count("--require-auth"):
        assert "refused the token (HTTP 401)" in err, err
    else:
        assert "the server refused the token: bad token: bad signature" in err, err
    assert not any(m.get("text") == "as a guest?" for m in watcher.sync()), "a refused client chatted"


def test_require_auth_without_a_token_says_so(chatgate):
    srv = chatgate("--auth-secret", SECRET, "--require-auth", *FAST)
    result = run_client("chat", "--ws", f"ws://127.0.0.1:{srv.http}/ws", input="hi\n")
    assert result.returncode == 1
    assert "requires a token (HTTP 401): use --token JWT" in result.stderr.decode(), result.stderr


def test_token_from_the_environment(auth_server):
    import subprocess
    from client_helpers import CLIENT, client_env
    watcher = auth_server.ws(path="/ws?token=" + token("member"))
    env = dict(client_env(), CHATGATE_TOKEN=token("fromenv"))
    result = subprocess.run([str(CLIENT), "chat", *plain(auth_server, "tcp")], input=b"hi from env\n",
                            capture_output=True, env=env, timeout=20)
    assert result.returncode == 0, result.stderr
    watcher.expect("message", text="hi from env", **{"from": "fromenv"})
    # The token is not on the command line.
    assert "--token" not in result.args
