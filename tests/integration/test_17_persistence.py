"""SPEC 10: --db keeps history, ids and topics across restarts and crashes."""

import contextlib
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import threading
import time

import pytest

import chatgate_client as cc
from conftest import BINARY, FAST

ROOMS = ("alpha", "beta", "gamma")
# Schema 3: a message's key is its room's number << 40 | its id.
ID_MASK = (1 << 40) - 1


def say_and_ack(client, room, texts):
    """Sends texts to room; returns the ids of the acknowledging copies."""
    client.send_many([{"type": "say", "room": room, "text": t, "ref": f"{room}-{i}"}
                      for i, t in enumerate(texts)])
    ids = []
    for i, t in enumerate(texts):
        ack = client.recv_until(lambda o: o.get("ref") == f"{room}-{i}")[0]
        assert ack["type"] == "message" and ack["text"] == t, ack
        ids.append(ack["id"])
    return ids


def fill(server, per_room=30):
    """Messages in several rooms; returns {room: [(id, text)]}."""
    a = server.ndjson()
    a.rename("writer")
    sent = {}
    for room in ROOMS:
        a.join(room)
        texts = [f"{room} message {i}" for i in range(1, per_room + 1)]
        ids = say_and_ack(a, room, texts)
        assert ids == list(range(1, per_room + 1))
        sent[room] = list(zip(ids, texts))
    return sent


def kill9(server):
    server.proc.send_signal(signal.SIGKILL)
    server.returncode = server.proc.wait(10)
    server.close_clients()


def check_restored(server, sent, history):
    b = server.ndjson()
    for room, msgs in sent.items():
        h = b.join(room)
        got = [(m["id"], m["text"]) for m in h["messages"]]
        assert got == msgs[-history:], room
        assert all(m["from"] == "writer" and m["via"] == "tcp" and m["room"] == room
                   for m in h["messages"])
        # `since` older than the in-memory history reaches the disk.
        h = b.join(room, since=3)
        assert [(m["id"], m["text"]) for m in h["messages"]] == msgs[3:], room
        h = b.join(room, since=len(msgs) - 2)
        assert [m["id"] for m in h["messages"]] == [len(msgs) - 1, len(msgs)]
        # The next id continues; none is reused.
        assert say_and_ack(b, room, [f"{room} after restart"]) == [len(msgs) + 1]
    return b


@pytest.mark.parametrize("how", ["kill -9", "SIGTERM"])
def test_restart_keeps_history_ids_and_since(chatgate, tmp_path, how):
    db = tmp_path / "chat.db"
    s = chatgate("--db", str(db), "--history", "10", *FAST)
    sent = fill(s)
    if how == "kill -9":
        kill9(s)
    else:
        assert s.stop() [0] == 0
    s2 = chatgate("--db", str(db), "--history", "10", *FAST)
    check_restored(s2, sent, history=10)
    # And once more: the ids written after the restart survive too.
    kill9(s2)
    s3 = chatgate("--db", str(db), "--history", "10", *FAST)
    c = s3.ndjson()
    h = c.join("alpha", since=29)
    assert [(m["id"], m["text"]) for m in h["messages"]] == [
        (30, "alpha message 30"), (31, "alpha after restart")]


def test_text_history_after_restart(chatgate, tmp_path):
    db = tmp_path / "chat.db"
    s = chatgate("--db", str(db), *FAST)
    t = s.text()
    t.rename("terminal")
    t.send("/me waves")
    t.send("hello from the terminal")
    t.sync()
    kill9(s)
    s2 = chatgate("--db", str(db), *FAST)
    u = s2.text()
    lines = u.sync()
    assert "[lobby] * terminal waves" in lines
    assert "[lobby] terminal: hello from the terminal" in lines


def test_retention_keeps_the_last_n_per_room(chatgate, tmp_path):
    db = tmp_path / "chat.db"
    s = chatgate("--db", str(db), "--db-retain", "50", "--history", "10", *FAST)
    a = s.ndjson()
    a.join("kept")
    for chunk in range(4):
        say_and_ack(a, "kept", [f"m{chunk * 50 + i}" for i in range(50)])
    h = a.join("kept", since=1)
    assert [m["id"] for m in h["messages"]] == list(range(151, 201))
    assert s.stop()[0] == 0
    with sqlite3.connect(db) as con:
        assert con.execute(f"SELECT count(*), min(key) & {ID_MASK}, max(key) & {ID_MASK} FROM messages "
                           f"WHERE key >> 40 = (SELECT no FROM rooms WHERE name='kept')"
                           ).fetchone() == (50, 151, 200)
        assert con.execute("PRAGMA user_version").fetchone() == (3,)


