// The page on screen: each room's log, the room and people lists, the
// connection badge, hints. Reads `state`; user actions go back through `actions`.

import { state, conn, currentRoom, conversations, memberCount, serverNow } from './state.js';
import { el, nickNode, viaBadge, renderEntry, syncList } from './ui.js';

const $ = (id) => document.getElementById(id);
export const dom = {
  conn: $('conn'), connText: $('conn-text'), connRetry: $('conn-retry'), retryBtn: $('retry-btn'),
  nickBtn: $('nick-btn'), nickName: $('nick-name'), nickForm: $('nick-form'),
  nickInput: $('nick-input'), nickCancel: $('nick-cancel'), nickError: $('nick-error'),
  menuBtn: $('menu-btn'), sidebar: $('sidebar'), scrim: $('scrim'), drawerClose: $('drawer-close'),
  myRooms: $('my-rooms'), myRoomsEmpty: $('my-rooms-empty'), dms: $('dms'), dmsEmpty: $('dms-empty'),
  allRooms: $('all-rooms'), allRoomsEmpty: $('all-rooms-empty'),
  joinForm: $('join-form'), joinInput: $('join-input'),
  people: $('people'), peopleH: $('people-h'), peopleMore: $('people-more'),
  notifyBtn: $('notify-btn'), notifyState: $('notify-state'),
  roomTitle: $('room-title'), roomCount: $('room-count'), leaveBtn: $('leave-btn'),
  roomSub: $('room-sub'), roomTopic: $('room-topic'), topicBtn: $('topic-btn'),
  topicForm: $('topic-form'), topicLabel: $('topic-label'), topicInput: $('topic-input'), topicCancel: $('topic-cancel'),
  tabs: $('tabs'), logs: $('logs'), noRoom: $('no-room'), jumpBtn: $('jump-btn'),
  composer: $('composer'), input: $('composer-input'), inputLabel: $('composer-label'), hint: $('hint'),
  signin: $('signin'), signinText: $('signin-text'),
};

// Filled in by the session: what the room buttons do.
export const actions = { switchTo: null, leaveRoom: null, joinRoom: null, openDm: null, closeRoom: null };

// ---- a room's log --------------------------------------------------------

export function mountRoom(room) {
  room.list = el('ol', {
    class: 'log', role: 'log', 'aria-live': 'polite',
    'aria-label': room.dm ? `Direct messages with ${room.name}` : `Messages in #${room.name}`,
    tabindex: '0', hidden: true,
  });
  room.list.addEventListener('scroll', () => onLogScroll(room), { passive: true });
  dom.logs.insertBefore(room.list, dom.jumpBtn);
}

export function showRoom(room, previous) {
  if (previous && previous !== room) previous.list.hidden = true;
  dom.noRoom.hidden = Boolean(room);
  dom.leaveBtn.hidden = !room;
  dom.leaveBtn.textContent = room?.dm ? 'Close' : 'Leave';
  dom.leaveBtn.title = room?.dm ? `Close the conversation with ${room.name}` : '';
  dom.roomTitle.textContent = room ? title(room) : 'No room';
  dom.inputLabel.textContent = room ? `Message ${title(room)}` : 'Message';
  if (previous !== room) closeTopicForm(false);
  renderTopic();
  if (room) {
    room.list.hidden = false;
    if (room.stuck) scrollToEnd(room);
  }
  renderPlaceholder();
  renderJump();
  renderPeople();
  renderRooms();
}

export function title(room) {
  return room.dm ? `@${room.name}` : `#${room.name}`;
}

// Under the room's name: its topic and the control to change it; for a
// direct conversation, who can read it.
export function renderTopic() {
  const room = currentRoom();
  dom.roomSub.hidden = !room;
  if (!room) return;
  dom.roomSub.classList.toggle('dm', Boolean(room.dm));
  dom.topicBtn.hidden = Boolean(room.dm);
  if (room.dm) {
    dom.roomTopic.textContent = `Only you and ${room.name} see this; the server keeps no copy.`;
    dom.roomTopic.title = '';
    dom.roomTopic.classList.add('none');
    return;
  }
  const topic = room.topic?.topic ?? '';
  dom.roomTopic.textContent = topic || (room.topic === undefined ? '' : 'No topic yet.');
  dom.roomTopic.classList.toggle('none', !topic);
  dom.roomTopic.title = topic && room.topic.by ? `Set by ${room.topic.by}` : '';
  dom.topicBtn.textContent = topic ? 'Edit topic' : 'Set topic';
  dom.topicBtn.setAttribute('aria-label', `${topic ? 'Edit' : 'Set'} the topic of #${room.name}`);
}

