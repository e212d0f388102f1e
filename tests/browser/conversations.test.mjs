// Conversations in the page (SPEC 12): direct messages between pages and with
// a terminal, room topics, leaving, mentions of one's own nick and the desktop
// notification they raise while the tab is hidden.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suite } from './lib/suite.mjs';
import {
  assertClean, nickOf, type, messages, until, dmItem,
  waitMessage, countMessages, waitNotice, roomCount, switchRoom, unique,
} from './lib/browser.mjs';

const s = suite();
const page = (options) => s.page(options);
const tcp = () => s.tcp();
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function setNick(p, nick) {
  await type(p, `/nick ${nick}`);
  await until(`nick ${nick}`, async () => (await nickOf(p)) === nick);
}

// Pages (and terminals) in a fresh room, on screen in every page.
async function together(room, pages, terminals = []) {
  for (const p of pages) {
    await type(p, `/join ${room}`);
    await p.waitForSelector(`#room-title:text-is("#${room}")`);
  }
  for (const t of terminals) t.send(`/join ${room}`);
  const n = pages.length + terminals.length;
  for (const p of pages) await until(`${n} in #${room}`, async () => (await roomCount(p, room)) === n);
}

const title = (p) => p.textContent('#room-title');
const unreadOf = async (item) => {
  const badge = item.locator('.unread');
  return (await badge.count()) ? parseInt(await badge.textContent(), 10) : 0;
};

test('a direct message by clicking a name: both sides shown, unread counts, nobody else sees it', async () => {
  const a = await page();
  const b = await page();
  const t = await tcp();
  const room = unique('dm-');
  await together(room, [a, b], [t]);
  const [na, nb] = [await nickOf(a), await nickOf(b)];

  // A clicks B's name in the people list: the conversation opens, ready to type.
  await a.click(`#people .person-btn:has-text("${nb}")`);
  await until('dm on screen', async () => (await title(a)) === `@${nb}`);
  assert.equal(await a.evaluate(() => document.activeElement.id), 'composer-input');
  assert.match(await a.textContent('#room-topic'), new RegExp(`Only you and ${nb}`));
  await a.keyboard.type('psst, only for you');
  await a.keyboard.press('Enter');

  // A sees its copy once, acknowledged by the server (not pending).
  await waitMessage(a, { from: na, text: 'psst, only for you', pending: false });
  // B is looking at the room: the conversation appears in its list with an unread count.
  await until('b has the dm, unread 1', async () => (await dmItem(b, na).count()) === 1
    && (await unreadOf(dmItem(b, na))) === 1);
  assert.equal(await countMessages(b, { text: 'psst, only for you' }), 0, 'not in the room log');
  assert.equal(await title(b), `#${room}`, 'B stays where it was');

  // A second DM: the count grows; opening the conversation clears it.
  await type(a, 'are you there?');
  await until('unread 2', async () => (await unreadOf(dmItem(b, na))) === 2);
  assert.match(await b.title(), /^\(2\) /, 'the tab title counts it too');
  await dmItem(b, na).locator('.room-btn').click();
  await until('b on the dm', async () => (await title(b)) === `@${na}`);
  await waitMessage(b, { from: na, via: 'ws', text: 'psst, only for you' });
  assert.equal(await unreadOf(dmItem(b, na)), 0);

  // B answers; A sees both sides in order.
  await type(b, 'yes, here');
  await waitMessage(a, { from: nb, text: 'yes, here' });
  assert.deepEqual((await messages(a)).map((m) => `${m.from}: ${m.text}`),
    [`${na}: psst, only for you`, `${na}: are you there?`, `${nb}: yes, here`]);
  assert.equal(await countMessages(b, { text: 'yes, here' }), 1);

  // Room unread counts still work next to it: the terminal talks in the room.
  t.send('room talk while you whisper');
  await until('room unread', async () => (await unreadOf(b.locator(`#my-rooms li[data-key="${room}"]`))) === 1);

  // Nobody else got the direct messages.
  await pause(300);
  assert.ok(!t.lines.some((l) => /psst|are you there\?|yes, here/.test(l)), t.lines.join('\n'));

  // /leave in a direct conversation closes it; /part leaves a room.
  await type(a, '/leave');
  await until('dm closed', async () => (await dmItem(a, nb).count()) === 0);
  assert.equal(await title(a), `#${room}`);
  await type(a, '/part');
  await until('room left', async () => (await a.locator(`#my-rooms li[data-key="${room}"]`).count()) === 0);
  await t.waitFor(`* ${na} left #${room}`);
  assertClean(a, b);
});