def test_topic_survives_kill9(chatgate, tmp_path):
    db = tmp_path / "chat.db"
    s = chatgate("--db", str(db), *FAST)
    a = s.ndjson()
    a.rename("carol")
    a.join("dev")
    say_and_ack(a, "dev", ["before the topic"])
    set_ = a.request({"type": "topic", "room": "dev", "topic": "Release on Friday"})
    assert set_["type"] == "topic" and set_["topic"] == "Release on Friday", set_
    kill9(s)
    s2 = chatgate("--db", str(db), *FAST)
    b = s2.ndjson()
    # A join brings the kept topic back, just before the history.
    b.send({"type": "join", "room": "dev", "ref": "j"})
    history, before = b.recv_until(lambda o: o["type"] == "history" and o.get("ref") == "j")
    topics = [o for o in before if o["type"] == "topic"]
    assert [(t["room"], t["topic"], t["by"], t["ts"]) for t in topics] == [
        ("dev", "Release on Friday", "carol", set_["ts"])]
    assert [m["text"] for m in history["messages"]] == ["before the topic"]
    # Asked for, too; and the topic did not move the ids.
    got = b.request({"type": "topic", "room": "dev"})
    assert (got["topic"], got["by"]) == ("Release on Friday", "carol")
    assert say_and_ack(b, "dev", ["after"]) == [2]


# Schema version 1, as the first chatgate with --db wrote it.
SCHEMA_V1 = """
CREATE TABLE rooms (name TEXT PRIMARY KEY, last_id INTEGER NOT NULL, topic TEXT, topic_by TEXT,
                    topic_ts INTEGER) WITHOUT ROWID;
CREATE TABLE messages (room TEXT NOT NULL, id INTEGER NOT NULL, ts INTEGER NOT NULL,
                       nick TEXT NOT NULL, via TEXT NOT NULL, me INTEGER NOT NULL DEFAULT 0,
                       text TEXT NOT NULL, PRIMARY KEY (room, id)) WITHOUT ROWID;
"""


SCHEMA_V2 = SCHEMA_V1 + """
CREATE TABLE reserved_nicks (folded TEXT PRIMARY KEY, nick TEXT NOT NULL, since INTEGER NOT NULL) WITHOUT ROWID;
"""


def test_schema_2_is_migrated_to_integer_keys(chatgate, tmp_path):
    """Schema 2 stored rows over ~1 KB on overflow pages; 3 rewrites them."""
    db = tmp_path / "v2.db"
    rooms = {"zeta": 40, "alpha": 3, "mid": 25}
    with sqlite3.connect(db) as con:
        con.executescript(SCHEMA_V2)
        for room, n in rooms.items():
            con.execute("INSERT INTO rooms VALUES (?, ?, NULL, NULL, NULL)", (room, n))
            con.executemany("INSERT INTO messages VALUES (?, ?, ?, 'eve', 'ws', ?, ?)",
                            [(room, i, 1700000000000 + i, i % 2, f"{room} {i} " + "k" * 1000)
                             for i in range(1, n + 1)])
        con.execute("INSERT INTO rooms VALUES ('quiet', 0, 'only a topic', 'eve', 1700000000000)")
        con.execute("INSERT INTO reserved_nicks VALUES ('eve', 'Eve', 1700000000000)")
        con.execute("PRAGMA user_version=2")
    con.close()
    s = chatgate("--db", str(db), "--history", "10", *FAST)
    assert "schema migrated to version 3" in s.stderr()
    a = s.ws()
    for room, n in rooms.items():
        h = a.join(room, since=1)
        assert [(m["id"], m["text"], m["from"], m.get("me", False)) for m in h["messages"]] == [
            (i, f"{room} {i} " + "k" * 1000, "eve", i % 2 == 1) for i in range(2, n + 1)], room
        assert say_and_ack(a, room, [f"{room} in v3"]) == [n + 1]
    a.join("quiet")
    assert a.request({"type": "topic", "room": "quiet"})["topic"] == "only a topic"
    assert say_and_ack(a, "quiet", ["first"]) == [1]
    assert s.stop()[0] == 0
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert con.execute("SELECT nick FROM reserved_nicks").fetchall() == [("Eve",)]
    nos = dict(con.execute("SELECT name, no FROM rooms"))
    assert len(set(nos.values())) == 4 and all(nos.values())
    con.close()