export function openTopicForm() {
  const room = currentRoom();
  if (!room || room.dm) return;
  dom.topicForm.hidden = false;
  dom.topicBtn.setAttribute('aria-expanded', 'true');
  dom.topicLabel.textContent = `Topic of #${room.name}`;
  dom.topicInput.value = room.topic?.topic ?? '';
  dom.topicInput.focus();
  dom.topicInput.select();
}

export function closeTopicForm(returnFocus = true) {
  if (dom.topicForm.hidden) return;
  dom.topicForm.hidden = true;
  dom.topicBtn.setAttribute('aria-expanded', 'false');
  if (returnFocus) dom.topicBtn.focus();
}

// Insert an entry's node where the model put it, then keep the view pinned
// to the end unless the reader has scrolled up.
export function place(room, result, { live = false, mine = false, mention = false } = {}) {
  for (const gone of result.removed) gone.node?.remove();
  const { entry } = result;
  if (result.removed.includes(entry)) return;
  entry.node = renderEntry(entry, state.me);
  const next = room.log.next(entry);
  room.list.insertBefore(entry.node, next?.node ?? null);
  if (live && entry.kind === 'message' && !mine) countUnread(room, mention);
  if (room.stuck || mine) scheduleScroll(room);
  else if (live && room.key === state.current) {
    room.unseen++;
    renderJump();
  }
}

export function addNotice(room, parts, { tone = '', items = null, ts = undefined } = {}) {
  if (!room) return;
  place(room, room.log.addLocal('notice', ts ?? serverNow(), { parts, tone, items }));
}

// An error goes where the reader is looking: the open room and under the input.
export function showError(text) {
  addNotice(currentRoom(), [text], { tone: 'error' });
  flashHint(text, true);
}

export function unplace(room, entry) {
  room.log.remove(entry);
  entry.node?.remove();
}

function countUnread(room, mention) {
  if (room.key !== state.current || document.hidden) {
    room.unread++;
    if (mention) room.mentions++;
    renderRooms();
  }
}

function onLogScroll(room) {
  const list = room.list;
  room.stuck = list.scrollHeight - list.scrollTop - list.clientHeight < 48;
  if (room.stuck && room.unseen) {
    room.unseen = 0;
    renderJump();
  }
}

export function scrollToEnd(room) {
  room.list.scrollTop = room.list.scrollHeight;
  room.stuck = true;
}

const scrollQueue = new Set();
function scheduleScroll(room) {
  if (scrollQueue.size === 0) {
    requestAnimationFrame(() => {
      for (const r of scrollQueue) scrollToEnd(r);
      scrollQueue.clear();
    });
  }
  scrollQueue.add(room);
}

// ---- header, lists, hints ------------------------------------------------

let countdown = 0;
export function renderConn() {
  const s = conn.state;
  dom.conn.dataset.state = s;
  clearInterval(countdown);
  dom.connText.textContent = {
    connecting: 'connecting…', connected: 'connected', offline: 'offline', reconnecting: 'reconnecting…',
    refused: 'sign-in needed',
  }[s] ?? s;
  renderSignin();
  dom.connRetry.textContent = '';
  if (s === 'offline') {
    // The countdown is for the eye only: a screen reader hears "offline" once.
    const tick = () => {
      const secs = Math.max(0, Math.ceil((conn.retryAt - Date.now()) / 1000));
      dom.connRetry.textContent = ` · retrying in ${secs} s`;
    };
    tick();
    countdown = setInterval(tick, 1000);
  }
  dom.retryBtn.hidden = s !== 'offline';
  renderPlaceholder();
}

// The server requires a token (--require-auth) and has none, or a bad one,
// from this page: say so instead of reconnecting forever.
function renderSignin() {
  const r = conn.state === 'refused' ? conn.refusal : null;
  dom.signin.hidden = !r;
  if (!r) return;
  dom.noRoom.hidden = true;
  dom.signinText.textContent = r.token === 'none'
    ? 'This chat is for signed-in users: the server needs a sign-in token, and this page has none.'
    : `The server refused this page's sign-in token (${r.reason || 'bad token'}).`;
}

