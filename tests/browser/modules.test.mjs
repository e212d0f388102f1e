// The page's pure modules (no DOM, no browser): input parsing, the room log's
// ordering and de-duplication, and the reconnect backoff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInput } from '../../web/js/commands.js';
import { RoomLog, normalizeRoom, isValidRoom, isValidNick, splitMentions, dmKey, TRANSPORTS } from '../../web/js/model.js';
import { HELP } from '../../web/js/commands.js';
import { backoffDelay, socketUrl, BACKOFF_CAP_MS } from '../../web/js/connection.js';
import { splitToken, probeRefusal } from '../../web/js/token.js';

const msg = (id, ts, text = `m${id}`) => ({ id, ts, text, from: 'ada', via: 'tcp', room: 'lobby' });

test('input lines become messages or commands', () => {
  assert.deepEqual(parseInput('hello'), { kind: 'say', text: 'hello' });
  assert.deepEqual(parseInput('   '), { kind: 'empty' });
  assert.deepEqual(parseInput('//slash'), { kind: 'say', text: '/slash' });
  assert.deepEqual(parseInput('/me waves  slowly'), { kind: 'me', text: 'waves  slowly' });
  assert.deepEqual(parseInput('/NICK Ada'), { kind: 'nick', nick: 'Ada' });
  assert.deepEqual(parseInput('/join #Dev'), { kind: 'join', room: '#Dev' });
  assert.deepEqual(parseInput('/leave'), { kind: 'leave', room: null });
  assert.deepEqual(parseInput('/who dev'), { kind: 'who', room: 'dev' });
  assert.deepEqual(parseInput('/rooms'), { kind: 'rooms' });
  assert.deepEqual(parseInput('/help'), { kind: 'help' });
  assert.equal(parseInput('/me').kind, 'error');
  assert.equal(parseInput('/nick').kind, 'error');
  assert.match(parseInput('/quux x').message, /Unknown command: \/quux/);
});

test('/msg, /topic and /part', () => {
  assert.deepEqual(parseInput('/msg ada hi  there'), { kind: 'msg', nick: 'ada', text: 'hi  there' });
  assert.deepEqual(parseInput('/MSG Ada'), { kind: 'msg', nick: 'Ada', text: '' });
  assert.deepEqual(parseInput('/query bob ok'), { kind: 'msg', nick: 'bob', text: 'ok' });
  assert.deepEqual(parseInput('/msg'), { kind: 'error', message: 'Usage: /msg NICK TEXT' });
  assert.deepEqual(parseInput('/topic'), { kind: 'topic', topic: null });
  assert.deepEqual(parseInput('/topic  Release on Friday '), { kind: 'topic', topic: 'Release on Friday' });
  assert.deepEqual(parseInput('/part'), { kind: 'leave', room: null });
  assert.deepEqual(parseInput('/part #dev'), { kind: 'leave', room: '#dev' });
  // /help names every command the input takes.
  const help = HELP.map(([form]) => form).join(' ');
  for (const cmd of ['/nick', '/join', '/leave', '/part', '/msg', '/topic', '/me', '/who', '/rooms', '/help']) {
    assert.ok(help.includes(cmd) || HELP.some(([, what]) => what.includes(cmd)), `${cmd} in /help`);
  }
});

test('mentions: the own nick as a whole word, any case', () => {
  const marked = (text, nick) => splitMentions(text, nick)?.filter((p) => p.mention).map((p) => p.text) ?? [];
  assert.deepEqual(marked('hey ada, look', 'ada'), ['ada']);
  assert.deepEqual(marked('ADA: Ada! (ada)', 'ada'), ['ADA', 'Ada', 'ada']);
  assert.deepEqual(marked('adam and nada and ada_x and x-ada', 'ada'), []);
  assert.deepEqual(marked('guest-1 and guest-12', 'guest-1'), ['guest-1']);
  assert.deepEqual(marked('ping Guest-1.', 'guest-1'), ['Guest-1']);
  assert.equal(splitMentions('nothing here', 'ada'), null);
  assert.equal(splitMentions('ada', null), null);
  const parts = splitMentions('hi ada bye', 'ada');
  assert.equal(parts.map((p) => p.text).join(''), 'hi ada bye', 'the pieces rebuild the text');
});

test('direct conversations are keyed by nick, any case; irc is a transport', () => {
  assert.equal(dmKey('Ada'), dmKey('ADA'));
  assert.notEqual(dmKey('lobby'), 'lobby', 'never the same as a room name');
  assert.ok(TRANSPORTS.includes('irc'));
});

test('room and nick names follow the SPEC', () => {
  assert.equal(normalizeRoom(' #Dev '), 'dev');
  assert.ok(isValidRoom('a-b_9'));
  assert.ok(!isValidRoom('x'.repeat(33)));
  assert.ok(!isValidRoom('no way'));
  assert.ok(isValidNick('Ada_1-x'));
  assert.ok(!isValidNick('x'.repeat(25)));
  assert.ok(!isValidNick('é'));
});

test('the room log orders by server time and drops repeats', () => {
  const log = new RoomLog();
  assert.ok(log.addMessage(msg(2, 200)));
  assert.equal(log.addMessage(msg(1, 100)).index, 0);
  assert.equal(log.addMessage(msg(2, 200)), null);
  assert.deepEqual(log.messages().map((m) => m.id), [1, 2]);
  assert.equal(log.lastId, 2);
  assert.equal(log.lastKey, '2@200');
});

