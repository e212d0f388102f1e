// How the page looks: a small conversation across every transport, with a
// topic, a mention and direct messages, saved as screenshots (desktop 1280x800,
// phone 390x844) in docs/screenshots/; the phone layout must not scroll sideways.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startServer, screenshotDir } from './lib/server.mjs';
import { TextClient } from './lib/tcp.mjs';
import {
  launchBrowser, openPage, assertClean, type, until, waitMessage, waitNotice, nickOf, PHONE, DESKTOP,
} from './lib/browser.mjs';

const shots = screenshotDir;
let server;
let browser;
const cleanups = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  mkdirSync(shots, { recursive: true });
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn().catch(() => {});
  await browser?.close();
  await server?.stop();
});

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function udpSay(lines) {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.send(lines.join('\n'), server.ports.udp, '127.0.0.1', (err) => (err ? reject(err) : resolve(socket)));
  });
}

async function setNick(page, nick) {
  await type(page, `/nick ${nick}`);
  await until(`nick ${nick}`, async () => (await nickOf(page)) === nick);
}

async function noSidewaysScroll(page) {
  const widths = await page.evaluate(() => ({
    doc: document.documentElement.scrollWidth,
    body: document.body.scrollWidth,
    view: window.innerWidth,
    wide: [...document.querySelectorAll('body *')]
      .filter((n) => n.getClientRects().length && !n.closest('.sidebar, .tabs, .sr-only'))
      .filter((n) => n.getBoundingClientRect().right > window.innerWidth + 1)
      .map((n) => n.id || n.className || n.tagName).slice(0, 5),
  }));
  assert.ok(widths.doc <= widths.view && widths.body <= widths.view, JSON.stringify(widths));
  assert.deepEqual(widths.wide, [], 'elements sticking out to the right');
}

test('a conversation on desktop and phone, light and dark, with screenshots', async () => {
  const ada = await TextClient.connect(server.ports.tcp);
  cleanups.push(async () => ada.close());
  ada.send('/nick ada');
  await ada.waitFor('* ' + ada.nick + ' is now known as ada');

  const lin = await openPage(browser, server.url, { viewport: DESKTOP });
  cleanups.push(() => lin.context().close());
  await setNick(lin, 'lin');
  const sam = await openPage(browser, server.url, { viewport: PHONE });
  cleanups.push(() => sam.context().close());
  await setNick(sam, 'sam');

  ada.send('/topic Nightly builds, releases and the coffee rota');
  await until('topic shown', async () => /coffee rota/.test(await lin.textContent('#room-topic')));
  ada.send('morning lin! the nightly build is green again');
  await waitMessage(lin, { text: 'morning lin! the nightly build is green again' });
  assert.equal(await lin.locator('ol.log:not([hidden]) mark.mention').count(), 1);
  await type(lin, 'nice, was it the flaky UDP test?');
  await waitMessage(sam, { text: 'nice, was it the flaky UDP test?' });
  const grace = await udpSay(['/nick grace', 'yes: the idle timer fired too early. fixed now']);
  cleanups.push(async () => grace.close());
  await waitMessage(lin, { text: 'yes: the idle timer fired too early. fixed now', via: 'udp' });
  ada.send('/me brings coffee for everyone');
  await waitMessage(lin, { text: 'brings coffee for everyone', action: true });
  await type(sam, 'I will take one ☕');
  await waitMessage(lin, { text: 'I will take one ☕' });

  // Echo traffic shows up in #echo; lin watches it, sam joins #design.
  await type(lin, '/join echo');
  await lin.waitForSelector('#room-title:text-is("#echo")');
  const echo = net.connect(server.ports.echo, '127.0.0.1');
  cleanups.push(async () => echo.destroy());
  await new Promise((resolve) => echo.once('connect', resolve));
  echo.write('PING 1\n');
  await waitMessage(lin, { text: 'PING 1', via: 'echo' });
  await type(sam, '/join design');
  await sam.waitForSelector('#room-title:text-is("#design")');
  await type(sam, 'mock-ups for the room list are in the wiki');
  await type(sam, '/join lobby');
  await sam.waitForSelector('#room-title:text-is("#lobby")');
  await lin.click('#my-rooms li[data-key="lobby"] .room-btn');
  await lin.waitForSelector('#room-title:text-is("#lobby")');
  echo.write('PING 2\n');
  ada.send('see you at the stand-up');
  await waitMessage(lin, { text: 'see you at the stand-up' });
  await until('echo unread', async () => /1 unread/.test(await lin.textContent('#my-rooms li[data-key="echo"]')));
  await until('room list', async () => /design/.test(await lin.textContent('#all-rooms')));
  await waitMessage(sam, { text: 'see you at the stand-up' });
  await lin.fill('#composer-input', 'on my way');
  await pause(200);

  await lin.screenshot({ path: path.join(shots, 'desktop-light.png') });
  await lin.emulateMedia({ colorScheme: 'dark' });
  await pause(100);
  await lin.screenshot({ path: path.join(shots, 'desktop-dark.png') });

  await noSidewaysScroll(sam);
  await sam.screenshot({ path: path.join(shots, 'phone-light.png') });
  await sam.click('#menu-btn');
  await sam.waitForSelector('#sidebar', { state: 'visible' });
  await pause(250);
  await sam.screenshot({ path: path.join(shots, 'phone-rooms.png') });
  await sam.keyboard.press('Escape');
  await sam.emulateMedia({ colorScheme: 'dark' });
  await pause(250);
  await noSidewaysScroll(sam);
  await sam.screenshot({ path: path.join(shots, 'phone-dark.png') });

  // The phone layout still works: the message box and the send button are on screen.
  const box = await sam.locator('#composer button').boundingBox();
  assert.ok(box && box.x + box.width <= PHONE.width, JSON.stringify(box));

  // Direct conversations: sam opens one from the people list in the phone panel,
  // lin answers with /msg, ada writes to lin from the terminal.
  await sam.emulateMedia({ colorScheme: 'light' });
  await lin.emulateMedia({ colorScheme: 'light' });
  await sam.click('#menu-btn');
  await sam.click('#people .person-btn:has-text("lin")');
  await sam.waitForSelector('#room-title:text-is("@lin")');
  await sam.waitForSelector('#sidebar', { state: 'hidden' });
  await type(sam, 'are you coming to the demo? the room is booked until 3');
  await until('lin has it', async () => /1 unread/.test(await lin.textContent('#dms li[data-key="@sam"]')));
  await type(lin, '/msg sam yes, in five minutes. bringing the laptop with the UDP fix');
  await lin.waitForSelector('#room-title:text-is("@sam")');
  await waitMessage(sam, { text: 'yes, in five minutes. bringing the laptop with the UDP fix' });
  ada.send('/msg lin the patch is on the review board when you have a minute');
  await until('ada dm unread', async () => /1 unread/.test(await lin.textContent('#dms li[data-key="@ada"]')));
  await type(sam, 'great, I will save you a seat');
  await waitMessage(lin, { text: 'great, I will save you a seat' });
  await lin.fill('#composer-input', 'see you there');
  await pause(200);
  await lin.screenshot({ path: path.join(shots, 'desktop-dm.png') });
  await noSidewaysScroll(sam);
  await sam.screenshot({ path: path.join(shots, 'phone-dm.png') });
  assertClean(lin, sam);
});
