"""Not a terminal: chatgate-client reads lines from a pipe, sends every
one, waits for the server to have handled them, and exits 0."""

import pytest

from client_helpers import run_client, tcp, udp, ws

TRANSPORTS = {"tcp": tcp, "udp": udp, "ws": ws}
# More than the server's default burst (40), so pacing matters.
LINES = 60


def messages_from(client, nick):
    return [o for o in client.sync() if o["type"] == "message" and o["from"] == nick]


@pytest.mark.parametrize("via", TRANSPORTS)
def test_every_line_arrives_under_the_default_rate_limit(server, via):
    browser = server.ws()
    lines = [f"line {i} é✓" for i in range(LINES)]
    result = run_client("chat", *TRANSPORTS[via](server), "--nick", "piper",
                        input="\n".join(lines) + "\n", timeout=60)
    assert result.returncode == 0, result.stderr
    assert b"slow down" not in result.stdout
    # The client returned only after the server handled everything.
    assert [m["text"] for m in messages_from(browser, "piper")] == lines


@pytest.mark.parametrize("via", TRANSPORTS)
def test_a_last_line_without_newline_counts(server, via):
    browser = server.ws()
    result = run_client("chat", *TRANSPORTS[via](server), "--nick", "nonl", input="one\ntwo")
    assert result.returncode == 0, result.stderr
    assert [m["text"] for m in messages_from(browser, "nonl")] == ["one", "two"]


def test_the_issue_example(server):
    """echo hi | chatgate-client chat --ws URL --nick bot --room ops"""
    ops = server.ws()
    ops.join("ops")
    result = run_client("chat", "--ws", f"ws://127.0.0.1:{server.http}/ws", "--nick", "bot",
                        "--room", "ops", input="hi\n")
    assert result.returncode == 0, result.stderr
    msg = ops.expect("message", **{"from": "bot"})
    assert (msg["room"], msg["text"], msg["via"]) == ("ops", "hi", "ws")
    out = result.stdout.decode().splitlines()
    assert out[0].startswith("* welcome guest-") and "* bot joined #ops" in out


def test_empty_input_just_connects_and_leaves(server):
    for args in (tcp(server), udp(server), ws(server)):
        result = run_client("chat", *args, input="")
        assert result.returncode == 0, (args, result.stderr)
    assert server.metrics().get('chatgate_clients{transport="udp"}', 0) == 0


def test_ws_resends_what_the_rate_limit_dropped(chatgate):
    srv = chatgate("--rate", "5", "--burst", "2")
    browser = srv.ws()
    lines = [f"m{i}" for i in range(8)]
    # No pacing on our side: the server refuses some, the client sends them again.
    result = run_client("chat", *ws(srv), "--rate", "0", "--nick", "eager",
                        input="\n".join(lines) + "\n", timeout=60)
    assert result.returncode == 0, result.stderr
    assert b"slow down" not in result.stdout
    assert [m["text"] for m in messages_from(browser, "eager")] == lines


def test_text_lines_refused_by_the_rate_limit_fail_the_script(chatgate):
    srv = chatgate("--rate", "1", "--burst", "2")
    result = run_client("chat", *tcp(srv), "--rate", "0", input="a\nb\nc\nd\ne\nf\n")
    assert result.returncode == 1
    assert b"! slow down" in result.stdout
    assert b"the server refused" in result.stderr


def test_client_pacing_follows_rate(fast_server):
    browser = fast_server.ws()
    # 2 lines a second, bursts of 4: 8 lines take about 2 s.
    result = run_client("chat", *tcp(fast_server), "--rate", "2", "--nick", "slowpoke",
                        input="".join(f"p{i}\n" for i in range(8)), timeout=60)
    assert result.returncode == 0, result.stderr
    got = messages_from(browser, "slowpoke")
    assert [m["text"] for m in got] == [f"p{i}" for i in range(8)]
    assert got[-1]["ts"] - got[0]["ts"] >= 1500


@pytest.mark.parametrize("via", TRANSPORTS)
def test_room_on_start_prints_nothing_of_the_default_room(server, via):
    """Piped into with --room ops, no lobby history before #ops."""
    chatter = server.ws()
    chatter.rename("chatter")
    chatter.request({"type": "topic", "room": "lobby", "topic": "lobby topic"})
    for i in range(16):
        chatter.say(f"lobby line {i}")
    chatter.sync()
    ops = server.ws()
    ops.join("ops")
    ops.say("ops line", room="ops")
    ops.sync()
    result = run_client("chat", *TRANSPORTS[via](server), "--nick", "bot", "--room", "ops", input="hi\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode().splitlines()
    assert not [l for l in out if "lobby line" in l or l.startswith("[lobby]") or "lobby topic" in l], out
    assert out[0].startswith("* welcome ")
    assert "* bot joined #ops" in out, out
    # The room asked for does show its history.
    assert [l for l in out if l.startswith("[ops]") and "ops line" in l], out
    assert ops.expect("message", **{"from": "bot"})["text"] == "hi"
