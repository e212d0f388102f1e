"""Small clients for talking to a running chatgate over real sockets.

Every read takes a timeout and raises ReadTimeout with what was seen so far,
so a failing test says what the server did instead of hanging.
"""

import asyncio
import http.client
import itertools
import json
import re
import socket
import threading
import time

import websockets
import websockets.exceptions

HOST = "127.0.0.1"
# Generous: the suite runs on a shared, loaded 2-core machine.
TIMEOUT = 10.0

WELCOME_RE = re.compile(
    r"^\* welcome (?P<nick>[A-Za-z0-9_-]{1,24}), you are in #(?P<room>[a-z0-9_-]{1,32})\. "
    r"/help lists commands$"
)

# SPEC 9: right after the welcome, a UDP peer learns how to validate.
OK_PROMPT_RE = re.compile(r"^\* send /ok (?P<code>\S+) to receive everything$")
OK_CONFIRMED = "* validated, you receive everything now"

_refs = itertools.count(1)


def new_ref(prefix="r"):
    return f"{prefix}{next(_refs)}"


class ReadTimeout(AssertionError):
    """Nothing (or not the expected thing) arrived in time."""


class Closed(AssertionError):
    """The server closed the connection while we expected data."""


def _matcher(pred):
    if callable(pred):
        return pred
    if isinstance(pred, re.Pattern):
        return lambda line: pred.search(line) is not None
    return lambda line: line == pred


# --------------------------------------------------------------------------
# Text over TCP


class TextLines:
    """Matching over text lines, for any client with send() and read_line()."""

    def read_until(self, pred, timeout=None):
        """Read lines until one matches; returns (line, lines skipped)."""
        match = _matcher(pred)
        deadline = time.monotonic() + (timeout or self.timeout)
        skipped = []
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self.read_line(timeout=max(remaining, 0.001))
            except ReadTimeout:
                raise ReadTimeout(f"no line matching {pred!r}; got {skipped!r}") from None
            if match(line):
                return line, skipped
            skipped.append(line)

    def expect(self, pred, timeout=None):
        """Read until a line matches; returns that line."""
        return self.read_until(pred, timeout)[0]

    def sync(self, timeout=None):
        """All lines the server sends before it answers a marker command.

        The server handles one client's lines in order, so everything caused
        by earlier lines is already queued before the marker's answer.
        """
        marker = new_ref("sync")
        self.send(f"/nick ?{marker}")
        _, before = self.read_until(f"! bad nick: ?{marker}", timeout)
        return before


