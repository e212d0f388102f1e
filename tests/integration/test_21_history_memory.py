"""SPEC 9: all rooms' history together stays within --history-bytes."""

import threading

import pytest

from conftest import FAST

MIB = 1024 * 1024


def sanitized(server):
    """ASan's allocator makes RSS say nothing about ours (and it is slow)."""
    with open(f"/proc/{server.pid}/maps") as f:
        return "libasan" in f.read()


def flood(server, rooms, per_room, text):
    """One terminal writes per_room messages of `text` into each room."""
    t = server.text(timeout=60)
    stop = threading.Event()

    reader_sock = t.sock.dup()  # its own timeout; the writer keeps 60 s
    reader_sock.settimeout(0.2)

    def drain():  # the joins' notices; keep the server's queue to us empty
        while not stop.is_set():
            try:
                if not reader_sock.recv(65536):
                    return
            except OSError:
                pass

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    line = (text + "\n").encode()
    for r in range(rooms):
        t.send_raw(f"/join r{r}\n".encode() + line * per_room)
    stop.set()
    reader.join()
    reader_sock.close()
    t.sock.settimeout(60)
    t.buf = b""
    t.sync(timeout=60)  # the server has handled every line


def test_history_bytes_cap_bounds_memory(chatgate):
    cap = 8 * MIB
    s = chatgate(*FAST, "--history-bytes", str(cap))
    asan = sanitized(s)
    rooms = 60 if asan else 300
    base_kb = s.rss_kb()
    text = "x" * 4000
    # 300 rooms x 40 x 4 KB: 48 MB of history without a cap (150 MB before
    # history stopped keeping each message's encodings).
    flood(s, rooms=rooms, per_room=40, text=text)
    m = s.metrics()
    # Whole rooms are dropped: at most one room's worth below the cap.
    cap_used = min(cap, rooms * 40 * (4000 + 512))
    assert cap_used - 40 * (4000 + 512) < m["chatgate_history_bytes"] <= cap
    if not asan:
        grown_mib = (s.rss_kb() - base_kb) / 1024
        assert grown_mib < 8 + 24, f"RSS grew {grown_mib:.1f} MiB with an 8 MiB history cap"
    # The rooms written to last kept their history, the idle ones lost it.
    w = s.ws()
    assert len(w.join(f"r{rooms - 1}")["messages"]) == 40
    assert w.join("r0")["messages"] == []
    # Ids are never reused when history is dropped.
    w.say("still counting", room="r0")
    assert w.expect("message", room="r0")["id"] == 41


def test_stored_message_costs_its_text_plus_at_most_512(chatgate):
    s = chatgate(*FAST, "--history-bytes", str(1024 * MIB))
    if sanitized(s):
        pytest.skip("RSS under ASan measures ASan's allocator")
    text = "z" * 4000
    flood(s, rooms=1, per_room=1, text=text)  # warm up the allocator
    base_kb = s.rss_kb()
    rooms, per_room = 100, 40
    flood(s, rooms=rooms, per_room=per_room, text=text)
    stored = rooms * per_room
    per_message = (s.rss_kb() - base_kb) * 1024 / stored
    accounted = s.metrics()["chatgate_history_bytes"] / (stored + 1)
    print(f"RSS per stored 4000-byte message: {per_message:.0f} bytes; accounted {accounted:.0f}")
    assert len(text) <= accounted <= len(text) + 512
    assert per_message <= len(text) + 512 + 256, per_message
