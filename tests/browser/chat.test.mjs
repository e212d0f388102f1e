// Browser tests of the chat page against the real gateway: pages and a raw TCP
// client in the same rooms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suite } from './lib/suite.mjs';
import {
  assertClean, nickOf, type, messages, notices, until,
  waitMessage, countMessages, waitNotice, roomCount, switchRoom, unique,
} from './lib/browser.mjs';

const s = suite();
const page = (options) => s.page(options);
const tcp = () => s.tcp();

test('two pages and a TCP client chat in one room, each with the right badge', async () => {
  const a = await page();
  const b = await page();
  const t = await tcp();
  const room = unique('chat-');
  await type(a, `/join ${room}`);
  await type(b, `/join ${room}`);
  t.send(`/join ${room}`);
  const [na, nb] = [await nickOf(a), await nickOf(b)];
  await until('both pages in the room', async () => (await roomCount(a, room)) === 3 && (await roomCount(b, room)) === 3);

  await type(a, 'hello from page A');
  await waitMessage(b, { from: na, via: 'ws', text: 'hello from page A' });
  await t.waitFor(`[${room}] ${na}: hello from page A`);

  t.send('hello from the terminal');
  await waitMessage(a, { from: t.nick, via: 'tcp', text: 'hello from the terminal' });
  await waitMessage(b, { from: t.nick, via: 'tcp', text: 'hello from the terminal' });

  await type(b, 'and hello from page B');
  await waitMessage(a, { from: nb, via: 'ws', text: 'and hello from page B' });
  await t.waitFor(`[${room}] ${nb}: and hello from page B`);

  // The sender sees its own message exactly once, acknowledged (not pending).
  await waitMessage(a, { text: 'hello from page A', pending: false });
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(await countMessages(a, { text: 'hello from page A' }), 1);
  assert.equal(await countMessages(b, { text: 'and hello from page B' }), 1);
  assert.equal(await countMessages(b, { text: 'hello from page A' }), 1);

  // The badge is a visible word and every message shows a time.
  const badge = a.locator('ol.log:not([hidden]) li.msg .via', { hasText: 'tcp' }).first();
  assert.equal(await badge.isVisible(), true);
  for (const m of await messages(a)) assert.match(m.time, /\d/);
  assertClean(a, b);
});

test('nick: choose one, remembered across reload; taken and bad nicks are explained', async () => {
  const a = await page();
  const b = await page();
  const t = await tcp();
  const alice = unique('alice-');
  const old = await nickOf(a);

  await a.click('#nick-btn');
  await a.fill('#nick-input', alice);
  await a.press('#nick-input', 'Enter');
  await until('nick changed', async () => (await nickOf(a)) === alice);
  await a.waitForSelector('#nick-form', { state: 'hidden' });
  await t.waitFor(`* ${old} is now known as ${alice}`);
  await waitNotice(b, new RegExp(`${old} is now known as ${alice}`));
  assert.equal(await a.evaluate(() => JSON.parse(localStorage.getItem('chatgate.nick'))), alice);

  // Collision, typed as a command: shown in the log and under the input.
  await type(b, `/nick ${alice.toUpperCase()}`);
  await waitNotice(b, /already taken/);
  assert.match(await b.textContent('#hint'), /already taken/);

  // A bad nick through the form: the error sits next to the field.
  await b.click('#nick-btn');
  await b.fill('#nick-input', 'no spaces!');
  await b.press('#nick-input', 'Enter');
  await b.waitForSelector('#nick-error:has-text("can\'t be used as a nick")');
  assert.equal(await b.isVisible('#nick-form'), true);
  await b.press('#nick-input', 'Escape');
  await b.waitForSelector('#nick-form', { state: 'hidden' });

  // Reload: the page claims its nick again.
  await a.reload();
  await until('nick re-claimed after reload', async () => (await nickOf(a)) === alice, 10000);
  assertClean(a, b);
});

