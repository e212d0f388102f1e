// The page in a room above the server's --presence-limit (3 here): joins and
// leaves arrive as counts (`presence`), the people list shows the first names
// and "and K more", the room's count stays right, and /who lists everyone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { TextClient } from './lib/tcp.mjs';
import {
  launchBrowser, openPage, assertClean, type, notices, until, roomCount, unique,
} from './lib/browser.mjs';

let server;
let browser;
const opened = [];

before(async () => {
  server = await startServer({ args: ['--presence-limit', '3'] });
  browser = await launchBrowser();
});

after(async () => {
  for (const x of opened) x.close?.();
  await browser?.close();
  await server?.stop();
});

async function page() {
  const p = await openPage(browser, server.url);
  opened.push({ close: () => p.context().close().catch(() => {}) });
  return p;
}

async function tcp() {
  const client = await TextClient.connect(server.ports.tcp);
  opened.push(client);
  return client;
}

const people = (p) => p.locator('#people li').allTextContents();
const more = (p) => p.evaluate(() => {
  const el = document.getElementById('people-more');
  return el.hidden ? '' : el.textContent;
});

test('a room above the presence limit: first names, "and K more", exact count and /who', async () => {
  const a = await page();
  const room = unique('big-');
  await type(a, `/join ${room}`);
  await until('A in the room', async () => (await roomCount(a, room)) === 1);
  const crowd = [];
  for (let i = 0; i < 4; i++) {
    const t = await tcp();
    t.send(`/join ${room}`);
    crowd.push(t);
  }
  // The first two arrived one by one (the room had at most 3); the others
  // come as a count within about a second.
  await until('A counts 5', async () => (await roomCount(a, room)) === 5, 10000);
  assert.equal((await people(a)).length, 3);
  assert.equal(await more(a), 'and 2 more');

  // A page that joins the big room now gets 3 names and the room's size.
  const b = await page();
  await type(b, `/join ${room}`);
  await until('B counts 6', async () => (await roomCount(b, room)) === 6, 10000);
  assert.equal((await people(b)).length, 3);
  assert.equal(await more(b), 'and 3 more');

  // Someone leaves: counted, and both pages follow.
  crowd.pop().send('/quit');
  await until('B counts 5', async () => (await roomCount(b, room)) === 5, 10000);
  await until('A counts 5 again', async () => (await roomCount(a, room)) === 5, 10000);
  assert.equal(await more(b), 'and 2 more');

  // /who asked by the user is exact: every name, not the first 3.
  await type(b, '/who');
  const listed = await until('the /who answer', async () => (await notices(b)).find((t) => t.startsWith(`In #${room}: `)));
  for (const t of crowd) assert.ok(listed.includes(t.nick), `${t.nick} in ${listed}`);
  assert.equal(listed.split(', ').length, 5, listed);
  assertClean(a, b);
});