def test_a_kilobyte_message_takes_about_a_kilobyte_on_disk(chatgate, tmp_path):
    db = tmp_path / "chat.db"
    s = chatgate("--db", str(db), *FAST)
    a = s.ws()
    for chunk in range(6):
        say_and_ack(a, "lobby", [f"{chunk}.{i} " + "s" * 1000 for i in range(50)])
    assert s.stop()[0] == 0  # the last connection checkpoints the WAL into the file
    assert not os.path.exists(str(db) + "-wal") or os.path.getsize(str(db) + "-wal") == 0
    per_message = os.path.getsize(db) / 300
    assert per_message < 1500, per_message  # schema 2 took 4.7 KB (an overflow page each)


def test_room_numbers_and_ids_run_out_as_unavailable(chatgate, tmp_path):
    db = tmp_path / "chat.db"
    s = chatgate("--db", str(db), *FAST)
    a = s.ws()
    a.join("full")
    say_and_ack(a, "full", ["one"])
    assert s.stop()[0] == 0
    with sqlite3.connect(db) as con:
        # The last room number there is (keys are 63 bits: 23 for the room),
        # and a room two ids short of the last (40 bits).
        con.execute("INSERT INTO rooms(name, last_id, no) VALUES ('lobby', 0, ?)", ((1 << 23) - 1,))
        con.execute("UPDATE rooms SET last_id = ? WHERE name = 'full'", ((1 << 40) - 3,))
    con.close()
    s2 = chatgate("--db", str(db), *FAST)
    b = s2.ws()
    b.join("new")
    answer = b.request({"type": "say", "room": "new", "text": "no number left"})
    assert (answer["type"], answer.get("code")) == ("error", "unavailable"), answer
    assert "no room number left" in s2.stderr()
    assert say_and_ack(b, "lobby", ["still fine"]) == [1]
    b.join("full")
    assert say_and_ack(b, "full", ["last but one", "last"]) == [(1 << 40) - 2, (1 << 40) - 1]
    answer = b.request({"type": "say", "room": "full", "text": "one too many"})
    assert (answer["type"], answer.get("code")) == ("error", "unavailable"), answer
    assert "has used every id" in s2.stderr()
    assert s2.proc.poll() is None
    assert b.join("full", since=(1 << 40) - 3)["messages"][-1]["text"] == "last"
    # Read back from disk: the last room number's keys end at 2^63 - 1, the
    # last id's key is its room's last.
    kill9(s2)
    s3 = chatgate("--db", str(db), "--history", "5", *FAST)
    c = s3.ws()
    assert [(m["id"], m["text"]) for m in c.history["messages"]] == [(1, "still fine")]
    d = s3.ws()
    got = d.join("full")["messages"]
    assert [(m["id"], m["text"]) for m in got][-2:] == [((1 << 40) - 2, "last but one"), ((1 << 40) - 1, "last")]


def test_older_schema_is_migrated_in_place(chatgate, tmp_path):
    db = tmp_path / "v1.db"
    with sqlite3.connect(db) as con:
        con.executescript(SCHEMA_V1)
        con.execute("INSERT INTO rooms VALUES ('old', 7, 'kept topic', 'dora', 1700000000000)")
        con.executemany("INSERT INTO messages VALUES ('old', ?, ?, 'dora', 'irc', 0, ?)",
                        [(i, 1700000000000 + i, f"v1 message {i}") for i in range(1, 8)])
        con.execute("PRAGMA user_version=1")
    con.close()
    s = chatgate("--db", str(db), *FAST)
    assert "schema migrated to version 2" in s.stderr()
    assert "schema migrated to version 3" in s.stderr()
    a = s.ndjson()
    h = a.join("old", since=2)
    assert [(m["id"], m["text"], m["via"]) for m in h["messages"]] == [
        (i, f"v1 message {i}", "irc") for i in range(3, 8)]
    assert a.request({"type": "topic", "room": "old"})["topic"] == "kept topic"
    assert say_and_ack(a, "old", ["first in version 2"]) == [8]
    assert s.stop()[0] == 0
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone() == (3,)
    assert con.execute("SELECT count(*) FROM reserved_nicks").fetchone() == (0,)
    con.close()
    # Started again on the migrated file: nothing more to migrate.
    s2 = chatgate("--db", str(db), *FAST)
    assert "migrated" not in s2.stderr()
    c = s2.ndjson()
    assert [m["id"] for m in c.join("old")["messages"]] == list(range(1, 9))
    assert say_and_ack(c, "old", ["again"]) == [9]


