"""A real redis-server for cluster tests: a free loopback port, a temporary
directory, no persistence, never a system service. The test controls its
life: stop, kill -9, SIGSTOP/SIGCONT, restart on the same port."""

import os
import shutil
import signal
import socket
import subprocess
import time

START_LIMIT_S = 10.0


def find_binary():
    return os.environ.get("REDIS_SERVER") or shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self, workdir, binary, password=None, extra=()):
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.binary = binary
        self.password = password
        self.extra = list(extra)
        self.port = free_port()
        self.proc = None
        self.start()

    def url(self, db=None):
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}" + (f"/{db}" if db is not None else "")

    def start(self):
        """Starts (again, on the same port) and waits until it answers PING."""
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.workdir), "--daemonize", "no",
                "--logfile", str(self.workdir / "redis.log"), *self.extra]
        if self.password:
            argv += ["--requirepass", self.password]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_LIMIT_S
        while True:
            try:
                self.command("PING")
                return self
            except (OSError, RedisError) as e:
                if "NOAUTH" in str(e):
                    return self
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"redis-server did not start on {self.port}: {e}\n"
                                         + self.log()[-2000:])
                time.sleep(0.02)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM, as an operator would."""
        self._end(signal.SIGTERM)

    def kill(self):
        """kill -9: no goodbye to anyone."""
        self._end(signal.SIGKILL)

    def pause(self):
        """SIGSTOP: connections stay open, nothing answers."""
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)

    def restart(self):
        self.kill()
        return self.start()

    def _end(self, sig):
        if not self.running():
            return
        self.proc.send_signal(signal.SIGCONT)
        self.proc.send_signal(sig)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def log(self):
        try:
            return (self.workdir / "redis.log").read_text(errors="replace")
        except OSError:
            return ""

    def command(self, *args, timeout=5.0):
        """One command on a fresh connection (AUTH first when needed); the
        decoded reply: str, int, None, list; a Redis error raises RedisError."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            f = s.makefile("rb")
            if self.password:
                s.sendall(_encode(["AUTH", self.password]))
                _read(f)
            s.sendall(_encode(args))
            return _read(f)


class RedisError(Exception):
    pass


def _encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


def _read(f):
    line = f.readline()
    if not line:
        raise OSError("redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RedisError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode(errors="replace")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read(f) for _ in range(n)]
    raise OSError(f"bad reply from redis: {line!r}")


class RedisProxy:
    """A TCP proxy in front of a RedisServer, to make a node's subscription
    deaf: `deafen(name)` stops passing what Redis sends to the connection
    that named itself `name` (CLIENT SETNAME), without closing anything, as
    a stuck proxy or NAT would. New connections pass again."""

    def __init__(self, redis):
        import threading
        self.redis = redis
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.conns = []  # dicts: client, upstream, name, deaf, closed_by_client
        self.open = True
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def _accept(self):
        import threading
        while self.open:
            try:
                client, _ = self.listener.accept()
                upstream = socket.create_connection(("127.0.0.1", self.redis.port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                continue
            conn = {"client": client, "upstream": upstream, "name": b"", "deaf": False,
                    "closed_by_client": False}
            with self.lock:
                self.conns.append(conn)
            threading.Thread(target=self._pump, args=(conn, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(conn, False), daemon=True).start()

    def _pump(self, conn, upward):
        src, dst = (conn["client"], conn["upstream"]) if upward else (conn["upstream"], conn["client"])
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                if upward:
                    conn["closed_by_client"] = True
                for s in (conn["client"], conn["upstream"]):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                return
            if upward and len(conn["name"]) < 4096:
                conn["name"] += data  # the first commands: AUTH, SELECT, CLIENT SETNAME
            if not upward and conn["deaf"]:
                continue  # swallowed: the connection stays open and hears nothing
            try:
                dst.sendall(data)
            except OSError:
                return

    def deafen(self, name):
        """Makes every open connection that named itself `name` deaf; returns them."""
        with self.lock:
            hit = [c for c in self.conns if name.encode() in c["name"] and not c["closed_by_client"]]
        for c in hit:
            c["deaf"] = True
        return hit

    def close(self):
        self.open = False
        self.listener.close()
        with self.lock:
            for c in self.conns:
                for s in (c["client"], c["upstream"]):
                    try:
                        s.close()
                    except OSError:
                        pass
