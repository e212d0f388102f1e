"""chatgate-client in a real terminal (tmux): messages that arrive while
the user types are printed above the line being typed, which stays intact."""

import os
import shlex
import shutil
import subprocess
import time

import pytest

from client_helpers import CLIENT, TIMEOUT

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (apt-get install tmux)")

COLUMNS, ROWS = 80, 24


class Terminal:
    """One tmux pane on a private tmux server, running a shell command."""

    def __init__(self, workdir, command):
        self.socket = f"chatgate-client-test-{os.getpid()}-{id(self)}"
        self.workdir = workdir
        # Keep the pane after the client exits, with its exit status and the
        # terminal settings from before and after it.
        script = (f"stty -g > before; {command}; echo $? > status; stty -g > after; "
                  f"exec sleep 600")
        self.tmux("new-session", "-d", "-x", str(COLUMNS), "-y", str(ROWS), "-c", str(workdir),
                  "sh", "-c", script)
        self.socket_path = self.tmux("display-message", "-p", "#{socket_path}").strip()

    def tmux(self, *args):
        return subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                              check=True, stdout=subprocess.PIPE, env={**os.environ, "TERM": "xterm"},
                              timeout=TIMEOUT).stdout.decode()

    def type(self, text):
        self.tmux("send-keys", "-l", text)

    def keys(self, *names):
        self.tmux("send-keys", *names)

    def screen(self):
        # tmux drops trailing blanks: "#lobby> " shows as "#lobby>".
        lines = [l.rstrip() for l in self.tmux("capture-pane", "-p").split("\n")]
        while lines and not lines[-1]:
            lines.pop()
        return lines

    def wait_screen(self, pred, what, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            lines = self.screen()
            if pred(lines):
                return lines
            if time.monotonic() > deadline:
                raise AssertionError(f"screen never showed {what}:\n" + "\n".join(lines))
            time.sleep(0.05)

    def wait_exit(self, timeout=TIMEOUT):
        status = self.workdir / "status"
        deadline = time.monotonic() + timeout
        while not status.exists() or not status.read_text().strip():
            if time.monotonic() > deadline:
                raise AssertionError("the client did not exit:\n" + "\n".join(self.screen()))
            time.sleep(0.05)
        time.sleep(0.1)  # "after" is written just after
        return int(status.read_text())

    def settings_restored(self):
        return (self.workdir / "before").read_text() == (self.workdir / "after").read_text()

    def close(self):
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], stderr=subprocess.DEVNULL)
        # tmux leaves its socket file behind.
        if self.socket_path:
            try:
                os.unlink(self.socket_path)
            except FileNotFoundError:
                pass


@pytest.fixture
def terminal(tmp_path):
    opened = []

    def open_terminal(*args):
        workdir = tmp_path / f"tty{len(opened)}"
        workdir.mkdir()
        t = Terminal(workdir, " ".join(shlex.quote(str(a)) for a in [CLIENT, *args]))
        opened.append(t)
        return t

    yield open_terminal
    for t in opened:
        t.close()


def last_line(expected):
    return lambda lines: bool(lines) and lines[-1] == expected.rstrip()