export function renderNick() {
  dom.nickName.textContent = state.me ?? '…';
}

function renderPlaceholder() {
  const room = currentRoom();
  if (!conn.isOpen) dom.input.placeholder = 'Offline: waiting for the server…';
  else if (!room) dom.input.placeholder = 'Type /join ROOM or /help';
  else dom.input.placeholder = `Message ${title(room)}`;
}

export function renderJump() {
  const n = currentRoom()?.unseen ?? 0;
  dom.jumpBtn.hidden = n === 0;
  dom.jumpBtn.textContent = n === 1 ? '1 new message ↓' : `${n} new messages ↓`;
}

function countText(n) {
  if (n === null) return '';
  return n === 1 ? '1 person' : `${n} people`;
}

function unreadBadge(unread, mentions) {
  if (!unread) return null;
  return el('span', { class: mentions ? 'unread mention' : 'unread', title: mentions ? 'mentions you' : null },
    String(unread), el('span', { class: 'sr-only' }, mentions ? ' unread, mentioning you' : ' unread'));
}

function roomButtonContent(name, unread, mentions = 0, topic = '') {
  const n = memberCount(name);
  const parts = [el('span', { class: 'room-name' }, `#${name}`,
    topic ? el('span', { class: 'sr-only' }, ': ') : null, topic ? el('span', { class: 'room-topic' }, topic) : null)];
  if (unread) parts.push(unreadBadge(unread, mentions));
  // (parts never holds null: replaceChildren would show it as text)
  if (n !== null) {
    parts.push(el('span', { class: 'count', title: countText(n) }, String(n),
      el('span', { class: 'sr-only' }, n === 1 ? ' person' : ' people')));
  }
  return parts;
}

function dmButtonContent(dm) {
  return [el('span', { class: 'room-name' }, el('span', { class: 'at', 'aria-hidden': 'true' }, '@'),
    el('span', { class: 'sr-only' }, 'Direct conversation with '), dm.name), unreadBadge(dm.unread, dm.mentions)]
    .filter(Boolean);
}

export function renderRooms() {
  const open = [...state.rooms.values()];
  const dms = [...state.dms.values()];
  const updateOpen = (li, room) => {
    const btn = li.firstElementChild;
    btn.replaceChildren(...(room.dm ? dmButtonContent(room) : roomButtonContent(room.name, room.unread, room.mentions)));
    btn.classList.toggle('has-unread', room.unread > 0);
    if (room.key === state.current) btn.setAttribute('aria-current', 'true');
    else btn.removeAttribute('aria-current');
    li.classList.toggle('pending', !room.joined);
  };
  const openButton = (room) => el('button', {
    type: 'button', class: 'room-btn', onclick: () => actions.switchTo(room, { focus: true }),
  });
  syncList(dom.myRooms, open, (r) => r.name, (room) => el('li', {}, openButton(room), el('button', {
    type: 'button', class: 'leave-x', 'aria-label': `Leave #${room.name}`, title: `Leave #${room.name}`,
    onclick: () => actions.leaveRoom(room.name),
  }, '×')), updateOpen);
  syncList(dom.dms, dms, (d) => d.key, (dm) => el('li', {}, openButton(dm), el('button', {
    type: 'button', class: 'leave-x', 'aria-label': `Close the conversation with ${dm.name}`,
    title: `Close the conversation with ${dm.name}`, onclick: () => actions.closeRoom(dm),
  }, '×')), (li, dm) => {
    updateOpen(li, dm);
    const x = li.lastElementChild;
    x.setAttribute('aria-label', `Close the conversation with ${dm.name}`);
    x.title = x.getAttribute('aria-label');
  });
  dom.dmsEmpty.hidden = dms.length > 0;
  syncList(dom.tabs, [...open, ...dms], (r) => r.key, (room) => el('li', {}, openButton(room)), updateOpen);
  dom.myRoomsEmpty.hidden = open.length > 0;

  const others = state.serverRooms.filter((x) => !state.rooms.has(x.room));
  syncList(dom.allRooms, others, (x) => x.room, (x) => el('li', {}, el('button', {
    type: 'button', class: 'room-btn', title: `Join #${x.room}`, onclick: () => actions.joinRoom(x.room),
  })), (li, x) => li.firstElementChild.replaceChildren(...roomButtonContent(x.room, 0, 0, x.topic)));
  dom.allRoomsEmpty.hidden = others.length > 0;

  renderRoomCount();
  let unread = 0;
  for (const r of conversations()) unread += r.unread;
  document.title = unread ? `(${unread}) chatgate` : 'chatgate';
}

