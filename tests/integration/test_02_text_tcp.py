"""SPEC 3 over TCP: a terminal user with nc, telnet or a socket program."""

import re
import socket
import subprocess
import time

import chatgate_client as cc


def test_welcome_line(server):
    a = server.text()
    assert re.fullmatch(r"\* welcome guest-\d+, you are in #lobby\. /help lists commands", a.welcome)
    b = server.text()
    assert b.nick != a.nick


def test_message_reaches_peers_but_not_the_sender(server):
    a, b, c = server.text(), server.text(), server.text()
    a.send("hello there")
    assert b.expect(re.compile(r"^\[lobby\] ")) == f"[lobby] {a.nick}: hello there"
    assert c.expect(re.compile(r"^\[lobby\] ")) == f"[lobby] {a.nick}: hello there"
    assert not [l for l in a.sync() if "hello there" in l]


def test_message_reaches_websocket_with_transport(server):
    ws = server.ws()
    a = server.text()
    a.send("from a terminal")
    msg = ws.expect("message")
    assert msg["text"] == "from a terminal"
    assert msg["from"] == a.nick and msg["via"] == "tcp" and msg["room"] == "lobby"


def test_join_and_left_notices(server):
    a = server.text()
    b = server.text()
    assert a.read_line() == f"* {b.nick} joined #lobby"
    # Decision: the newcomer does not get its own joined for the automatic join.
    assert not [l for l in b.sync() if "joined" in l]
    b.close()
    assert a.read_line() == f"* {b.nick} left #lobby"


def test_crlf_line_endings(server):
    a, b = server.text(), server.text()
    a.send_raw(b"telnet style\r\n")
    assert b.expect(re.compile(r"^\[")) == f"[lobby] {a.nick}: telnet style"


def test_line_without_newline_is_delivered_after_idle(server):
    a, b = server.text(), server.text()
    sent = time.monotonic()
    a.send_raw(b"Hello, world")
    line = b.expect(re.compile(r"^\["), timeout=10)
    elapsed = time.monotonic() - sent
    assert line == f"[lobby] {a.nick}: Hello, world"
    # SPEC: 250 ms without a further byte; 50 ms slack for the clock.
    assert elapsed >= 0.2, elapsed


def test_short_pause_does_not_split_a_line(chatgate):
    server = chatgate("--line-idle-ms", "1500")
    a, b = server.text(), server.text()
    a.send_raw(b"Hel")
    time.sleep(0.4)
    a.send_raw(b"lo\n")
    assert b.expect(re.compile(r"^\[")) == f"[lobby] {a.nick}: Hello"
    sent = time.monotonic()
    a.send_raw(b"no newline")
    assert b.expect(re.compile(r"^\[")) == f"[lobby] {a.nick}: no newline"
    assert time.monotonic() - sent >= 1.2