def test_incoming_message_does_not_break_the_line_being_typed(server, terminal):
    browser = server.ws()
    browser.rename("browser")
    tty = terminal("chat", "--tcp", f"127.0.0.1:{server.tcp}", "--nick", "typist")
    browser.expect("nick", nick="typist")
    tty.wait_screen(last_line("#lobby> "), "the prompt")

    tty.type("hello wor")
    tty.wait_screen(last_line("#lobby> hello wor"), "the partial input")
    browser.say("incoming while you type")
    lines = tty.wait_screen(lambda l: "[lobby] browser: incoming while you type" in l,
                            "the incoming message")
    # Printed above the input, which is redrawn as it was.
    assert lines[-2:] == ["[lobby] browser: incoming while you type", "#lobby> hello wor"], lines

    tty.type("ld")
    tty.keys("Enter")
    msg = browser.expect("message", **{"from": "typist"})
    assert msg["text"] == "hello world"
    lines = tty.wait_screen(last_line("#lobby> "), "a fresh prompt")
    assert lines[-2] == "#lobby> hello world"  # the sent line stays on screen

    # Line editing: backspace over whole UTF-8 characters, left/right ignored.
    tty.type("fix: tpyé✓")
    tty.keys("BSpace", "BSpace", "BSpace", "BSpace", "Left", "Right")
    tty.type("ypo ✓")
    tty.keys("Enter")
    assert browser.expect("message", **{"from": "typist"})["text"] == "fix: typo ✓"

    tty.keys("C-d")
    assert tty.wait_exit() == 0
    assert tty.settings_restored()


def test_long_input_scrolls_instead_of_wrapping(server, terminal):
    browser = server.ws()
    browser.rename("browser")
    tty = terminal("chat", "--tcp", f"127.0.0.1:{server.tcp}", "--nick", "longtypist")
    browser.expect("nick", nick="longtypist")
    tty.wait_screen(last_line("#lobby> "), "the prompt")
    text = "".join(chr(ord("a") + i % 26) for i in range(150))
    tty.type(text)
    # One screen line: the prompt and the end of the input that fits.
    tty.wait_screen(lambda l: l and l[-1].startswith("#lobby> ") and l[-1].endswith(text[-20:]),
                    "the end of the long input")
    browser.say("ping")
    lines = tty.wait_screen(lambda l: "[lobby] browser: ping" in l, "the incoming message")
    assert lines[-2] == "[lobby] browser: ping"
    assert lines[-1].startswith("#lobby> ") and text.endswith(lines[-1][len("#lobby> "):])
    assert len(lines[-1]) < COLUMNS
    tty.keys("Enter")
    assert browser.expect("message", **{"from": "longtypist"})["text"] == text
    tty.type("/quit")
    tty.keys("Enter")
    assert tty.wait_exit() == 0
    assert tty.settings_restored()


def test_websocket_session_in_a_terminal(server, terminal):
    browser = server.ws()
    browser.rename("browser")
    tty = terminal("chat", "--ws", f"ws://127.0.0.1:{server.http}/ws", "--nick", "wsuser",
                   "--room", "dev")
    browser.join("dev")
    tty.wait_screen(last_line("#dev> "), "the prompt in #dev")
    tty.type("/wh")
    browser.say("from the browser", room="dev")
    lines = tty.wait_screen(lambda l: "[dev] browser (ws): from the browser" in l,
                            "the incoming message")
    assert lines[-1] == "#dev> /wh"
    tty.type("o")
    tty.keys("Enter")
    tty.wait_screen(lambda l: "* wsuser (ws)" in l and "* browser (ws)" in l, "the /who answer")
    tty.keys("C-c")
    assert tty.wait_exit() == 0
    assert tty.settings_restored()
    browser.expect("left", room="dev", nick="wsuser")