test('/msg to a terminal arrives as *FROM* TEXT; its /msg back opens the conversation in the page', async () => {
  const a = await page();
  const t = await tcp();
  const nick = unique('term-');
  t.send(`/nick ${nick}`);
  await t.waitFor(`* ${t.nick} is now known as ${nick}`);
  const na = await nickOf(a);

  await type(a, `/msg ${nick} hello terminal <b>not bold</b>`);
  await until('dm on screen', async () => (await title(a)) === `@${nick}`);
  await t.waitFor(`*${na}* hello terminal <b>not bold</b>`);
  await waitMessage(a, { from: na, text: 'hello terminal <b>not bold</b>', pending: false });

  // A looks at the lobby; the terminal writes back: unread on the conversation, not the room.
  await switchRoom(a, 'lobby');
  t.send(`/msg ${na} hi page, <img src=x onerror=alert(1)>`);
  await until('unread on the dm', async () => (await unreadOf(dmItem(a, nick))) === 1);
  assert.equal(await unreadOf(a.locator('#my-rooms li[data-key="lobby"]')), 0);
  await dmItem(a, nick).locator('.room-btn').click();
  await waitMessage(a, { from: nick, via: 'tcp', text: 'hi page, <img src=x onerror=alert(1)>' });
  assert.equal(await a.locator('#logs img, #logs b').count(), 0, 'text, never HTML');

  // The terminal (in #lobby with the page) takes another nick: the conversation follows it.
  const renamed = unique('term2-');
  t.send(`/nick ${renamed}`);
  await until('conversation renamed', async () => (await title(a)) === `@${renamed}`);
  assert.equal(await dmItem(a, nick).count(), 0);
  await waitNotice(a, new RegExp(`${nick} is now known as ${renamed}`));
  await type(a, 'still you?');
  await t.waitFor(`*${na}* still you?`);

  // The help lists the new commands.
  await type(a, '/help');
  const help = await a.locator('ol.log:not([hidden]) li.notice .items').last().textContent();
  for (const cmd of ['/msg NICK TEXT', '/topic', '/leave', '/part', '/join', '/nick', '/me', '/who', '/rooms', '/help']) {
    assert.ok(help.includes(cmd), `${cmd} in /help: ${help}`);
  }
  assertClean(a);
});

