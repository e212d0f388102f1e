"""SPEC 9, Telnet: the TCP chat port understands enough of RFC 854 for
Debian's `telnet` client. IAC sequences are never text; option requests are
refused, except DO TIMING-MARK, answered WILL TIMING-MARK; Ctrl-C does no
harm and the session goes on; UTF-8 arrives intact; the server never starts
a negotiation, so nc users never see IAC bytes."""

import json
import os
import re
import shutil
import subprocess
import time
import uuid

import pytest

import chatgate_client as cc

IAC, DONT, DO, WONT, WILL, SB, SE = b"\xff", b"\xfe", b"\xfd", b"\xfc", b"\xfb", b"\xfa", b"\xf0"
IP, AO, BRK, AYT, NOP, DM = b"\xf4", b"\xf5", b"\xf3", b"\xf6", b"\xf1", b"\xf2"
TM, ECHO, SGA, TTYPE, NAWS = b"\x06", b"\x01", b"\x03", b"\x18", b"\x1f"
CTRL_C = IAC + IP + IAC + DO + TM  # what Debian's telnet sends for Ctrl-C


def read_bytes_until(client, marker, timeout=10.0):
    """Everything the server sent up to and including marker."""
    deadline = time.monotonic() + timeout
    while marker not in client.buf:
        assert not client.eof, f"closed; got {client.buf!r}"
        try:
            client._fill(deadline)
        except TimeoutError:
            raise cc.ReadTimeout(f"no {marker!r} within {timeout}s; got {client.buf!r}") from None
    before, _, client.buf = client.buf.partition(marker)
    return before


def messages_from(listener, nick):
    """Messages from nick that arrived before a sync."""
    return [o["text"] for o in listener.sync() if o["type"] == "message" and o["from"] == nick]


def test_ctrl_c_gets_timing_mark_and_posts_nothing(server):
    listener = server.ws()
    t = server.text()
    t.send_raw(b"before\r\n")
    assert listener.expect("message", **{"from": t.nick})["text"] == "before"
    t.send_raw(CTRL_C)
    # The answer telnet waits for; it discards our output until then.
    before = read_bytes_until(t, IAC + WILL + TM)
    assert IAC not in before and (before == b"" or before.endswith(b"\n")), before
    assert messages_from(listener, t.nick) == []
    # The session goes on: lines after Ctrl-C are posted, and seen by telnet.
    t.send_raw(b"after\r\n")
    assert listener.expect("message", **{"from": t.nick})["text"] == "after"
    listener.say("answer from the web")
    assert t.expect(re.compile(r"answer from the web")).endswith(": answer from the web")


def test_ctrl_c_in_the_middle_of_a_line(server):
    listener = server.ws()
    t = server.text()
    # Typed "abc", Ctrl-C, then a new line: the bytes around the
    # commands are data, the commands are not.
    t.send_raw(b"abc" + CTRL_C + b"def\r\n")
    read_bytes_until(t, IAC + WILL + TM)
    assert listener.expect("message", **{"from": t.nick})["text"] == "abcdef"


def test_option_requests_are_refused(server):
    t = server.text()
    t.send_raw(IAC + WILL + TTYPE + IAC + WILL + NAWS + IAC + DO + ECHO + IAC + DO + SGA)
    replies = read_bytes_until(t, IAC + WONT + SGA) + IAC + WONT + SGA
    assert replies == IAC + DONT + TTYPE + IAC + DONT + NAWS + IAC + WONT + ECHO + IAC + WONT + SGA
    # Refusals are never answered (no negotiation loop), and the session works.
    t.send_raw(IAC + WONT + ECHO + IAC + DONT + SGA + b"/who\r\n")
    lines = t.sync()
    assert f"* {t.nick} (tcp)" in lines, lines
    assert IAC not in t.buf


def test_other_commands_do_no_harm(server):
    listener = server.ws()
    t = server.text()
    for cmd in (IP, AO, BRK, AYT, NOP, DM):
        t.send_raw(b"x" + IAC + cmd + b"y\r\n")
        assert listener.expect("message", **{"from": t.nick})["text"] == "xy"
    # A subnegotiation is skipped whole, and IAC IAC is a (repaired) 0xFF.
    t.send_raw(IAC + SB + TTYPE + b"\x00xterm" + IAC + SE + b"sub" + IAC + IAC + b"neg\r\n")
    assert listener.expect("message", **{"from": t.nick})["text"] == "sub\ufffdneg"
    # No reply to any of these; sync() decodes strictly, so an IAC would fail it.
    t.sync()
    assert IAC not in t.buf


def test_commands_split_across_reads(server):
    listener = server.ws()
    t = server.text()
    for piece in (b"sp", IAC, DO, TM + b"li", IAC, IP + b"t\xc3", b"\xa9\r", b"\n"):
        t.send_raw(piece)
        time.sleep(0.05)
    read_bytes_until(t, IAC + WILL + TM)
    assert listener.expect("message", **{"from": t.nick})["text"] == "split\u00e9"