def test_metrics_show_the_store(chatgate, tmp_path):
    db = tmp_path / "chat.db"
    s = chatgate("--db", str(db), *FAST)
    a = s.ndjson()
    say_and_ack(a, "lobby", [f"m{i}" for i in range(20)])
    m = s.metrics()
    assert m["chatgate_store_persisted_total"] == 20
    assert m["chatgate_store_errors_total"] == 0
    assert m['chatgate_store_commit_seconds_bucket{le="+Inf"}'] >= 1
    assert m["chatgate_store_commit_seconds_count"] >= 1
    cc.wait_for(lambda: s.metrics()["chatgate_store_db_bytes"] >= 4096, what="db size")
    assert m["chatgate_history_bytes"] > 20 * len("m00")


# --- start-up errors: one line, exit 2, the file left alone -----------------

def start_fails(tmp_path, *flags, timeout=15):
    ports = tmp_path / "ports.json"
    argv = [str(BINARY), "--bind", "127.0.0.1", "--ports-file", str(ports),
            "--http-port", "0", "--tcp-port", "0", "--udp-port", "0", "--echo-port", "0", "--irc-port", "0", *flags]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATGATE_")}
    p = subprocess.run(argv, capture_output=True, timeout=timeout, env=env)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert not ports.exists()
    lines = p.stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_not_a_database_is_a_startup_error(tmp_path):
    db = tmp_path / "notes.db"
    garbage = b"these are my notes, not a database\n" * 300
    db.write_bytes(garbage)
    line = start_fails(tmp_path, "--db", str(db))
    assert str(db) in line and "--db" in line
    assert db.read_bytes() == garbage  # never overwritten


def test_corrupt_database_is_a_startup_error(chatgate, tmp_path):
    db = tmp_path / "chat.db"
    s = chatgate("--db", str(db), *FAST)
    say_and_ack(s.ndjson(), "lobby", ["x" * 3000 for _ in range(40)])
    assert s.stop()[0] == 0
    data = bytearray(db.read_bytes())
    assert len(data) > 5 * 4096
    # Scribble over the b-tree pages after the schema page.
    for page in range(1, len(data) // 4096):
        data[page * 4096: page * 4096 + 64] = b"\xa5" * 64
    db.write_bytes(bytes(data))
    line = start_fails(tmp_path, "--db", str(db))
    assert str(db) in line
    assert "corrupt" in line or "malformed" in line, line
    assert db.read_bytes() == bytes(data)


def test_a_bad_page_start_up_never_reads_is_found_by_quick_check(chatgate, tmp_path):
    """Start-up reads only the rooms table; quick_check reads the messages too."""
    db = tmp_path / "chat.db"
    s = chatgate("--db", str(db), *FAST)
    say_and_ack(s.ws(), "lobby", [f"{i} " + "q" * 500 for i in range(200)])
    assert s.stop()[0] == 0
    con = sqlite3.connect(db)
    leaves = [p for (p,) in con.execute(
        "SELECT pageno FROM dbstat WHERE name = 'messages' AND pagetype = 'leaf' ORDER BY pageno")]
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    assert len(leaves) > 10
    data = bytearray(db.read_bytes())
    # A leaf in the middle: its cell pointers point past the end of the page.
    start = (leaves[len(leaves) // 2] - 1) * page_size
    data[start + 8: start + 40] = b"\xff" * 32
    db.write_bytes(bytes(data))
    line = start_fails(tmp_path, "--db", str(db))
    assert str(db) in line and "corrupt (quick_check:" in line, line
    assert db.read_bytes() == bytes(data)


def test_other_applications_database_is_refused(tmp_path):
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE invoices(id INTEGER)")
    line = start_fails(tmp_path, "--db", str(db))
    assert "not a chatgate database" in line


def test_newer_schema_is_refused(tmp_path):
    db = tmp_path / "future.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE rooms(name TEXT)")
        con.execute("PRAGMA user_version=99")
    line = start_fails(tmp_path, "--db", str(db))
    assert "schema version 99" in line


def test_missing_directory_is_a_startup_error(tmp_path):
    db = tmp_path / "no" / "such" / "dir" / "chat.db"
    line = start_fails(tmp_path, "--db", str(db))
    assert str(db) in line and "No such file or directory" in line


def test_unwritable_directory_is_a_startup_error(tmp_path):
    ro = tmp_path / "readonly"
    ro.mkdir()
    mounted = False
    if os.geteuid() == 0:
        # root ignores file modes: a read-only file system is really unwritable.
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(ro)],
                           capture_output=True)
        if r.returncode != 0:
            pytest.skip(f"running as root and cannot mount a read-only tmpfs: {r.stderr!r}")
        mounted = True
    else:
        ro.chmod(0o555)
    try:
        db = ro / "chat.db"
        line = start_fails(tmp_path, "--db", str(db))
        assert str(db) in line
        assert "Read-only file system" in line or "Permission denied" in line, line
    finally:
        if mounted:
            subprocess.run(["umount", str(ro)])