test('rooms: join and leave, member counts, unread counts, current room remembered', async () => {
  const a = await page();
  const b = await page();
  const t = await tcp();
  const room = unique('dev-');

  await a.fill('#join-input', room);
  await a.press('#join-input', 'Enter');
  await a.waitForSelector(`#room-title:text-is("#${room}")`);
  await type(b, `/join #${room.toUpperCase()}`);
  await b.waitForSelector(`#room-title:text-is("#${room}")`);
  await until('a counts 2', async () => (await roomCount(a, room)) === 2);
  await waitNotice(a, new RegExp(`${await nickOf(b)} ws joined`));

  t.send(`/join ${room}`);
  await until('a counts 3', async () => (await roomCount(a, room)) === 3);
  const people = await a.locator('#people li').allTextContents();
  assert.ok(people.some((p) => p.includes(t.nick) && p.includes('tcp')), `people: ${people}`);

  // Unread: A looks at lobby while the terminal talks in the room.
  await switchRoom(a, 'lobby');
  t.send('are you there?');
  await until('unread badge', async () => (await a.textContent(`#my-rooms li[data-key="${room}"]`)).includes('1 unread'));
  await switchRoom(a, room);
  await waitMessage(a, { text: 'are you there?', via: 'tcp' });
  assert.equal(await a.locator(`#my-rooms li[data-key="${room}"] .unread`).count(), 0);

  // B leaves with the button: A sees it and the count drops.
  await b.click('#leave-btn');
  await until('b left', async () => (await b.locator(`#my-rooms li[data-key="${room}"]`).count()) === 0);
  await waitNotice(a, new RegExp(`${await nickOf(b)} ws left`));
  await until('a counts 2 again', async () => (await roomCount(a, room)) === 2);
  await until('b sees it under other rooms', async () => (await b.locator(`#all-rooms li[data-key="${room}"]`).count()) === 1);

  // Leave and join again by keyboard alone: the join field, then Alt+arrows between rooms.
  await b.focus('#join-input');
  await b.keyboard.type(room);
  await b.keyboard.press('Enter');
  await b.waitForSelector(`#room-title:text-is("#${room}")`);
  await b.keyboard.press('Alt+ArrowUp');
  await b.waitForSelector('#room-title:text-is("#lobby")');
  await b.keyboard.press('Alt+ArrowDown');
  await b.waitForSelector(`#room-title:text-is("#${room}")`);

  // The current room survives a reload.
  await a.reload();
  await a.waitForSelector(`#room-title:text-is("#${room}")`);
  await waitMessage(a, { text: 'are you there?' });
  assertClean(a, b);
});

test('history on join arrives oldest first', async () => {
  const t = await tcp();
  const room = unique('hist-');
  t.send(`/join ${room}`);
  for (const n of [1, 2, 3]) t.send(`history line ${n}`);
  const probe = await tcp();
  probe.send(`/join ${room}`);
  await probe.waitFor(`[${room}] ${t.nick}: history line 3`);

  const a = await page();
  await type(a, `/join ${room}`);
  await until('three history lines', async () => (await messages(a)).length >= 3);
  const texts = (await messages(a)).map((m) => m.text);
  assert.deepEqual(texts, ['history line 1', 'history line 2', 'history line 3']);
  assert.ok((await messages(a)).every((m) => m.via === 'tcp' && m.from === t.nick));
  assertClean(a);
});

test('/me actions are sent and shown as actions', async () => {
  const a = await page();
  const b = await page();
  const t = await tcp();
  const room = unique('me-');
  await type(a, `/join ${room}`);
  await type(b, `/join ${room}`);
  t.send(`/join ${room}`);
  await until('three members', async () => (await roomCount(a, room)) === 3);
  const na = await nickOf(a);

  await type(a, '/me waves');
  await waitMessage(b, { from: na, text: 'waves', action: true });
  await t.waitFor(`[${room}] * ${na} waves`);
  t.send('/me nods');
  await waitMessage(a, { from: t.nick, text: 'nods', action: true, via: 'tcp' });
  assert.equal(await countMessages(a, { text: 'waves', action: true }), 1);
  const style = await a.locator('ol.log:not([hidden]) li.msg.action .body').first()
    .evaluate((node) => getComputedStyle(node).fontStyle);
  assert.equal(style, 'italic');
  assertClean(a, b);
});