def test_two_terminals_and_a_browser(server, terminal):
    """The issue's "done when": chat over TCP and over UDP, side by side,
    with a browser in the same room."""
    browser = server.ws()
    browser.rename("browser")
    over_tcp = terminal("chat", "--tcp", f"127.0.0.1:{server.tcp}", "--nick", "ann")
    over_udp = terminal("chat", "--udp", f"127.0.0.1:{server.udp}", "--nick", "bob")
    # The two terminals start side by side: their renames reach the browser
    # in either order (expecting ann's first threw bob's away when bob won).
    renamed = set()

    def both_renamed(event):
        if event["type"] == "nick":
            renamed.add(event["nick"])
        return {"ann", "bob"} <= renamed

    browser.recv_until(both_renamed)
    over_tcp.wait_screen(last_line("#lobby> "), "ann's prompt")
    over_udp.wait_screen(last_line("#lobby> "), "bob's prompt")

    over_tcp.type("hi bob")
    over_tcp.keys("Enter")
    over_udp.wait_screen(lambda l: "[lobby] ann: hi bob" in l, "ann's message at bob's")
    over_udp.type("hi ann")
    over_udp.keys("Enter")
    over_tcp.wait_screen(lambda l: "[lobby] bob: hi ann" in l, "bob's message at ann's")
    browser.say("hi both")
    for tty in (over_tcp, over_udp):
        tty.wait_screen(lambda l: "[lobby] browser: hi both" in l, "the browser's message")
    got = [(m["from"], m["via"], m["text"]) for m in browser.sync()
           if m["type"] == "message" and m["from"] != "browser"]
    assert got == [("ann", "tcp", "hi bob"), ("bob", "udp", "hi ann")]

    over_udp.type("/who")
    over_udp.keys("Enter")
    over_udp.wait_screen(lambda l: {"* ann (tcp)", "* bob (udp)", "* browser (ws)"} <= set(l),
                         "everyone in /who")
    for tty in (over_tcp, over_udp):
        tty.type("exit")
        tty.keys("Enter")
        assert tty.wait_exit() == 0
        assert tty.settings_restored()


def test_up_and_down_recall_sent_lines(server, terminal):
    browser = server.ws()
    browser.rename("browser")
    tty = terminal("chat", "--tcp", f"127.0.0.1:{server.tcp}", "--nick", "historian")
    browser.expect("nick", nick="historian")
    tty.wait_screen(last_line("#lobby> "), "the prompt")
    for text in ("first line", "second line"):
        tty.type(text)
        tty.keys("Enter")
        assert browser.expect("message", **{"from": "historian"})["text"] == text
    tty.type("draft")
    tty.keys("Up")
    tty.wait_screen(last_line("#lobby> second line"), "the last line sent")
    tty.keys("Up")
    tty.wait_screen(last_line("#lobby> first line"), "the line before")
    tty.keys("Up")  # nothing older: stays
    tty.keys("Down")
    tty.wait_screen(last_line("#lobby> second line"), "down again")
    tty.keys("Down")
    tty.wait_screen(last_line("#lobby> draft"), "the line being typed, kept")
    tty.keys("Up", "Up")
    tty.wait_screen(last_line("#lobby> first line"), "the first line again")
    tty.type(" again")
    tty.keys("Enter")
    assert browser.expect("message", **{"from": "historian"})["text"] == "first line again"
    tty.keys("C-d")
    assert tty.wait_exit() == 0
    assert tty.settings_restored()


def test_terminal_reconnects_by_itself(chatgate, terminal):
    import signal
    first = chatgate()
    tty = terminal("chat", "--ws", f"ws://127.0.0.1:{first.http}/ws", "--nick", "comeback",
                   "--room", "ops")
    tty.wait_screen(last_line("#ops> "), "the prompt in #ops")
    tty.type("half typed")
    assert first.stop(signal.SIGTERM)[0] == 0
    second = chatgate("--http-port", str(first.http), "--tcp-port", str(first.tcp),
                      "--udp-port", str(first.udp), "--echo-port", str(first.echo),
                      "--irc-port", str(first.irc))
    lines = tty.wait_screen(
        lambda l: f"* reconnected to ws://127.0.0.1:{first.http}/ws as comeback in #ops" in l,
        "the reconnect notice")
    assert any(l.startswith("* connection lost (the server is shutting down") for l in lines), lines
    # What was being typed survived, and goes to #ops on the new server.
    tty.wait_screen(last_line("#ops> half typed"), "the input line, intact")
    browser = second.ws()
    browser.join("ops")
    tty.keys("Enter")
    msg = browser.expect("message", **{"from": "comeback"})
    assert (msg["room"], msg["text"]) == ("ops", "half typed")
    tty.keys("C-d")
    assert tty.wait_exit() == 0
    assert tty.settings_restored()