class LineSocket:
    """A TCP socket read as '\\n'-terminated lines (bytes)."""

    def __init__(self, port, host=HOST, rcvbuf=None, timeout=TIMEOUT):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.buf = b""
        self.eof = False
        self.timeout = timeout

    def send_raw(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
        self.buf += chunk

    def read_line_bytes(self, timeout=None):
        """One line without its '\\n'; raises Closed at EOF."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\n" not in self.buf:
            if self.eof:
                raise Closed(f"connection closed; unterminated rest: {self.buf[:200]!r}")
            try:
                self._fill(deadline)
            except socket.timeout:
                raise ReadTimeout(
                    f"no complete line within {timeout or self.timeout}s; "
                    f"buffered: {self.buf[:200]!r}") from None
        line, _, self.buf = self.buf.partition(b"\n")
        return line

    def wait_closed(self, timeout=None):
        """Read and discard until the server closes; True if it did in time."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while not self.eof:
            try:
                self._fill(deadline)
            except socket.timeout:
                return False
            self.buf = self.buf[-65536:]
        return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class TextClient(LineSocket, TextLines):
    """A terminal user on the TCP chat port."""

    def __init__(self, port, read_welcome=True, **kw):
        super().__init__(port, **kw)
        self.nick = None
        self.welcome = None
        if read_welcome:
            self.welcome = self.read_line()
            m = WELCOME_RE.match(self.welcome)
            assert m, f"unexpected welcome line: {self.welcome!r}"
            self.nick = m["nick"]
            self.room = m["room"]

    def send(self, text):
        self.send_raw(text.encode() + b"\n")

    def read_line(self, timeout=None):
        # Strict decoding: the server must only ever send valid UTF-8.
        return self.read_line_bytes(timeout).decode("utf-8")

    def rename(self, nick):
        self.send(f"/nick {nick}")
        self.expect(f"* {self.nick} is now known as {nick}")
        self.nick = nick


# --------------------------------------------------------------------------
# Text over UDP


class UdpClient(TextLines):
    """A UDP chat peer: one bound socket, so one (address, port) identity."""

    def __init__(self, port, host=HOST, timeout=TIMEOUT):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.connect((host, port))
        self.timeout = timeout
        self.lines = []
        self.nick = None
        self.code = None
        self.last_error_at = 0.0  # `! ` replies come at most once a second (SPEC 9)

    @property
    def address(self):
        return "%s:%d" % self.sock.getsockname()

    def send(self, text):
        self.sock.send(text.encode() if isinstance(text, str) else text)

    def read_datagram(self, timeout=None):
        self.sock.settimeout(timeout or self.timeout)
        try:
            return self.sock.recv(65536)
        except socket.timeout:
            raise ReadTimeout(f"no datagram within {timeout or self.timeout}s") from None

    def read_line(self, timeout=None):
        if not self.lines:
            data = self.read_datagram(timeout).decode("utf-8")
            parts = data.split("\n")
            if parts and parts[-1] == "":
                parts.pop()
            self.lines.extend(parts)
        line = self.lines.pop(0)
        if line.startswith("! "):
            self.last_error_at = time.monotonic()
        return line

    def hello(self, text=""):
        """First datagram: the server answers with a welcome, then the
        `* send /ok CODE ...` line (the code is kept for validate()).

        The default empty datagram causes nothing else; with other text,
        whatever else it caused is read and dropped.
        """
        self.send(text)
        welcome = self.expect(lambda l: l.startswith("* welcome "))
        m = WELCOME_RE.match(welcome)
        assert m, f"unexpected welcome line: {welcome!r}"
        self.nick = m["nick"]
        self.code = OK_PROMPT_RE.match(self.read_line())["code"]
        if text:
            self.sync()
        return welcome

    def validate(self):
        """`/ok CODE`: full service from now on (the room's history follows)."""
        self.send(f"/ok {self.code}")
        self.expect(OK_CONFIRMED)

    def sync(self, timeout=None):
        # The marker's answer is an error, and a UDP peer gets at most one
        # a second: leave room after the last one.
        wait = self.last_error_at + 1.1 - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.last_error_at = time.monotonic()
        return super().sync(timeout)

    def close(self):
        self.sock.close()


# --------------------------------------------------------------------------
# JSON clients (WebSocket and NDJSON share the reading helpers)


class JsonClient:
    timeout = TIMEOUT

    def __init__(self):
        self.pending = []
        self.nick = None
        self.welcome = None

    def _recv_raw(self, timeout):
        raise NotImplementedError

    def send(self, obj):
        raise NotImplementedError

    def recv(self, timeout=None):
        if self.pending:
            return self.pending.pop(0)
        raw = self._recv_raw(timeout or self.timeout)
        try:
            obj = json.loads(raw)
        except ValueError:
            raise AssertionError(f"server sent something that is not JSON: {raw[:300]!r}")
        assert isinstance(obj, dict) and isinstance(obj.get("type"), str), obj
        return obj

    def recv_until(self, pred, timeout=None):
        """Receive until pred(obj); returns (obj, objects skipped)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        skipped = []
        while True:
            remaining = deadline - time.monotonic()
            try:
                obj = self.recv(timeout=max(remaining, 0.001))
            except ReadTimeout:
                raise ReadTimeout(f"nothing matched; got {skipped!r}"[:3000]) from None
            if pred(obj):
                return obj, skipped
            skipped.append(obj)

    def expect(self, type_, timeout=None, **fields):
        """Receive until an object of this type with these field values."""
        def pred(o):
            return o["type"] == type_ and all(o.get(k) == v for k, v in fields.items())
        return self.recv_until(pred, timeout)[0]

    def request(self, obj, timeout=None):
        """Send obj with a fresh ref; returns the first answer carrying it."""
        ref = new_ref()
        self.send(dict(obj, ref=ref))
        return self.recv_until(lambda o: o.get("ref") == ref, timeout)[0]

    def sync(self, timeout=None):
        """Everything received before the answer to a marker request."""
        ref = new_ref("sync")
        self.send({"type": "rooms", "ref": ref})
        _, before = self.recv_until(
            lambda o: o["type"] == "rooms" and o.get("ref") == ref, timeout)
        return before

    def say(self, text, room="lobby", **extra):
        self.send(dict(type="say", room=room, text=text, **extra))

    def join(self, room, **extra):
        """Join and return the history that answers it."""
        ref = new_ref()
        self.send(dict(type="join", room=room, ref=ref, **extra))
        return self.recv_until(lambda o: o["type"] == "history" and o.get("ref") == ref)[0]

    def rename(self, nick):
        answer = self.request({"type": "nick", "nick": nick})
        assert answer["type"] == "nick" and answer["nick"] == nick, answer
        self.nick = nick

    def _take_welcome(self):
        self.welcome = self.expect("welcome")
        self.nick = self.welcome["nick"]


class _Loop:
    """One asyncio loop in a daemon thread, shared by every WebSocket client."""

    loop = None

    @classmethod
    def get(cls):
        if cls.loop is None:
            cls.loop = asyncio.new_event_loop()
            threading.Thread(target=cls.loop.run_forever, daemon=True).start()
        return cls.loop


def run(coro, timeout=60.0):
    """Run a coroutine on the shared loop from synchronous test code."""
    fut = asyncio.run_coroutine_threadsafe(coro, _Loop.get())
    try:
        return fut.result(timeout)
    except TimeoutError:
        fut.cancel()
        raise


async def ws_open(port, path="/ws", **kw):
    # No compression, so frame sizes on the wire are what the test wrote;
    # no queue limit or pings, so the client never applies backpressure.
    opts = dict(compression=None, max_size=None, max_queue=None,
                ping_interval=None, open_timeout=TIMEOUT, close_timeout=2)
    opts.update(kw)
    return await websockets.connect(f"ws://{HOST}:{port}{path}", **opts)


class WsClient(JsonClient):
    """A browser-like client on /ws."""

    def __init__(self, port, read_welcome=True, **kw):
        super().__init__()
        self.ws = run(ws_open(port, **kw))
        self.history = None
        if read_welcome:
            self._take_welcome()
            # Decision: the welcome is followed by the default room's history.
            self.history = self.expect("history")

    def send(self, obj):
        self.send_text(json.dumps(obj))

    def send_text(self, text):
        run(self.ws.send(text))

    def send_many(self, objs):
        """Send several requests back to back, in one go."""
        async def send_all():
            for obj in objs:
                await self.ws.send(json.dumps(obj))
        run(send_all())

    def _recv_raw(self, timeout):
        async def recv():
            return await asyncio.wait_for(self.ws.recv(), timeout)
        try:
            data = run(recv(), timeout + 5)
        except asyncio.TimeoutError:
            raise ReadTimeout(f"no frame within {timeout}s") from None
        except websockets.exceptions.ConnectionClosed as e:
            raise Closed(f"websocket closed: code={e.code} reason={e.reason!r}") from None
        assert isinstance(data, str), f"expected a text frame, got {data[:100]!r}"
        return data

    def wait_closed(self, timeout=None):
        """Wait for the server to close; returns the close code."""
        async def drain():
            try:
                while True:
                    await self.ws.recv()
            except websockets.exceptions.ConnectionClosed:
                pass
            await self.ws.wait_closed()
            return self.ws.close_code
        return run(asyncio.wait_for(drain(), timeout or self.timeout), (timeout or self.timeout) + 5)

    def close(self):
        try:
            run(self.ws.close(), 10)
        except Exception:
            pass


class NdjsonClient(JsonClient, LineSocket):
    """A program speaking NDJSON on the TCP chat port.

    mode="brace": wait for the text welcome, then send a JSON line (its first
    byte '{' switches the connection); mode="/json": send the command.
    """

    def __init__(self, port, mode="brace", **kw):
        JsonClient.__init__(self)
        LineSocket.__init__(self, port, **kw)
        text_welcome = self.read_line_bytes().decode()
        assert WELCOME_RE.match(text_welcome), text_welcome
        self.text_nick = WELCOME_RE.match(text_welcome)["nick"]
        if mode == "brace":
            self.send({"type": "rooms", "ref": "hello"})
        else:
            self.send_raw(b"/json\n")
            self.send({"type": "rooms", "ref": "hello"})
        # Keep everything up to the answer for the test to look at.
        self.switch_replies = []
        while True:
            obj = self.recv()
            self.switch_replies.append(obj)
            if obj.get("ref") == "hello":
                break
        welcomes = [o for o in self.switch_replies if o["type"] == "welcome"]
        self.welcome = welcomes[0] if welcomes else None
        self.nick = self.welcome["nick"] if self.welcome else self.text_nick

    def send(self, obj):
        self.send_raw(json.dumps(obj).encode() + b"\n")

    def send_many(self, objs):
        self.send_raw(b"".join(json.dumps(obj).encode() + b"\n" for obj in objs))

    def _recv_raw(self, timeout):
        try:
            return self.read_line_bytes(timeout).decode("utf-8")
        except Closed:
            raise

    def close(self):
        LineSocket.close(self)


# --------------------------------------------------------------------------
# HTTP, metrics, process


def http_get(port, path, timeout=TIMEOUT, headers=None):
    """Returns (status, headers dict with lower-case names, body bytes)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


_METRIC_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)")


def parse_metrics(text):
    """Prometheus text -> {'name{labels}': value}, labels as written."""
    values = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _METRIC_RE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        labels = m.group(2) or ""
        # Normalise label order so lookups do not depend on it.
        if labels:
            pairs = sorted(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels))
            labels = "{" + ",".join(f'{k}="{v}"' for k, v in pairs) + "}"
        values[m.group(1) + labels] = float(m.group(3))
    return values


def proc_status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def wait_for(cond, timeout=TIMEOUT, interval=0.05, what="condition"):
    """Poll cond() until truthy; returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)
