// The page loses its server (restart) or its network (cut connections) and
// must come back by itself: offline shown, reconnect, nick and rooms restored,
// nothing missed, nothing doubled.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startServer, startServerOnPorts, screenshotDir } from './lib/server.mjs';
import { startProxy } from './lib/proxy.mjs';
import { TextClient } from './lib/tcp.mjs';
import {
  launchBrowser, openPage, assertClean, waitConnected, nickOf, type, until,
  waitMessage, countMessages, notices, unique, PHONE, DESKTOP,
} from './lib/browser.mjs';

// Chromium itself logs each refused WebSocket attempt while the server is away.
const REFUSED = /WebSocket connection to '.*\/ws' failed/;

let browser;
const cleanups = [];

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn().catch(() => {});
  await browser?.close();
});

function sentFrames(page) {
  const frames = [];
  page.on('websocket', (ws) => ws.on('framesent', (f) => {
    try {
      frames.push(JSON.parse(f.payload));
    } catch { /* not JSON */ }
  }));
  return frames;
}

async function setUp(url) {
  const page = await openPage(browser, url);
  const frames = sentFrames(page);
  const nick = unique('rita-');
  await type(page, `/nick ${nick}`);
  await until('nick set', async () => (await nickOf(page)) === nick);
  const room = unique('dev-');
  await type(page, `/join ${room}`);
  await page.waitForSelector(`#room-title:text-is("#${room}")`);
  // Remember every connection state shown, however briefly.
  await page.evaluate(() => {
    const conn = document.getElementById('conn');
    window.shownStates = [];
    new MutationObserver(() => window.shownStates.push(
      `${conn.dataset.state}: ${conn.textContent.trim()}`,
    )).observe(conn, { attributes: true, subtree: true, childList: true, characterData: true });
  });
  return { page, frames, nick, room };
}

test('server restart: offline, then back with nick, rooms and every message once', async () => {
  let server = await startServer();
  cleanups.push(() => server.stop());
  const { page, frames, nick, room } = await setUp(server.url);

  const t = await TextClient.connect(server.ports.tcp);
  t.send(`/join ${room}`);
  for (const n of [1, 2, 3]) t.send(`before ${n}`);
  await waitMessage(page, { text: 'before 3', via: 'tcp' });
  await type(page, 'page before');
  await t.waitFor(`[${room}] ${nick}: page before`);
  t.close();

  page.allowConsole.push(REFUSED);
  const ports = server.ports;
  await server.stop();
  await page.waitForSelector('#conn[data-state="offline"]', { timeout: 5000 });
  assert.match(await page.textContent('#conn-text'), /offline/);
  // Offline at phone width: the longer status still fits.
  await page.setViewportSize(PHONE);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scroll');
  await page.setViewportSize(DESKTOP);
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, 'desktop-offline.png') });
  await until('a reconnect attempt shown', () => page.evaluate(() =>
    window.shownStates.some((s) => s.startsWith('reconnecting: reconnecting'))));

  // Restart while the page waits out its backoff, and post before it is back:
  // the restarted server numbers this message 1 again, below what the page saw.
  await until('a retry at least 1.5 s away', () => page.evaluate(() =>
    window.chatgate.conn.state === 'offline' && window.chatgate.conn.retryAt - Date.now() > 1500), 15000);
  const downFor = Date.now();
  server = await startServerOnPorts(ports);
  const t2 = await TextClient.connect(server.ports.tcp);
  t2.send(`/join ${room}`);
  t2.send('while you were away');
  await t2.waitFor(`* ${t2.nick} joined #${room}`).catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.notEqual(await page.getAttribute('#conn', 'data-state'), 'connected', 'page came back too early for this test');

  await waitConnected(page, 15000);
  assert.ok(Date.now() - downFor < 15000);
  await until('nick re-claimed', async () => (await nickOf(page)) === nick, 10000);
  await waitMessage(page, { text: 'while you were away', via: 'tcp' });
  t2.send('/who');
  await t2.waitFor(`* ${nick} (ws)`);
  t2.send('after the restart');
  await waitMessage(page, { text: 'after the restart', via: 'tcp' });
  await type(page, 'page after');
  await t2.waitFor(`[${room}] ${nick}: page after`);
  await waitMessage(page, { text: 'page after', pending: false });

  await new Promise((resolve) => setTimeout(resolve, 300));
  for (const text of ['before 1', 'before 2', 'before 3', 'page before', 'while you were away',
    'after the restart', 'page after']) {
    assert.equal(await countMessages(page, { text }), 1, `“${text}” shown once`);
  }
  const texts = (await page.evaluate(() => [...document.querySelectorAll('ol.log:not([hidden]) .text')]
    .map((n) => n.textContent)));
  assert.ok(texts.indexOf('page before') < texts.indexOf('while you were away'), 'old messages stay above new ones');
  const said = await notices(page);
  assert.ok(said.some((s) => /Disconnected/.test(s)) && said.some((s) => /Reconnected/.test(s)), said.join('\n'));
  assert.ok(frames.some((f) => f.type === 'join' && f.room === room && f.since === 3), 'rejoined with since');
  t2.close();
  assertClean(page);
});

test('network cut while the server stays up: messages sent meanwhile arrive once', async () => {
  const server = await startServer();
  cleanups.push(() => server.stop());
  const proxy = await startProxy(server.ports.http);
  cleanups.push(() => proxy.close());
  const { page, frames, nick, room } = await setUp(`http://127.0.0.1:${proxy.port}/`);

  const t = await TextClient.connect(server.ports.tcp);
  t.send(`/join ${room}`);
  t.send('before the cut 1');
  t.send('before the cut 2');
  await waitMessage(page, { text: 'before the cut 2' });

  page.allowConsole.push(REFUSED);
  await proxy.cut();
  await page.waitForSelector('#conn[data-state="offline"]', { timeout: 5000 });
  t.send('during the cut 1');
  t.send('during the cut 2');
  await t.waitFor(`* ${nick} left #${room}`);
  await proxy.restore();

  await waitConnected(page, 15000);
  await until('nick re-claimed', async () => (await nickOf(page)) === nick, 10000);
  await waitMessage(page, { text: 'during the cut 2' });
  t.send('after the cut');
  await waitMessage(page, { text: 'after the cut' });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const texts = (await page.evaluate(() => [...document.querySelectorAll('ol.log:not([hidden]) .text')]
    .map((n) => n.textContent)));
  assert.deepEqual(texts, ['before the cut 1', 'before the cut 2', 'during the cut 1', 'during the cut 2',
    'after the cut']);
  // Rejoined from the last id seen, with that one message repeated as proof (see docs/web.md).
  const rejoin = frames.filter((f) => f.type === 'join' && f.room === room).at(-1);
  assert.equal(rejoin.since, 1);
  const shown = await page.evaluate(() => window.shownStates);
  assert.ok(shown.some((s) => /^offline: offline/.test(s)), shown.join('\n'));
  assert.ok(shown.some((s) => /^connected: connected/.test(s)), shown.join('\n'));
  t.close();
  assertClean(page);
});
