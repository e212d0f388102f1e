// SPEC 13 in the page: served over HTTPS it talks wss:// by itself; a token
// in the URL's fragment signs it in and leaves the address bar; a server
// that requires a token the page does not have is explained in words, not
// retried forever.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { suite } from './lib/suite.mjs';
import { assertClean, nickOf, type, until, waitConnected, waitMessage, unique } from './lib/browser.mjs';

const SECRET = 'browser-test-secret';
// Chromium logs each WebSocket handshake the server refuses.
const REFUSED = /WebSocket connection to '.*\/ws.*' failed/;

const b64 = (data) => Buffer.from(data).toString('base64url');
function jwt(sub, claims = {}, secret = SECRET) {
  const head = `${b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64(JSON.stringify({ sub, ...claims }))}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

// Every WebSocket the page opens, by URL (an init script: Playwright does
// not report handshakes that fail).
function countSockets() {
  window.__sockets = [];
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url, ...rest) {
      window.__sockets.push(String(url));
      super(url, ...rest);
    }
  };
}
const sockets = (page) => page.evaluate(() => window.__sockets);

const open = suite({ tls: true, args: ['--auth-secret', SECRET] });
const strict = suite({ tls: true, args: ['--auth-secret', SECRET, '--require-auth'] });

test('over HTTPS the page connects with wss:// and chats with a terminal', async () => {
  assert.match(open.server.url, /^https:/);
  const page = await open.page({ init: countSockets });
  assert.match((await sockets(page))[0], /^wss:\/\/127\.0\.0\.1:\d+\/ws$/);
  const t = await open.tcp();
  const room = unique('sec-');
  await type(page, `/join ${room}`);
  t.send(`/join ${room}`);
  await page.waitForSelector(`#room-title:text-is("#${room}")`);
  await type(page, 'hello over wss');
  await t.waitFor(`[${room}] ${await nickOf(page)}: hello over wss`);
  t.send('hello over tcp');
  await waitMessage(page, { from: t.nick, via: 'tcp', text: 'hello over tcp' });
  assertClean(page);
});

test('#token= gives the token\'s nick, leaves the address bar, and is kept for reconnects', async () => {
  const nick = unique('tok-');
  const token = jwt(nick, { exp: Math.floor(Date.now() / 1000) + 600 });
  const page = await open.page({ url: `${open.server.url}#token=${token}`, init: countSockets });
  assert.equal(await nickOf(page), nick);
  assert.equal(page.url(), open.server.url, 'the token left the address bar');
  assert.equal(await page.evaluate(() => window.location.hash), '');
  assert.equal((await sockets(page))[0], `${open.server.url.replace('https', 'wss')}ws?token=${token}`);
  // Kept in this tab's sessionStorage: a reload is still signed in.
  assert.equal(await page.evaluate(() => sessionStorage.getItem('chatgate.token')), token);
  await page.reload();
  await waitConnected(page);
  assert.equal(await nickOf(page), nick);
  assert.equal(page.url(), open.server.url);
  // The nick is reserved: another page cannot take it.
  const other = await open.page();
  await type(other, `/nick ${nick}`);
  await until('nick taken explained', async () => (await other.textContent('body')).includes('already taken'));
  assertClean(page, other);
});

test('a required token missing or refused is said in words, and the page stops retrying', async () => {
  const page = await strict.page({ connected: false, init: countSockets, allowConsole: [REFUSED] });
  await page.waitForSelector('#conn[data-state="refused"]', { timeout: 10000 });
  assert.equal(await page.textContent('#conn-text'), 'sign-in needed');
  assert.match(await page.textContent('#signin-text'), /needs a sign-in token, and this page has none/);
  assert.equal(await page.isVisible('#signin'), true);
  // No hammering: the page waits instead of reconnecting.
  const tries = (await sockets(page)).length;
  await new Promise((resolve) => setTimeout(resolve, 4000));
  assert.equal((await sockets(page)).length, tries, 'no new attempts after the refusal');
  assert.ok(tries <= 2, `${tries} attempts before giving up`);
  assert.equal(await page.isVisible('#retry-btn'), false);

  // A new link with a good token (pasted into the address bar) signs in.
  const nick = unique('late-');
  await page.evaluate((t) => { window.location.hash = `token=${t}`; }, jwt(nick));
  await waitConnected(page);
  assert.equal(await nickOf(page), nick);
  assert.equal(await page.isVisible('#signin'), false);
  assert.equal(await page.evaluate(() => window.location.hash), '');

  // An expired token: the reason, in words.
  const expired = await strict.page({
    url: `${strict.server.url}#token=${jwt('old', { exp: 1000 })}`, connected: false, allowConsole: [REFUSED],
  });
  await expired.waitForSelector('#conn[data-state="refused"]', { timeout: 10000 });
  assert.match(await expired.textContent('#signin-text'), /refused this page's sign-in token \(expired\)/);
  assertClean(page, expired);
});

test('a server that is down is not mistaken for a refusal', async () => {
  const page = await strict.page({ url: `${strict.server.url}#token=${jwt(unique('up-'))}` });
  await strict.server.stop();
  await page.waitForSelector('#conn[data-state="offline"]', { timeout: 10000 });
  page.allowConsole.push(REFUSED, /Failed to load resource|ERR_CONNECTION_REFUSED/);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  assert.notEqual(await page.getAttribute('#conn', 'data-state'), 'refused');
  assert.equal(await page.isVisible('#signin'), false);
});
