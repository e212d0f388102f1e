// The page on screen: each room's log, the room and people lists, the
// connection badge, hints. Reads `state`; user actions go back through `actions`.

import { state, conn, currentRoom, memberCount, serverNow } from './state.js';
import { el, nickNode, viaBadge, renderEntry, syncList } from './ui.js';

const $ = (id) => document.getElementById(id);
export const dom = {
  conn: $('conn'), connText: $('conn-text'), connRetry: $('conn-retry'), retryBtn: $('retry-btn'),
  nickBtn: $('nick-btn'), nickName: $('nick-name'), nickForm: $('nick-form'),
  nickInput: $('nick-input'), nickCancel: $('nick-cancel'), nickError: $('nick-error'),
  menuBtn: $('menu-btn'), sidebar: $('sidebar'), scrim: $('scrim'), drawerClose: $('drawer-close'),
  myRooms: $('my-rooms'), myRoomsEmpty: $('my-rooms-empty'),
  allRooms: $('all-rooms'), allRoomsEmpty: $('all-rooms-empty'),
  joinForm: $('join-form'), joinInput: $('join-input'),
  people: $('people'), peopleRoom: $('people-room'),
  roomTitle: $('room-title'), roomCount: $('room-count'), leaveBtn: $('leave-btn'),
  tabs: $('tabs'), logs: $('logs'), noRoom: $('no-room'), jumpBtn: $('jump-btn'),
  composer: $('composer'), input: $('composer-input'), inputLabel: $('composer-label'), hint: $('hint'),
};

// Filled in by the session: what the room buttons do.
export const actions = { switchTo: null, leaveRoom: null, joinRoom: null };

// ---- a room's log --------------------------------------------------------

export function mountRoom(room) {
  room.list = el('ol', {
    class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': `Messages in #${room.name}`,
    tabindex: '0', hidden: true,
  });
  room.list.addEventListener('scroll', () => onLogScroll(room), { passive: true });
  dom.logs.insertBefore(room.list, dom.jumpBtn);
}

export function showRoom(room, previous) {
  if (previous && previous !== room) previous.list.hidden = true;
  dom.noRoom.hidden = Boolean(room);
  dom.leaveBtn.hidden = !room;
  dom.roomTitle.textContent = room ? `#${room.name}` : 'No room';
  dom.inputLabel.textContent = room ? `Message #${room.name}` : 'Message';
  if (room) {
    room.list.hidden = false;
    if (room.stuck) scrollToEnd(room);
  }
  renderPlaceholder();
  renderJump();
  renderPeople();
  renderRooms();
}

// Insert an entry's node where the model put it, then keep the view pinned
// to the end unless the reader has scrolled up.
export function place(room, result, { live = false, mine = false } = {}) {
  for (const gone of result.removed) gone.node?.remove();
  const { entry } = result;
  if (result.removed.includes(entry)) return;
  entry.node = renderEntry(entry, state.me);
  const next = room.log.next(entry);
  room.list.insertBefore(entry.node, next?.node ?? null);
  if (live && entry.kind === 'message' && !mine) countUnread(room);
  if (room.stuck || mine) scheduleScroll(room);
  else if (live && room.name === state.current) {
    room.unseen++;
    renderJump();
  }
}

export function addNotice(room, parts, { tone = '', items = null } = {}) {
  if (!room) return;
  place(room, room.log.addLocal('notice', serverNow(), { parts, tone, items }));
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

function countUnread(room) {
  if (room.name !== state.current || document.hidden) {
    room.unread++;
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
  }[s] ?? s;
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

export function renderNick() {
  dom.nickName.textContent = state.me ?? '…';
}

function renderPlaceholder() {
  const room = currentRoom();
  if (!conn.isOpen) dom.input.placeholder = 'Offline: waiting for the server…';
  else if (!room) dom.input.placeholder = 'Type /join ROOM or /help';
  else dom.input.placeholder = `Message #${room.name}`;
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

function roomButtonContent(name, unread) {
  const n = memberCount(name);
  const parts = [el('span', { class: 'room-name' }, `#${name}`)];
  if (unread) parts.push(el('span', { class: 'unread' }, String(unread), el('span', { class: 'sr-only' }, ' unread')));
  if (n !== null) {
    parts.push(el('span', { class: 'count', title: countText(n) }, String(n),
      el('span', { class: 'sr-only' }, n === 1 ? ' person' : ' people')));
  }
  return parts;
}

export function renderRooms() {
  const open = [...state.rooms.values()];
  const updateOpen = (li, room) => {
    const btn = li.firstElementChild;
    btn.replaceChildren(...roomButtonContent(room.name, room.unread));
    btn.classList.toggle('has-unread', room.unread > 0);
    if (room.name === state.current) btn.setAttribute('aria-current', 'true');
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
  syncList(dom.tabs, open, (r) => r.name, (room) => el('li', {}, openButton(room)), updateOpen);
  dom.myRoomsEmpty.hidden = open.length > 0;

  const others = state.serverRooms.filter((x) => !state.rooms.has(x.room));
  syncList(dom.allRooms, others, (x) => x.room, (x) => el('li', {}, el('button', {
    type: 'button', class: 'room-btn', title: `Join #${x.room}`, onclick: () => actions.joinRoom(x.room),
  })), (li, x) => li.firstElementChild.replaceChildren(...roomButtonContent(x.room, 0)));
  dom.allRoomsEmpty.hidden = others.length > 0;

  renderRoomCount();
  let unread = 0;
  for (const r of state.rooms.values()) unread += r.unread;
  document.title = unread ? `(${unread}) chatgate` : 'chatgate';
}

function renderRoomCount() {
  const room = currentRoom();
  dom.roomCount.textContent = room ? countText(memberCount(room.name)) : '';
}

export function renderPeople() {
  const room = currentRoom();
  dom.peopleRoom.textContent = room ? `#${room.name}` : '—';
  syncList(dom.people, room?.members ?? [], (p) => p.nick, () => el('li'), (li, p) => {
    li.replaceChildren(nickNode(p.nick), ' ', viaBadge(p.via));
    if (p.nick === state.me) li.append(' ', el('span', { class: 'muted small' }, '(you)'));
  });
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