test('a direct message to someone who is not there gets a readable error', async () => {
  const a = await page();
  const ghost = unique('ghost-');
  await type(a, `/msg ${ghost} anyone?`);
  await waitNotice(a, new RegExp(`No one called ${ghost} is here`));
  await a.waitForSelector(`ol.log:not([hidden]) li.msg.failed .state:text("not sent: no one called ${ghost} is here")`);
  assert.match(await a.textContent('#hint'), new RegExp(`No one called ${ghost} is here`));

  // A name that cannot be a nick is explained before anything is sent.
  await type(a, '/msg no!way hello');
  await waitNotice(a, /“no!way” can't be a nick/);
  assertClean(a);
});

test('topics: set from the page, seen by another page and a terminal; set by a terminal, seen in the page', async () => {
  const a = await page();
  const b = await page();
  const t = await tcp();
  const room = unique('topic-');
  await together(room, [a, b], [t]);
  const na = await nickOf(a);

  // The control under the room's name.
  await a.click('#topic-btn');
  await a.fill('#topic-input', 'Release on Friday <i>maybe</i>');
  await a.press('#topic-input', 'Enter');
  await a.waitForSelector('#topic-form', { state: 'hidden' });
  await until('a shows it', async () => (await a.textContent('#room-topic')) === 'Release on Friday <i>maybe</i>');
  await until('b shows it', async () => (await b.textContent('#room-topic')) === 'Release on Friday <i>maybe</i>');
  await waitNotice(b, new RegExp(`${na} set the topic to “Release on Friday <i>maybe</i>”`));
  assert.equal(await b.locator('.room-head i').count(), 0, 'text, never HTML');

  const from = t.lines.length;
  t.send('/topic');
  await t.waitFor(`* topic of #${room}: Release on Friday <i>maybe</i> (set by ${na})`, { from });

  // A terminal sets it: every page shows it under the name and says who did.
  t.send('/topic Freeze starts Thursday');
  await until('a updated', async () => (await a.textContent('#room-topic')) === 'Freeze starts Thursday');
  await until('b updated', async () => (await b.textContent('#room-topic')) === 'Freeze starts Thursday');
  await waitNotice(a, new RegExp(`${t.nick} set the topic to “Freeze starts Thursday”`));

  // /topic in the input shows it; /topic TEXT sets it.
  await type(b, '/topic');
  await waitNotice(b, new RegExp(`Topic of #${room}: “Freeze starts Thursday” \\(set by ${t.nick}\\)`));
  await type(b, '/topic Typed in the box');
  await until('a sees the typed topic', async () => (await a.textContent('#room-topic')) === 'Typed in the box');

  // Too long: refused with a sentence, the topic stays.
  await type(b, `/topic ${'x'.repeat(5000)}`);
  await waitNotice(b, /That topic is too long/);
  assert.equal(await a.textContent('#room-topic'), 'Typed in the box');

  // Someone who joins later gets it at once, and the room list shows it before joining.
  const c = await page();
  await until('listed with its topic', async () => ((await c.locator(`#all-rooms li[data-key="${room}"] .room-topic`)
    .textContent({ timeout: 500 }).catch(() => '')) === 'Typed in the box'), 10000);
  await type(c, `/join ${room}`);
  await until('c shows it', async () => (await c.textContent('#room-topic')) === 'Typed in the box');

  // An empty field clears it, with the keyboard: the control, Enter on an empty field.
  await c.focus('#topic-btn');
  await c.keyboard.press('Enter');
  await c.waitForSelector('#topic-input:focus');
  await c.fill('#topic-input', '');
  await c.keyboard.press('Enter');
  const nc = await nickOf(c);
  await until('a sees it cleared', async () => (await a.textContent('#room-topic')) === 'No topic yet.');
  await waitNotice(a, new RegExp(`${nc} cleared the topic`));
  assert.equal(await a.textContent('#topic-btn'), 'Set topic');
  assertClean(a, b, c);
});

// Stubs: a Notification that records what the page does with it, and a
// document.hidden the test can switch (headless Chromium's tab never hides).
// `answer`: what the user says when asked (default 'granted').
function stubs(answer) {
  window.notified = [];
  window.permissionAsked = [];
  class FakeNotification {
    static permission = 'default';
    static requestPermission() {
      window.permissionAsked.push({ gesture: navigator.userActivation?.isActive ?? null });
      FakeNotification.permission = answer || 'granted';
      return Promise.resolve(FakeNotification.permission);
    }
    constructor(title, options = {}) {
      window.notified.push({ title, body: options.body, tag: options.tag });
    }
    close() {}
  }
  window.Notification = FakeNotification;
  window.fakeHidden = false;
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => window.fakeHidden });
  Object.defineProperty(Document.prototype, 'visibilityState', {
    configurable: true, get: () => (window.fakeHidden ? 'hidden' : 'visible'),
  });
}