test('live ids that jump ask for a gap fill; ids that go back mean a restart', () => {
  const log = new RoomLog();
  log.addMessage(msg(1, 100));
  assert.equal(log.addMessage(msg(2, 200), { live: true }).resync, null);
  assert.equal(log.addMessage(msg(5, 300), { live: true }).resync, 'gap');
  const restart = log.addMessage(msg(1, 400), { live: true });
  assert.equal(restart.resync, 'reset');
  assert.equal(log.lastId, 1);
  assert.equal(log.messages().length, 4);
});

test('the room log stays bounded', () => {
  const log = new RoomLog(3);
  for (let i = 1; i <= 5; i++) log.addMessage(msg(i, i * 10));
  assert.deepEqual(log.messages().map((m) => m.id), [3, 4, 5]);
  assert.ok(!log.has(msg(1, 10)));
});

test('notices and pending sends sit among messages by time', () => {
  const log = new RoomLog();
  log.addMessage(msg(1, 100));
  const notice = log.addLocal('notice', 150, { parts: ['x'] }).entry;
  log.addMessage(msg(2, 200));
  assert.deepEqual(log.entries.map((e) => e.kind), ['message', 'notice', 'message']);
  assert.equal(log.next(notice).id, 2);
  assert.ok(log.remove(notice));
  assert.equal(log.entries.length, 2);
});

test('reconnect delays grow, jitter, and never pass the cap', () => {
  assert.equal(backoffDelay(0, () => 0), 250);
  assert.equal(backoffDelay(0, () => 1), 500);
  assert.equal(backoffDelay(3, () => 0), 2000);
  for (let n = 0; n < 50; n++) assert.ok(backoffDelay(n) <= BACKOFF_CAP_MS);
  assert.ok(BACKOFF_CAP_MS + 4000 < 15000, 'back within 15 s of the server');
});

test('the socket URL follows the page', () => {
  assert.equal(socketUrl({ protocol: 'http:', host: 'h:8080' }), 'ws://h:8080/ws');
  assert.equal(socketUrl({ protocol: 'https:', host: 'chat.example' }), 'wss://chat.example/ws');
  assert.equal(socketUrl({ protocol: 'https:', host: 'c' }, 'a.b-c_d'), 'wss://c/ws?token=a.b-c_d');
  assert.equal(socketUrl({ protocol: 'http:', host: 'c' }, 'x y'), 'ws://c/ws?token=x%20y');
});

test('a token is taken out of the fragment, other fragment parts stay', () => {
  assert.deepEqual(splitToken('#token=a.b.c'), ['a.b.c', '']);
  assert.deepEqual(splitToken('#room=dev&token=a.b.c'), ['a.b.c', '#room=dev']);
  assert.deepEqual(splitToken('#room=dev'), [null, '#room=dev']);
  assert.deepEqual(splitToken(''), [null, '']);
});

test('GET /auth tells a refusal from a server that is down', async () => {
  const answering = (body, ok = true) => async (url) => {
    answering.last = url;
    return { ok, json: async () => body };
  };
  assert.deepEqual(await probeRefusal(null, answering({ required: true, token: 'none' })),
    { token: 'none', reason: '' });
  assert.equal(answering.last, '/auth');
  assert.deepEqual(await probeRefusal('t.o.k', answering({ required: true, token: 'bad', reason: 'expired' })),
    { token: 'bad', reason: 'expired' });
  assert.equal(answering.last, '/auth?token=t.o.k');
  assert.equal(await probeRefusal('t', answering({ required: true, token: 'good' })), null);
  assert.equal(await probeRefusal(null, answering({ required: false, token: 'none' })), null);
  assert.equal(await probeRefusal(null, answering({}, false)), null);
  assert.equal(await probeRefusal(null, async () => { throw new TypeError('Failed to fetch'); }), null);
});

test('the connection paces a burst of frames under the server rate limit', async () => {
  const sent = [];
  class FakeSocket {
    static CONNECTING = 0;
    static OPEN = 1;
    readyState = 1;
    constructor() { setTimeout(() => this.onopen?.(), 0); }
    send(data) { sent.push(JSON.parse(data)); }
    close() { this.readyState = 3; }
  }
  const saved = globalThis.WebSocket;
  globalThis.WebSocket = FakeSocket;
  try {
    const { Connection, SEND_BURST, SEND_RATE } = await import('../../web/js/connection.js');
    const conn = new Connection('ws://test/ws');
    const opened = new Promise((resolve) => conn.addEventListener('state', () => conn.isOpen && resolve()));
    conn.start();
    await opened;
    for (let i = 0; i < 60; i++) assert.equal(conn.send({ type: 'rooms', ref: i }), true);
    assert.equal(sent.length, SEND_BURST);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.ok(sent.length > SEND_BURST && sent.length <= SEND_BURST + SEND_RATE, `${sent.length} sent`);
    assert.deepEqual(sent.map((f) => f.ref), sent.map((_, i) => i), 'in order');
    conn.stop();
  } finally {
    globalThis.WebSocket = saved;
  }
});