function renderRoomCount() {
  const room = currentRoom();
  dom.roomCount.textContent = room && !room.dm ? countText(memberCount(room.name)) : '';
}

// The transport of someone we share a room with, if we know it.
function viaOf(nick) {
  for (const room of state.rooms.values()) {
    const p = room.members?.find((m) => m.nick === nick);
    if (p) return p.via;
  }
  return null;
}

// Each name but ours is a button that opens a direct conversation.
export function renderPeople() {
  const room = currentRoom();
  let people = room?.members ?? [];
  if (room?.dm) {
    dom.peopleH.textContent = 'In this conversation';
    people = [{ nick: room.name, via: room.via ?? viaOf(room.name) }, { nick: state.me ?? 'you', via: 'ws' }];
  } else {
    dom.peopleH.textContent = room ? `People in #${room.name}` : 'People';
  }
  syncList(dom.people, people, (p) => p.nick, () => el('li'), (li, p) => {
    const self = p.nick === state.me;
    const name = self ? nickNode(p.nick) : el('button', {
      type: 'button', class: 'person-btn', title: `Write to ${p.nick} directly`,
      onclick: () => actions.openDm(p.nick),
    }, nickNode(p.nick), el('span', { class: 'sr-only' }, ` (write to ${p.nick} directly)`));
    li.replaceChildren(name, ' ', p.via ? viaBadge(p.via) : '');
    if (self) li.append(' ', el('span', { class: 'muted small' }, '(you)'));
  });
  // A big room lists its first names only (the server counts the rest).
  const more = room && !room.dm ? room.more ?? 0 : 0;
  dom.peopleMore.hidden = more <= 0;
  dom.peopleMore.textContent = more > 0 ? `and ${more} more` : '';
  renderRoomCount();
}

export const IDLE_HINT = 'Enter sends · /help lists the commands';
let hintTimer = 0;
export function flashHint(text, isError = false) {
  dom.hint.textContent = text;
  dom.hint.classList.toggle('error', isError);
  clearTimeout(hintTimer);
  hintTimer = setTimeout(() => {
    dom.hint.textContent = IDLE_HINT;
    dom.hint.classList.remove('error');
  }, 8000);
}

// ---- the nick form and the phone drawer ------------------------------------

export function openNickForm() {
  dom.nickForm.hidden = false;
  dom.nickBtn.setAttribute('aria-expanded', 'true');
  dom.nickError.textContent = '';
  dom.nickInput.value = state.me ?? '';
  dom.nickInput.focus();
  dom.nickInput.select();
}

export function closeNickForm(returnFocus = true) {
  if (dom.nickForm.hidden) return;
  dom.nickForm.hidden = true;
  dom.nickBtn.setAttribute('aria-expanded', 'false');
  dom.nickError.textContent = '';
  if (returnFocus) dom.nickBtn.focus();
}

// True when the nick form is open and now shows the error.
export function showNickError(text) {
  if (dom.nickForm.hidden) return false;
  dom.nickError.textContent = text;
  dom.nickInput.focus();
  dom.nickInput.select();
  return true;
}

export function drawerOpen() {
  return document.body.classList.contains('drawer-open');
}

export function openDrawer() {
  document.body.classList.add('drawer-open');
  dom.menuBtn.setAttribute('aria-expanded', 'true');
  dom.scrim.hidden = false;
  dom.sidebar.querySelector('.room-btn, input')?.focus();
}

export function closeDrawer(returnFocus = false) {
  if (!drawerOpen()) return;
  document.body.classList.remove('drawer-open');
  dom.menuBtn.setAttribute('aria-expanded', 'false');
  dom.scrim.hidden = true;
  if (returnFocus) dom.menuBtn.focus();
}