def test_second_chatgate_on_the_same_file_is_refused(chatgate, tmp_path):
    db = tmp_path / "chat.db"
    s = chatgate("--db", str(db), *FAST)
    a = s.ndjson()
    say_and_ack(a, "lobby", ["before"])
    line = start_fails(tmp_path, "--db", str(db))
    assert str(db) in line and "in use by another chatgate" in line
    # The first one is unharmed.
    assert say_and_ack(a, "lobby", ["after"]) == [2]
    # Also through the environment (the container's way).
    env_line = subprocess.run(
        [str(BINARY), "--bind", "127.0.0.1", "--http-port", "0", "--tcp-port", "0",
         "--udp-port", "0", "--echo-port", "0", "--irc-port", "0"],
        env={"CHATGATE_DB": str(db), "PATH": os.environ.get("PATH", "")},
        capture_output=True, timeout=15)
    assert env_line.returncode == 2 and b"in use by another chatgate" in env_line.stderr


# --- a disk that fills up while running ------------------------------------

@pytest.fixture
def small_fs(tmp_path):
    """A 2 MiB tmpfs, unmounted after the servers stopped."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("needs root to mount a small tmpfs")
    path = tmp_path / "small"
    path.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(path)],
                       capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {r.stderr!r}")
    yield path
    subprocess.run(["umount", "-l", str(path)])


def test_disk_full_refuses_as_unavailable_and_recovers(small_fs, chatgate):
    db = small_fs / "chat.db"
    s = chatgate("--db", str(db), *FAST)
    sender = s.ndjson()
    sender.rename("sender")
    watcher = s.ws()
    terminal = s.text()
    filler = small_fs / "filler"
    # Take most of the space, then write until the database cannot grow.
    with open(filler, "wb") as f:
        try:
            f.write(b"\0" * (1536 * 1024))
        except OSError:
            pass
    text = "y" * 4000
    last_ok = 0
    refused = None
    for i in range(400):
        sender.send({"type": "say", "room": "lobby", "text": f"{i} {text}", "ref": i})
        answer = sender.recv_until(lambda o: o.get("ref") == i)[0]
        if answer["type"] == "error":
            refused = (i, answer)
            break
        last_ok = answer["id"]
    assert refused, "the disk never filled up"
    i, answer = refused
    assert answer["code"] == "unavailable", answer
    assert last_ok > 0
    # A text client is told in its own words (a message as big: a small one
    # may still fit in a page).
    terminal.send("from the terminal " + text)
    assert terminal.expect(lambda l: l.startswith("!")) == "! unavailable, not sent"
    # Nobody saw the refused message; everyone is still connected and served.
    seen = [o for o in watcher.sync() if o["type"] == "message"]
    assert seen and seen[-1]["id"] == last_ok
    assert not any(o["text"].startswith((f"{i} ", "from the terminal")) for o in seen)
    assert watcher.request({"type": "who", "room": "lobby"})["type"] == "who"
    assert s.get("/healthz")[0] == 200
    m = s.metrics()
    assert m["chatgate_store_errors_total"] >= 2
    assert s.stderr().count("write failed") == 1  # once per burst
    # Space comes back: writing resumes with the next id, no gap.
    filler.unlink()
    assert say_and_ack(sender, "lobby", ["space again"]) == [last_ok + 1]
    got = watcher.expect("message", text="space again")
    assert got["id"] == last_ok + 1
    assert s.proc.poll() is None


def test_since_from_disk_comes_in_pages_that_fit_the_queue(chatgate, tmp_path):
    db = tmp_path / "chat.db"
    s = chatgate("--db", str(db), "--history", "10", *FAST)
    a = s.ndjson()
    text = "p" * 4000
    for chunk in range(6):
        say_and_ack(a, "lobby", [f"{chunk * 50 + i} {text}" for i in range(50)])
    kill9(s)
    s2 = chatgate("--db", str(db), "--history", "10", *FAST)
    b = s2.ws()  # (an NDJSON client would first get the lobby's history as text)
    got, since = [], 1  # (since 0 is a plain join: the last --history)
    for _ in range(10):
        h = b.join("lobby", since=since)
        ids = [m["id"] for m in h["messages"]]
        # Oldest first, at most half of --max-queue-bytes (1 MiB) of text.
        assert sum(len(m["text"]) for m in h["messages"]) <= 512 * 1024 + 4096
        if not ids:
            break
        got += ids
        since = ids[-1]
    assert got == list(range(2, 301))


@contextlib.contextmanager
def file_size_limit(nbytes):
    """Servers started inside inherit `ulimit -f` (the soft limit only)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def test_file_size_limit_refuses_as_unavailable_and_recovers(chatgate, tmp_path):
    """`ulimit -f`: a write past it fails (no SIGXFSZ death), like a full disk."""
    db = tmp_path / "chat.db"
    with file_size_limit(512 * 1024):
        s = chatgate("--db", str(db), *FAST)
    sender = s.ndjson()
    watcher = s.ws()
    text = "f" * 4000
    last_ok, refused = 0, []
    for i in range(400):
        sender.send({"type": "say", "room": "lobby", "text": f"{i} {text}", "ref": i})
        answer = sender.recv_until(lambda o: o.get("ref") == i)[0]
        if answer["type"] == "error":
            refused.append(answer)
            if len(refused) == 3:
                break
        else:
            assert not refused, "a message was kept after one was refused"
            last_ok = answer["id"]
    assert refused, "the file size limit was never reached"
    assert s.proc.poll() is None, "chatgate died at the file size limit"
    assert {a["code"] for a in refused} == {"unavailable"}, refused
    assert last_ok > 10
    seen = [o for o in watcher.sync() if o["type"] == "message"]
    assert seen and seen[-1]["id"] == last_ok
    assert s.metrics()["chatgate_store_errors_total"] == 3
    assert s.stderr().count("write failed") == 1  # once per burst
    # The limit goes (prlimit): writing resumes with the next id.
    resource.prlimit(s.proc.pid, resource.RLIMIT_FSIZE,
                     (resource.RLIM_INFINITY, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    assert say_and_ack(sender, "lobby", ["no limit"]) == [last_ok + 1]
    assert watcher.expect("message", text="no limit")["id"] == last_ok + 1
    assert "writing again" in s.stderr()
    # Everything acknowledged is on disk, in order, without the refused ones.
    kill9(s)
    s2 = chatgate("--db", str(db), "--history", "1000", *FAST)
    h = s2.ws().join("lobby")
    assert [m["id"] for m in h["messages"]] == list(range(1, last_ok + 2))
    assert h["messages"][-1]["text"] == "no limit"


# --- backup while running (docs/operations.md) -------------------------------

def test_sqlite3_backup_while_writing_restores(chatgate, tmp_path):
    if not shutil.which("sqlite3"):
        pytest.skip("the sqlite3 command-line tool is not installed")
    db = tmp_path / "chat.db"
    s = chatgate("--db", str(db), *FAST)
    writer = s.ndjson()
    writer.rename("writer")
    acked = say_and_ack(writer, "lobby", [f"early {i} " + "b" * 500 for i in range(300)])
    stop = threading.Event()
    errors = []

    def keep_writing():
        # Bounded: at most 5000 more, in windows of 20.
        try:
            for chunk in range(250):
                if stop.is_set():
                    return
                acked.extend(say_and_ack(writer, "lobby", [f"during {chunk}.{i}" for i in range(20)]))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    t = threading.Thread(target=keep_writing)
    t.start()
    try:
        time.sleep(0.2)
        at_start = len(acked)
        backup = tmp_path / "backup.db"
        r = subprocess.run(["sqlite3", str(db), f".backup '{backup}'"], capture_output=True, timeout=60)
    finally:
        stop.set()
        t.join(30)
    assert r.returncode == 0 and not r.stderr, r
    assert not errors, errors
    assert s.proc.poll() is None
    con = sqlite3.connect(backup)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    ids = [row[0] & ID_MASK for row in con.execute(
        "SELECT key FROM messages WHERE key >> 40 = (SELECT no FROM rooms WHERE name='lobby') ORDER BY key")]
    last_id = con.execute("SELECT last_id FROM rooms WHERE name='lobby'").fetchone()[0]
    con.close()
    # A consistent snapshot: ids 1..n without a gap, n at least what was
    # acknowledged before the backup began, and the room's counter agrees.
    assert ids == list(range(1, len(ids) + 1))
    assert len(ids) >= at_start and last_id == len(ids)
    assert len(ids) <= len(acked)
    # Restore as docs/operations.md says: stop, copy over, drop -wal/-shm, start.
    assert s.stop()[0] == 0
    shutil.copyfile(backup, db)
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"chat.db{suffix}").unlink(missing_ok=True)
    s2 = chatgate("--db", str(db), *FAST)
    b = s2.ws()
    h = b.join("lobby", since=len(ids) - 2)
    assert [m["id"] for m in h["messages"]] == [len(ids) - 1, len(ids)]
    assert say_and_ack(b, "lobby", ["after the restore"]) == [len(ids) + 1]


def test_the_wal_is_checkpointed_while_running_and_stays_bounded(chatgate, tmp_path):
    """Checkpoints run on a thread of their own; the WAL does not grow without end."""
    db = tmp_path / "chat.db"
    s = chatgate("--db", str(db), *FAST)
    a = s.ws()
    text = "w" * 4000
    # 1,500 messages, about 1,500 pages of WAL: past the 1,000 that wake the
    # checkpoint thread, short of the 4,000 where the writer would do it.
    for chunk in range(15):
        say_and_ack(a, "lobby", [f"{chunk}.{i} {text}" for i in range(100)])
    # Copied into the database file while the server runs (not only at exit).
    cc.wait_for(lambda: os.path.getsize(db) > 2 << 20, what="a checkpoint into chat.db")
    for chunk in range(15, 50):  # 5,000 messages in all, about 20 MB
        say_and_ack(a, "lobby", [f"{chunk}.{i} {text}" for i in range(100)])
    # The WAL starts over instead of holding everything: at most about
    # 4,000 pages (16 MB) and what arrives during one checkpoint.
    assert os.path.getsize(str(db) + "-wal") < 20 << 20
    assert s.metrics()["chatgate_store_persisted_total"] == 5000
    assert "checkpoint failed" not in s.stderr()
    assert s.stop()[0] == 0


def test_since_past_every_id_is_empty_after_restart(chatgate, tmp_path):
    """Keys pack the room's number above 40 bits of id: a huge since is no key."""
    db = tmp_path / "chat.db"
    s = chatgate("--db", str(db), *FAST)
    a = s.ws()
    a.join("deep")
    say_and_ack(a, "deep", [f"m{i}" for i in range(5)])
    kill9(s)
    s2 = chatgate("--db", str(db), *FAST)
    b = s2.ws()
    # The room's first join after the restart: nothing cached, the disk answers.
    h = b.join("deep", since=(1 << 40) + 2)
    assert h["messages"] == [], "since 2^40 + 2 read as id 2 of room number 1"
    b2 = s2.ws()
    assert b2.join("deep", since=(1 << 53) - 1)["messages"] == []
    assert [m["id"] for m in b2.join("deep", since=3)["messages"]] == [4, 5]