def test_utf8_typed_in_telnet_arrives_intact(server):
    listener = server.ws()
    t, other = server.text(), server.text()
    t.send_raw("héllo wörld ✓\r\n".encode())
    assert listener.expect("message", **{"from": t.nick})["text"] == "héllo wörld ✓"
    assert other.expect(re.compile(r"^\[lobby\] ")) == f"[lobby] {t.nick}: héllo wörld ✓"


def test_plain_clients_never_see_iac(server):
    listener = server.ws()
    a, b = server.text(), server.text()
    a.send_raw(b"plain line\n")
    a.send_raw("/nick plain-user\n".encode())
    listener.expect("message", text="plain line")
    b.send_raw(b"/who\n/rooms\n/help\n")
    b.sync()
    a.sync()
    b.close()
    a.send_raw(b"bye\n")
    listener.expect("message", text="bye")
    seen = a.buf + b"".join(l.encode() for l in a.sync())
    assert IAC not in seen


def test_ndjson_is_untouched_and_survives_ctrl_c(server):
    """Valid JSON never holds a 0xFF byte, so the decoder never changes an
    NDJSON stream; a telnet user who typed /json can still press Ctrl-C."""
    listener = server.ws()
    nd = server.ndjson()
    text = "\u00ff\u00fe \u2713 \u00dc"  # C3 BF, C3 BE: never a bare FF or FE
    line = json.dumps({"type": "say", "room": "lobby", "text": text}, ensure_ascii=False)
    nd.send_raw(line.encode() + b"\n")
    assert listener.expect("message", **{"from": nd.nick})["text"] == text
    nd.send_raw(CTRL_C)
    read_bytes_until(nd, IAC + WILL + TM)
    assert nd.request({"type": "rooms"})["type"] == "rooms"


# --------------------------------------------------------------------------
# Debian's telnet client, in a terminal (tmux)


class Tmux:
    def __init__(self, name):
        self.name = name

    def run(self, *args, check=True):
        return subprocess.run(["tmux", "-L", self.name, *args], check=check,
                              capture_output=True, text=True, timeout=10)

    def keys(self, *keys):
        self.run("send-keys", "-t", self.name, *keys)

    def type_line(self, text):
        self.run("send-keys", "-t", self.name, "-l", text)
        self.keys("Enter")

    def screen(self):
        return self.run("capture-pane", "-p", "-t", self.name, "-S", "-200").stdout

    def wait_screen(self, pattern, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.screen()):
                return
            time.sleep(0.1)
        raise AssertionError(f"{pattern!r} not on the telnet screen:\n{self.screen()}")


@pytest.fixture
def tmux():
    if not shutil.which("tmux") or not shutil.which("telnet"):
        pytest.skip("needs tmux and telnet (apt-get install tmux telnet)")
    t = Tmux(f"chatgate-{uuid.uuid4().hex[:8]}")
    yield t
    t.run("kill-server", check=False)


def test_debian_telnet_client(server, tmux):
    listener = server.ws()
    env_term = {"TERM": "xterm", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    tmux.run("-f", "/dev/null", "new-session", "-d", "-s", tmux.name, "-x", "200", "-y", "50",
             "env", *[f"{k}={v}" for k, v in env_term.items()],
             "telnet", "127.0.0.1", str(server.tcp))
    tmux.wait_screen(r"\* welcome guest-\d+")
    nick = re.search(r"\* welcome (guest-\d+)", tmux.screen())[1]

    tmux.type_line("first line")
    assert listener.expect("message", **{"from": nick})["text"] == "first line"

    # Ctrl-C: telnet sends IAC IP IAC DO TIMING-MARK and discards our output
    # until WILL TIMING-MARK arrives; nothing reaches the room.
    tmux.keys("C-c")
    time.sleep(0.5)
    assert messages_from(listener, nick) == []

    tmux.type_line("after ctrl-c")
    assert listener.expect("message", **{"from": nick})["text"] == "after ctrl-c"
    # telnet shows what others say again: it got its TIMING-MARK.
    listener.say("the web says hi")
    tmux.wait_screen(r": the web says hi")

    tmux.type_line("héllo wörld ✓")
    assert listener.expect("message", **{"from": nick})["text"] == "héllo wörld ✓"
    # Characters whose UTF-8 holds a byte telnet mistakes for a key (0x9C,
    # 0x83, 0x9A, 0x8F: ^\, ^C, ^Z, ^O with the eighth bit set).
    tmux.type_line("Übung Ãé Ú Ï ✓")
    assert listener.expect("message", **{"from": nick})["text"] == "Übung Ãé Ú Ï ✓"
    tmux.type_line("/nick telnetuser")
    listener.expect("nick", nick="telnetuser")
    screen = tmux.screen()
    assert "\ufffd" not in screen and "^C" not in screen.split("after ctrl-c")[-1], screen
