"""SPEC 9, JSON: parsing cost grows linearly with a frame's size whatever its
shape; nesting deeper than 32 is bad_request; a 64 KiB frame of any shape
costs under 5 ms of the server's CPU, over WebSocket and NDJSON alike, and
a client sending such frames does not stall anybody else's chat."""

import os
import statistics
import time

import pytest

import chatgate_client as cc
from conftest import BINARY, FAST

FRAME = 64 * 1024
BUDGET_MS = 5.0
# A sanitizer build (Debug, ASan) runs the parser some 40 times slower.
SLACK = 40.0 if b"__asan_init" in BINARY.read_bytes() else 1.0
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_ms(pid):
    """User + system CPU time of the whole process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000.0 / TICKS


def pad_to(head, unit, tail, size=FRAME):
    """head + unit repeated + tail, as close to size bytes as units allow."""
    count = (size - len(head) - len(tail)) // len(unit)
    return head + unit * count + tail


def fill(frame, size=FRAME):
    """frame with spaces before its last byte, to exactly size bytes."""
    return frame[:-1] + " " * (size - len(frame)) + frame[-1]


def shapes(ref):
    """(name, frame, expected error message or None for a rooms answer)."""
    rooms = f'{{"type":"rooms","ref":"{ref}"'
    keys = rooms
    i = 0
    while len(keys) < FRAME - 20:
        keys += f',"k{i}":1'
        i += 1
    half = (FRAME - len(rooms) - 7) // 2
    nested_keys = rooms + ',"o":{"k0":1'
    i = 1
    while len(nested_keys) < FRAME - 20:
        nested_keys += f',"k{i}":1'
        i += 1
    return [
        ("8000 distinct keys", keys + "}", None),
        ("duplicate keys", pad_to(rooms, ',"k":1', "}"), None),
        ("64 KiB string", pad_to(rooms + ',"s":"', "a", '"}'), None),
        ("30000 tiny arrays", pad_to(rooms + ',"a":[', "[],", "[]]}"), None),
        ("32 levels, many times", pad_to(rooms + ',"a":[', "[" * 30 + "]" * 30 + ",", "1]}"), None),
        ("long fraction", pad_to(rooms + ',"n":0.', "7", "}"), None),
        ("many numbers", pad_to(rooms + ',"n":[', "1.2345678901234567e-300,", "1]}"), None),
        ("escapes", pad_to(rooms + ',"s":"', "\\u00e9", '"}'), None),
        ("8000 keys one level down", nested_keys + "}}", None),
        ("objects 31 deep, many times",
         fill(pad_to(rooms + ',"a":[', '{"a":' * 30 + "1" + "}" * 30 + ",", "1]}")), None),
        ("whitespace", pad_to(rooms, " ", "}"), None),
        ("literals", pad_to(rooms + ',"a":[', "true,null,false,", "1]}"), None),
        ("long keys", pad_to(rooms + ',"', "k", '":1}'), None),
        ("deep nesting", rooms + ',"a":' + "[" * half + "]" * half + "}",
         "JSON nested deeper than 32 levels"),
        ("long integer", pad_to(rooms + ',"n":', "7", "}"), "not valid JSON"),
    ]


# Refs of the same length as the placeholder keep every frame at its size.
PLACEHOLDER = "x" * 8


def with_ref(frame, ref):
    assert len(ref) == len(PLACEHOLDER)
    return frame.replace(f'"ref":"{PLACEHOLDER}"', f'"ref":"{ref}"', 1)


def check_answer(answer, name, error):
    if error is None:
        assert answer["type"] == "rooms", (name, answer)
    else:
        assert answer["type"] == "error" and answer["code"] == "bad_request", (name, answer)
        assert answer["message"] == error, (name, answer)


def send_frames(client, frames, ws):
    if ws:
        async def send_all():
            for f in frames:
                await client.ws.send(f)
        cc.run(send_all())
    else:
        client.send_raw(b"".join(f.encode() + b"\n" for f in frames))


@pytest.mark.parametrize("transport", ["ws", "ndjson"])
def test_every_shape_costs_under_5ms(chatgate, transport):
    server = chatgate(*FAST)
    client = server.ws() if transport == "ws" else server.ndjson()
    frames_per_round, rounds = 20, 3
    report = []
    for n, (name, frame, error) in enumerate(shapes(PLACEHOLDER)):
        assert FRAME - 64 <= len(frame) <= FRAME, (name, len(frame))
        per_frame = []
        for r in range(rounds):
            refs = [f"{n:02d}{r:02d}{i:04d}" for i in range(frames_per_round)]
            batch = [with_ref(frame, ref) for ref in refs]
            before = cpu_ms(server.pid)
            send_frames(client, batch, transport == "ws")
            for ref in refs:
                answer, _ = client.recv_until(lambda o, ref=ref: o.get("ref") == ref, timeout=30)
                check_answer(answer, name, error)
            per_frame.append((cpu_ms(server.pid) - before) / frames_per_round)
        cost = statistics.median(per_frame)
        report.append(f"{name}: {cost:.2f} ms/frame")
        assert cost < BUDGET_MS * SLACK, f"{transport} {name}: {cost:.2f} ms of CPU per 64 KiB frame"
    print(f"\n{transport}: " + "; ".join(report))


def test_depth_limit_over_both_transports(chatgate):
    server = chatgate()
    ws, nd = server.ws(), server.ndjson()
    for client in (ws, nd):
        ok = '{"type":"rooms","ref":"ok","x":' + "[" * 31 + "]" * 31 + "}"
        deep = '{"type":"rooms","ref":"deep","x":' + "[" * 32 + "]" * 32 + "}"
        if client is ws:
            ws.send_text(ok)
            ws.send_text(deep)
        else:
            nd.send_raw(ok.encode() + b"\n" + deep.encode() + b"\n")
        assert client.recv_until(lambda o: o.get("ref") == "ok")[0]["type"] == "rooms"
        answer = client.recv_until(lambda o: o.get("ref") == "deep")[0]
        assert answer["type"] == "error" and answer["code"] == "bad_request", answer
        assert answer["message"] == "JSON nested deeper than 32 levels", answer
        # The connection goes on working.
        assert client.request({"type": "rooms"})["type"] == "rooms"


def test_heavy_frames_do_not_stall_other_users(chatgate):
    """Three clients each send 40 frames of 8000 keys (the issue's attack);
    two other users' chat keeps flowing meanwhile."""
    server = chatgate(*FAST)
    attackers = [server.ws(), server.ws(), server.ndjson()]
    talker, listener = server.text(), server.ws()
    frame = shapes(PLACEHOLDER)[0][1]
    batches = []
    for n, a in enumerate(attackers):
        refs = [f"a{n}{i:06d}" for i in range(40)]
        batches.append((a, refs, [with_ref(frame, r) for r in refs]))
    started = time.monotonic()
    for a, _, frames in batches:
        send_frames(a, frames, isinstance(a, cc.WsClient))
    delays = []
    for i in range(5):
        sent = time.monotonic()
        talker.send(f"still here {i}")
        listener.expect("message", text=f"still here {i}")
        delays.append(time.monotonic() - sent)
    for a, refs, _ in batches:
        for r in refs:
            a.recv_until(lambda o, r=r: o.get("ref") == r, timeout=30)
    total = time.monotonic() - started
    # 120 frames at the SPEC's 5 ms are 0.6 s of work in all; the quadratic
    # parse made it 12 s and every message waited seconds.
    assert max(delays) < 1.0 * SLACK, f"chat delayed {max(delays):.2f} s while parsing (delays {delays})"
    assert total < 5.0 * SLACK, f"120 frames took {total:.2f} s"