async function setHidden(p, hidden) {
  await p.evaluate((h) => {
    window.fakeHidden = h;
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

test('mentions of one’s nick are highlighted and notify while the tab is hidden', async () => {
  const a = await page({ init: stubs, permissions: ['notifications'] });
  const t = await tcp();
  const me = unique('Mira-');
  await setNick(a, me);
  const room = unique('ping-');
  await together(room, [a], [t]);

  // Nothing is asked on load: only a click asks, and it counts as a gesture.
  assert.deepEqual(await a.evaluate(() => window.permissionAsked), []);
  assert.match(await a.textContent('#notify-state'), /^off/);
  await a.click('#notify-btn');
  await until('notifications on', async () => /^on/.test(await a.textContent('#notify-state')));
  assert.deepEqual(await a.evaluate(() => window.permissionAsked), [{ gesture: true }]);

  // Visible tab: highlighted (word-bounded, any case), no notification.
  t.send(`good morning ${me.toLowerCase()}!`);
  t.send(`${me}x is not you, and neither is x${me}`);
  await waitMessage(a, { text: `${me}x is not you, and neither is x${me}` });
  const marks = await a.locator('ol.log:not([hidden]) mark.mention').allTextContents();
  assert.deepEqual(marks, [me.toLowerCase()]);
  assert.equal(await a.locator('ol.log:not([hidden]) li.msg.mentions-me').count(), 1);
  assert.notEqual(await a.locator('mark.mention').evaluate((n) => getComputedStyle(n).backgroundColor), 'rgba(0, 0, 0, 0)');
  assert.deepEqual(await a.evaluate(() => window.notified), []);

  // Hidden tab: a mention notifies; a message without one does not.
  await setHidden(a, true);
  t.send('just chatting');
  t.send(`${me}: the build is red`);
  await waitMessage(a, { text: `${me}: the build is red` });
  await until('one notification', async () => (await a.evaluate(() => window.notified)).length === 1);
  const [n] = await a.evaluate(() => window.notified);
  assert.equal(n.title, `${t.nick} in #${room}`);
  assert.equal(n.body, `${me}: the build is red`);
  assert.match(await a.title(), /^\(\d+\) /);

  // A direct message while hidden notifies too.
  t.send(`/msg ${me} call me`);
  await until('two notifications', async () => (await a.evaluate(() => window.notified)).length === 2);
  assert.equal((await a.evaluate(() => window.notified))[1].title, `${t.nick} (direct message)`);
  await pause(300);
  assert.equal((await a.evaluate(() => window.notified)).length, 2, 'nothing for "just chatting"');

  // Switched off again from the page: no more notifications.
  await setHidden(a, false);
  await a.click('#notify-btn');
  await until('off', async () => /^off/.test(await a.textContent('#notify-state')));
  await setHidden(a, true);
  t.send(`${me} again`);
  await waitMessage(a, { text: `${me} again` });
  await pause(200);
  assert.equal((await a.evaluate(() => window.notified)).length, 2);
  assertClean(a);
});

test('notifications declined: the page says so, mentions still stand out, nothing notifies', async () => {
  const a = await page({ init: stubs, initArg: 'denied' });
  const t = await tcp();
  const me = unique('Nora-');
  await setNick(a, me);
  await a.click('#notify-btn');
  await until('blocked', async () => /^blocked/.test(await a.textContent('#notify-state')));
  assert.equal(await a.isVisible('#notify-btn'), false, 'no button that cannot work');
  assert.equal((await a.evaluate(() => window.permissionAsked)).length, 1);

  await setHidden(a, true);
  t.send(`${me}: are you there?`);
  t.send(`/msg ${me} direct too`);
  await waitMessage(a, { text: `${me}: are you there?` });
  await until('dm listed', async () => (await unreadOf(dmItem(a, t.nick))) === 1);
  assert.deepEqual(await a.locator('ol.log:not([hidden]) mark.mention').allTextContents(), [me]);
  await pause(300);
  assert.deepEqual(await a.evaluate(() => window.notified), []);
  assertClean(a);
});

test('a direct message with the keyboard alone: Tab to a name, Enter, type, Enter', async () => {
  const a = await page();
  const b = await page();
  const room = unique('keys-');
  await together(room, [a, b]);
  const [na, nb] = [await nickOf(a), await nickOf(b)];

  await a.evaluate(() => document.activeElement?.blur());
  let reached = false;
  for (let i = 0; i < 80 && !reached; i++) {
    await a.keyboard.press('Tab');
    reached = await a.evaluate((nick) => document.activeElement?.classList.contains('person-btn')
      && document.activeElement.textContent.startsWith(nick), nb);
  }
  assert.ok(reached, `Tab reaches ${nb} in the people list`);
  await a.keyboard.press('Enter');
  await until('dm open', async () => (await title(a)) === `@${nb}`);
  assert.equal(await a.evaluate(() => document.activeElement.id), 'composer-input');
  await a.keyboard.type('sent without a mouse');
  await a.keyboard.press('Enter');
  await until('b has it', async () => (await unreadOf(dmItem(b, na))) === 1);

  // Alt+↓ / Alt+↑ move between the room and the conversation too.
  await a.keyboard.press('Alt+ArrowUp');
  await until('back in the room', async () => (await title(a)) === `#${room}`);
  await a.keyboard.press('Alt+ArrowDown');
  await until('dm again', async () => (await title(a)) === `@${nb}`);
  assertClean(a, b);
});