def test_nc_user_without_newline(server):
    ws = server.ws()
    nc = subprocess.Popen(["nc", "127.0.0.1", str(server.tcp)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE)
    try:
        nc.stdin.write(b"Hello, world")
        nc.stdin.close()
        msg = ws.expect("message")
        assert msg["text"] == "Hello, world" and msg["via"] == "tcp"
    finally:
        nc.terminate()
        out = nc.stdout.read().decode()
        nc.wait(10)
    assert cc.WELCOME_RE.match(out.splitlines()[0]), out


def test_nc_user_quits(server):
    out = subprocess.run(["nc", "127.0.0.1", str(server.tcp)], input=b"/quit\n",
                         capture_output=True, timeout=20).stdout.decode()
    lines = out.splitlines()
    assert cc.WELCOME_RE.match(lines[0]), out
    # Decision: /quit answers "* bye", then the server closes (nc exits).
    assert lines[-1] == "* bye", out


def test_nc_one_shot_command_gets_its_answer(server):
    # `echo /who | nc -q 2 HOST PORT`: nc half-closes after its input; the
    # server should still answer the line it got before closing.
    out = subprocess.run(["nc", "-q", "2", "127.0.0.1", str(server.tcp)], input=b"/who\n",
                         capture_output=True, timeout=20).stdout.decode()
    lines = out.splitlines()
    nick = cc.WELCOME_RE.match(lines[0])["nick"]
    assert f"* {nick} (tcp)" in lines, out


def test_half_closed_client_gets_every_answer(server):
    # The same with a plain socket, several times: losing the answer on EOF
    # is a race, so one try may pass by luck.
    for attempt in range(10):
        c = server.text()
        c.send("/who")
        c.sock.shutdown(socket.SHUT_WR)
        lines = []
        while True:
            try:
                lines.append(c.read_line())
            except cc.Closed:
                break
        assert f"* {c.nick} (tcp)" in lines, (attempt, lines)


def test_program_that_sends_without_newline_and_closes(server):
    # A classroom program: connect, send "Hello, world", close.
    ws = server.ws()
    s = socket.create_connection(("127.0.0.1", server.tcp), timeout=10)
    s.sendall(b"Hello, world")
    s.close()
    msg = ws.expect("message")
    assert msg["text"] == "Hello, world" and msg["via"] == "tcp"


def test_quit_closes_and_tells_the_room(server):
    a, b = server.text(), server.text()
    a.read_line()  # b joined
    b.send("/quit")
    assert b.read_line() == "* bye"
    assert b.wait_closed(), "server did not close after /quit"
    assert a.read_line() == f"* {b.nick} left #lobby"


def test_nick_rename_is_announced_once_to_everyone(server):
    a, b = server.text(), server.text()
    old = a.nick
    a.send("/nick alice")
    assert a.expect(re.compile(r"is now known")) == f"* {old} is now known as alice"
    assert b.expect(re.compile(r"is now known")) == f"* {old} is now known as alice"
    # Decision: each sharer of a room (and the renamer) gets it exactly once.
    assert not [l for l in a.sync() if "known as" in l]
    assert not [l for l in b.sync() if "known as" in l]
    a.nick = "alice"
    a.send("hi")
    assert b.expect(re.compile(r"^\[")) == "[lobby] alice: hi"


def test_nick_taken_and_bad_nick(server):
    a, b = server.text(), server.text()
    a.rename("Alice")
    b.send("/nick alice")
    assert b.expect(re.compile(r"^!")) == "! nick taken: alice"
    b.send("/nick bad.nick")
    assert b.expect(re.compile(r"^!")) == "! bad nick: bad.nick"
    b.send("/nick " + "n" * 25)
    assert b.expect(re.compile(r"^!")) == "! bad nick: " + "n" * 25
    b.rename("N" * 24)


def test_nick_without_argument(server):
    a = server.text()
    a.send("/nick")
    # Decision: a missing argument gets a usage line.
    assert a.read_line().startswith("! usage: /nick")


def test_unknown_command(server):
    a = server.text()
    a.send("/frobnicate now")
    # Decision: exact text for an unknown command.
    assert a.read_line() == "! unknown command: /frobnicate (try /help)"
    a.send("still here")


def test_join_moves_the_client_to_one_room(server):
    a, b, ws = server.text(), server.text(), server.ws()
    ws.join("games")
    a.read_until(f"* {b.nick} joined #lobby")
    a.send("/join #Games")
    assert b.expect(re.compile(r"left")) == f"* {a.nick} left #lobby"
    joined = ws.expect("joined", room="games")
    assert joined["nick"] == a.nick and joined["via"] == "tcp"
    # A text client is in exactly one room: lobby traffic no longer reaches it.
    ws.say("for the lobby", room="lobby")
    ws.say("for games", room="games")
    line, skipped = a.read_until(re.compile(r"^\["))
    assert line == f"[games] {ws.nick}: for games", skipped
    a.send("back at you")
    msg = ws.expect("message", room="games", via="tcp")
    assert msg["text"] == "back at you"


def test_join_replays_history_in_order(fast_server):
    ws, a = fast_server.ws(), fast_server.text()
    ws.join("news")
    for i in range(1, 6):
        ws.say(f"news {i}", room="news")
        ws.expect("message", text=f"news {i}")
    a.send("/join news")
    lines = a.sync()
    replay = [l for l in lines if l.startswith("[news] ")]
    assert replay == [f"[news] {ws.nick}: news {i}" for i in range(1, 6)], lines


def test_join_bad_room(server):
    a = server.text()
    a.send("/join bad!room")
    # Decision: "! bad room: NAME".
    assert a.read_line() == "! bad room: bad!room"
    b = server.text()
    a.expect(f"* {b.nick} joined #lobby")  # still in the lobby


def test_rooms_lists_member_counts(server):
    a, b, ws = server.text(), server.text(), server.ws()
    ws.join("games")
    a.send("/rooms")
    listed = [l for l in a.sync() if l.startswith("* #")]
    assert all(re.fullmatch(r"\* #[a-z0-9_-]+ \(\d+\)", l) for l in listed), listed
    # Rooms with nobody in them (such as #echo) may be listed too.
    assert sorted(l for l in listed if not l.endswith(" (0)")) == ["* #games (1)", "* #lobby (3)"]


def test_who_lists_members_with_transport(server):
    a, ws, u = server.text(), server.ws(), server.udp_client()
    u.hello()
    a.send("/who")
    members = sorted(l for l in a.sync() if re.match(r"^\* \S+ \((ws|tcp|udp)\)$", l))
    assert members == sorted([f"* {a.nick} (tcp)", f"* {ws.nick} (ws)", f"* {u.nick} (udp)"])


def test_me_action(server):
    a, b, ws = server.text(), server.text(), server.ws()
    a.send("/me waves")
    assert b.expect(re.compile(r"^\[")) == f"[lobby] * {a.nick} waves"
    msg = ws.expect("message")
    assert msg["me"] is True and msg["text"] == "waves" and msg["from"] == a.nick


def test_help_lists_commands(server):
    a = server.text()
    a.send("/help")
    text = "\n".join(a.sync())
    for cmd in ["/nick", "/join", "/rooms", "/who", "/me", "/quit", "/json"]:
        assert cmd in text, f"/help does not mention {cmd}:\n{text}"


def test_multibyte_text_and_tab_pass_through(server):
    a, b, ws = server.text(), server.text(), server.ws()
    a.send("héllo\twörld 😀 日本")
    assert b.expect(re.compile(r"^\[")) == f"[lobby] {a.nick}: héllo\twörld 😀 日本"
    assert ws.expect("message")["text"] == "héllo\twörld 😀 日本"


def test_invalid_utf8_is_repaired(server):
    a, b, ws = server.text(), server.text(), server.ws()
    # A lone lead byte, a stray byte, an overlong '/', a surrogate, a cut sequence.
    a.send_raw(b"caf\xc3 x\xff ok \xc0\xaf \xed\xa0\x80 end\xe2\x82\n")
    text = ws.expect("message")["text"]
    assert re.fullmatch("caf\ufffd+ x\ufffd+ ok \ufffd+ \ufffd+ end\ufffd+", text), repr(text)
    # The text peer gets valid UTF-8 too (read_line decodes strictly).
    assert b.expect(re.compile(r"^\[")) == f"[lobby] {a.nick}: {text}"


def test_control_characters_cannot_forge_lines(server):
    a, b, ws = server.text(), server.text(), server.ws()
    a.send_raw(b"hi\r[lobby] mallory: forged\x1b[31m red\x00\x07\x08\x7f\x0b\x0c tab\there\n")
    line = b.expect(re.compile(r"^\["))
    assert line == f"[lobby] {a.nick}: hi[lobby] mallory: forged[31m red tab\there"
    assert not [l for l in b.sync() if "mallory" in l]
    assert ws.expect("message")["text"] == "hi[lobby] mallory: forged[31m red tab\there"


def test_c1_control_characters_are_removed(server):
    a, b = server.text(), server.text()
    # U+0085 (NEL) is a line break to some terminals; U+009B is a CSI.
    a.send("one\u0085two\u009b31mthree")
    assert b.expect(re.compile(r"^\[")) == f"[lobby] {a.nick}: onetwo31mthree"


def test_json_control_characters_are_removed(server):
    a, ws, peer = server.text(), server.ws(), server.ws()
    ws.say("a\u0000b\u001b[2Jc\u007fd\u0085e\tf")
    assert peer.expect("message")["text"] == "ab[2Jcde\tf"
    assert a.expect(re.compile(r"^\[")) == f"[lobby] {ws.nick}: ab[2Jcde\tf"


def test_json_action_seen_by_text_client(server):
    a, ws = server.text(), server.ws()
    ws.say("bows", me=True)
    assert a.expect(re.compile(r"^\[")) == f"[lobby] * {ws.nick} bows"


def test_json_say_with_newline_arrives_as_one_line(server):
    a, ws = server.text(), server.ws()
    ws.say("line1\nline2\r\n[lobby] guest-999: forged\u2028")
    line = a.expect(re.compile(r"^\["))
    assert line.startswith(f"[lobby] {ws.nick}: line1line2[lobby] guest-999: forged"), line
    assert not [l for l in a.sync() if "forged" in l]
    echoed = ws.expect("message")
    assert "\n" not in echoed["text"] and "\r" not in echoed["text"]


def test_guest_numbers_are_reused_lowest_first(server):
    # Guest numbers stay as small as the crowd: the lowest free one is given.
    a, b, c = server.text(), server.text(), server.ws()
    assert (a.nick, b.nick, c.nick) == ("guest-1", "guest-2", "guest-3")
    a.close()
    c.expect("left", nick="guest-1")
    b.close()
    c.expect("left", nick="guest-2")
    assert server.text().nick == "guest-1"
    assert server.ws().nick == "guest-2"
    assert server.text().nick == "guest-4"


def test_a_guest_name_taken_by_hand_is_not_given_twice(server):
    a = server.text()
    assert a.nick == "guest-1"
    b = server.text()
    assert b.nick == "guest-2"
    a.close()
    b.expect("* guest-1 left #lobby")
    b.send("/nick GUEST-1")
    b.expect("* guest-2 is now known as GUEST-1")
    # guest-1 is taken (case-insensitively), guest-2 was freed by the rename.
    assert server.text().nick == "guest-2"
    assert server.text().nick == "guest-3"
