// Debian's chromium driven by playwright-core, plus helpers that read the page
// the way a person sees it.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

// A page in its own context (its own localStorage), recording console errors,
// uncaught exceptions and dialogs so every test can insist there were none.
// `init`: a function (and `initArg`) run in the page before its own scripts, e.g. stubs.
// Self-signed certificates (tests over HTTPS) are accepted. `connected`:
// wait until the page is connected and welcomed.
export async function openPage(browser, url, {
  viewport = DESKTOP, colorScheme = 'light', storage = null, init = null, initArg = null, permissions = [],
  connected = true, allowConsole = [],
} = {}) {
  const context = await browser.newContext({ viewport, colorScheme, ignoreHTTPSErrors: true });
  if (permissions.length) await context.grantPermissions(permissions, { origin: new URL(url).origin });
  if (init) await context.addInitScript(init, initArg);
  if (storage) {
    // What an earlier visit left in localStorage.
    await context.addInitScript((entries) => {
      for (const [key, value] of Object.entries(entries)) localStorage.setItem(key, JSON.stringify(value));
    }, storage);
  }
  const page = await context.newPage();
  page.problems = [];
  page.dialogs = [];
  page.allowConsole = [...allowConsole];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (page.allowConsole.some((re) => re.test(text))) return;
    page.problems.push(`console error: ${text}`);
  });
  page.on('pageerror', (err) => page.problems.push(`uncaught: ${err.message}`));
  page.on('dialog', async (dialog) => {
    page.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    await dialog.dismiss();
  });
  await page.goto(url);
  if (connected) await waitConnected(page);
  return page;
}

export function assertClean(...pages) {
  for (const page of pages) {
    assert.deepEqual(page.problems, [], 'console errors or uncaught exceptions');
    assert.deepEqual(page.dialogs, [], 'dialogs opened');
  }
}

export async function waitConnected(page, timeout = 10000) {
  await page.waitForSelector('#conn[data-state="connected"]', { timeout });
  await page.waitForFunction(() => {
    const nick = document.getElementById('nick-name').textContent;
    return nick && nick !== '…' && !document.querySelector('#my-rooms li.pending');
  }, null, { timeout });
}

export const nickOf = (page) => page.textContent('#nick-name');
export const connText = (page) => page.textContent('#conn-text');

export async function type(page, line) {
  await page.fill('#composer-input', line);
  await page.press('#composer-input', 'Enter');
}

// Messages in the room on screen, as the reader sees them.
export function messages(page) {
  return page.evaluate(() => [...document.querySelectorAll('ol.log:not([hidden]) > li.msg')].map((li) => ({
    from: li.querySelector('.from')?.textContent,
    via: li.querySelector('.via')?.textContent,
    text: li.querySelector('.text')?.textContent,
    action: li.classList.contains('action'),
    pending: li.classList.contains('pending'),
    time: li.querySelector('time')?.textContent,
  })));
}

export function notices(page) {
  return page.evaluate(() => [...document.querySelectorAll('ol.log:not([hidden]) > li.notice')]
    .map((li) => li.querySelector('.body').textContent));
}

export async function until(what, fn, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function waitMessage(page, match, timeoutMs = 5000) {
  const hit = (m) => Object.entries(match).every(([k, v]) => m[k] === v);
  return until(`message ${JSON.stringify(match)}`, async () => (await messages(page)).find(hit), timeoutMs);
}

export async function countMessages(page, match) {
  const hit = (m) => Object.entries(match).every(([k, v]) => m[k] === v);
  return (await messages(page)).filter(hit).length;
}

export async function waitNotice(page, pattern, timeoutMs = 5000) {
  return until(`notice ${pattern}`, async () => (await notices(page)).find((t) => pattern.test(t)), timeoutMs);
}

export async function roomCount(page, room) {
  const text = await page.locator(`#my-rooms li[data-key="${room}"] .count, #all-rooms li[data-key="${room}"] .count`)
    .first().textContent({ timeout: 2000 }).catch(() => null);
  return text === null ? null : parseInt(text, 10);
}

// The direct conversation with `nick` in the sidebar list (key: "@" + lower case).
export const dmItem = (page, nick) => page.locator(`#dms li[data-key="@${nick.toLowerCase()}"]`);

export async function switchRoom(page, room) {
  await page.click(`#my-rooms li[data-key="${room}"] .room-btn`);
  await page.waitForSelector(`#room-title:text-is("#${room}")`);
}

export const unique = (prefix) => `${prefix}${Math.random().toString(36).slice(2, 7)}`;