test('commands and errors are shown as readable text', async () => {
  const a = await page();
  await type(a, '/help');
  await waitNotice(a, /Commands:.*\/nick NAME.*\/join ROOM.*\/leave.*\/me TEXT.*\/who.*\/rooms.*\/help/s);
  await type(a, '/who');
  await waitNotice(a, new RegExp(`In #lobby: .*${await nickOf(a)}`));
  await type(a, '/rooms');
  await waitNotice(a, /Rooms: .*#lobby \(\d+\)/);
  await type(a, '/join no#way');
  await waitNotice(a, /isn't a valid room name/);
  await type(a, '/frobnicate');
  await waitNotice(a, /Unknown command: \/frobnicate/);
  await type(a, '/leave nowhere');
  await waitNotice(a, /You are not in #nowhere/);
  assertClean(a);
});

test('HTML from a TCP client is shown as text and runs nothing', async () => {
  const a = await page();
  const t = await tcp();
  const room = unique('xss-');
  await type(a, `/join ${room}`);
  t.send(`/join ${room}`);
  await until('tcp joined', async () => (await roomCount(a, room)) === 2);
  const evil = '<img src=x onerror=alert(1)>';
  t.send(evil);
  t.send('/me <b>bold?</b><script>alert(2)</script>');
  await waitMessage(a, { text: evil, via: 'tcp' });
  await waitMessage(a, { text: '<b>bold?</b><script>alert(2)</script>', action: true });
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(await a.locator('#logs img, #logs b, #logs script').count(), 0);
  assert.deepEqual(a.dialogs, []);
  assertClean(a);
});

test('auto-scroll follows new messages but leaves a reader who scrolled up alone', async () => {
  const a = await page();
  const t = await tcp();
  const room = unique('scroll-');
  await type(a, `/join ${room}`);
  t.send(`/join ${room}`);
  await until('tcp joined', async () => (await roomCount(a, room)) === 2);
  for (let n = 1; n <= 30; n++) t.send(`line ${n} of a long scrollback`);
  await waitMessage(a, { text: 'line 30 of a long scrollback' });
  const log = a.locator('ol.log:not([hidden])');
  const gap = () => log.evaluate((n) => n.scrollHeight - n.scrollTop - n.clientHeight);
  await until('pinned to the end', async () => (await gap()) < 2);
  assert.ok(await log.evaluate((n) => n.scrollHeight > n.clientHeight * 1.3), 'the log overflows');

  await log.evaluate((n) => { n.scrollTop = 0; });
  await a.waitForTimeout(100);
  await new Promise((resolve) => setTimeout(resolve, 1200)); // let the rate limit refill
  t.send('news while you read');
  await waitMessage(a, { text: 'news while you read' });
  await a.waitForTimeout(150);
  assert.equal(await log.evaluate((n) => n.scrollTop), 0, 'the reader stays where they were');
  assert.match(await a.textContent('#jump-btn'), /1 new message/);

  await a.click('#jump-btn');
  await until('back at the end', async () => (await gap()) < 2);
  assert.equal(await a.isVisible('#jump-btn'), false);
  assertClean(a);
});

test('a message the server refuses is marked, explained, and kept for editing', async () => {
  const a = await page();
  const long = 'x'.repeat(5000);
  await type(a, long);
  await a.waitForSelector('ol.log:not([hidden]) li.msg.failed .state:text("not sent: too long")');
  assert.match(await a.textContent('#hint'), /too long/);
  assert.equal((await a.inputValue('#composer-input')).length, 5000);
  assertClean(a);
});

test('a returning visitor gets back many rooms at once without being rate limited', async () => {
  const rooms = Array.from({ length: 45 }, (_, i) => `many-${i}`);
  const a = await page({ storage: { 'chatgate.rooms': rooms, 'chatgate.room': 'many-44' } });
  await a.waitForSelector('#room-title:text-is("#many-44")');
  await until('45 rooms joined', async () => (await a.locator('#my-rooms li:not(.pending)').count()) === 45, 10000);
  assert.equal(await a.locator('#my-rooms li[data-key="lobby"]').count(), 0, 'lobby left again, as before');
  await type(a, 'still here');
  await waitMessage(a, { text: 'still here', pending: false });
  assert.equal(await a.locator('.notice.error').count(), 0, await a.locator('.notice.error').allTextContents());
  assertClean(a);
});
