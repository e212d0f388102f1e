// chatgate chat page: wires the connection, the room model and the DOM.
// Protocol: SPEC section 4 (JSON over WebSocket at /ws).

import { Connection, socketUrl } from './js/connection.js';
import { RoomLog, messageKey, normalizeRoom, isValidRoom } from './js/model.js';
import { parseInput, HELP } from './js/commands.js';
import { el, nickNode, viaBadge, renderEntry, markFailed, syncList } from './js/ui.js';

const ROOMS_POLL_MS = 5000;
const NICK_RETRY_MS = 3000;
const NICK_RETRIES = 3;

const $ = (id) => document.getElementById(id);
const dom = {
  conn: $('conn'), connText: $('conn-text'), retryBtn: $('retry-btn'),
  nickBtn: $('nick-btn'), nickName: $('nick-name'), nickForm: $('nick-form'),
  nickInput: $('nick-input'), nickCancel: $('nick-cancel'), nickError: $('nick-error'),
  menuBtn: $('menu-btn'), sidebar: $('sidebar'), scrim: $('scrim'),
  myRooms: $('my-rooms'), myRoomsEmpty: $('my-rooms-empty'),
  allRooms: $('all-rooms'), allRoomsEmpty: $('all-rooms-empty'),
  joinForm: $('join-form'), joinInput: $('join-input'),
  people: $('people'), peopleRoom: $('people-room'),
  roomTitle: $('room-title'), roomCount: $('room-count'), leaveBtn: $('leave-btn'),
  tabs: $('tabs'), logs: $('logs'), noRoom: $('no-room'), jumpBtn: $('jump-btn'),
  composer: $('composer'), input: $('composer-input'), inputLabel: $('composer-label'), hint: $('hint'),
};

// localStorage may be unavailable (private mode, disabled): then nothing is remembered.
const store = {
  get(key, fallback) {
    try {
      const raw = localStorage.getItem(`chatgate.${key}`);
      return raw === null ? fallback : JSON.parse(raw);
    } catch {
      return fallback;
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(`chatgate.${key}`, JSON.stringify(value));
    } catch { /* not remembered */ }
  },
};

const state = {
  me: null,
  wantedNick: store.get('nick', null),
  rooms: new Map(),                      // open rooms, in the order they were opened
  current: null,                         // the room shown; remembered in store 'room'
  savedRooms: store.get('rooms', null),  // what to reopen on the first welcome
  serverRooms: [],                       // last `rooms` answer: [{room, members}]
  welcomed: false,
  everWelcomed: false,
  pending: new Map(),                    // ref -> what that request was
  nextRef: 1,
  clockSkew: 0,                          // local clock minus server clock, ms
  nickRetries: 0,
  lastSent: [],
  recall: -1,
};

const conn = new Connection(socketUrl(window.location));

// ---- small helpers -------------------------------------------------------

function serverNow() {
  return Date.now() - state.clockSkew;
}

function currentRoom() {
  return state.rooms.get(state.current) ?? null;
}

function send(type, fields = {}, meta = {}) {
  if (!conn.isOpen) return null;
  const ref = state.nextRef++;
  state.pending.set(ref, { type, at: Date.now(), ...meta });
  conn.send({ type, ...fields, ref });
  return ref;
}

function takePending(ref) {
  if (ref === undefined || ref === null) return null;
  const meta = state.pending.get(ref) ?? null;
  state.pending.delete(ref);
  return meta;
}

function debounce(fn, ms) {
  let timer = 0;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

function validMessage(m) {
  return Boolean(m) && typeof m === 'object' && typeof m.from === 'string'
    && typeof m.text === 'string' && Number.isFinite(m.id) && Number.isFinite(m.ts);
}

// ---- rooms: state and DOM ------------------------------------------------

function saveRooms() {
  store.set('rooms', [...state.rooms.keys()]);
}

function openRoom(name) {
  let room = state.rooms.get(name);
  if (room) return room;
  const list = el('ol', {
    class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': `Messages in #${name}`,
    tabindex: '0', hidden: true,
  });
  room = { name, log: new RoomLog(), list, unread: 0, unseen: 0, stuck: true, members: null, joined: false };
  list.addEventListener('scroll', () => onLogScroll(room), { passive: true });
  dom.logs.insertBefore(list, dom.jumpBtn);
  state.rooms.set(name, room);
  saveRooms();
  return room;
}

function closeRoom(room) {
  room.list.remove();
  state.rooms.delete(room.name);
  saveRooms();
  if (state.current === room.name) {
    const next = [...state.rooms.values()][0];
    switchTo(next ?? null);
  }
  renderRooms();
}

function switchTo(room, { focus = false } = {}) {
  const previous = currentRoom();
  if (previous && previous !== room) previous.list.hidden = true;
  state.current = room ? room.name : null;
  if (room) store.set('room', room.name);
  dom.noRoom.hidden = Boolean(room);
  dom.leaveBtn.hidden = !room;
  dom.roomTitle.textContent = room ? `#${room.name}` : 'No room';
  dom.inputLabel.textContent = room ? `Message #${room.name}` : 'Message';
  if (room) {
    room.list.hidden = false;
    room.unread = 0;
    room.unseen = 0;
    if (room.stuck) scrollToEnd(room);
    if (!room.members) requestWho(room.name);
  }
  renderPlaceholder();
  renderJump();
  renderPeople();
  renderRooms();
  closeDrawer();
  if (focus) dom.input.focus();
}

function stepRoom(delta) {
  const names = [...state.rooms.keys()];
  if (names.length < 2) return;
  const i = names.indexOf(state.current);
  const next = names[(i + delta + names.length) % names.length];
  switchTo(state.rooms.get(next));
}

// Insert an entry's node where the model put it, then keep the view pinned.
function place(room, result, { live = false, mine = false } = {}) {
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

function addNotice(room, parts, { tone = '', items = null } = {}) {
  if (!room) return;
  place(room, room.log.addLocal('notice', serverNow(), { parts, tone, items }));
}

function countUnread(room) {
  if (room.name !== state.current || document.hidden) {
    room.unread++;
    renderRooms();
  }
}

function isAtEnd(list) {
  return list.scrollHeight - list.scrollTop - list.clientHeight < 48;
}

function onLogScroll(room) {
  room.stuck = isAtEnd(room.list);
  if (room.stuck && room.unseen) {
    room.unseen = 0;
    renderJump();
  }
}

function scrollToEnd(room) {
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

// ---- requests ------------------------------------------------------------

function requestRooms(meta = {}) {
  send('rooms', {}, meta);
}

const whoAsked = new Set();
function requestWho(name, meta = {}) {
  if (!meta.user) {
    if (whoAsked.has(name)) return;
    whoAsked.add(name);
  }
  if (send('who', { room: name }, meta) === null) whoAsked.delete(name);
}

const refreshRooms = debounce(() => requestRooms(), 300);
const refreshWho = debounce((name) => requestWho(name), 300);

function joinRoom(raw, { user = true } = {}) {
  const name = normalizeRoom(raw);
  const open = state.rooms.get(name);
  if (open && open.joined) {
    switchTo(open, { focus: true });
    return;
  }
  if (!requireOnline()) return;
  send('join', { room: isValidRoom(name) ? name : String(raw).trim() }, { room: name, user });
}

// Rejoin after a reconnect. `since` is one before the last id seen, so the
// answer repeats that one message (deduplicated): finding it proves the server
// kept its history; not finding it means the server restarted and its ids began
// again, so the whole history is fetched instead.
function rejoin(room) {
  const fields = { room: room.name };
  if (room.log.lastId > 1) fields.since = room.log.lastId - 1;
  send('join', fields, { room: room.name, expect: room.log.lastKey });
}

// Ask for history again: from `since` after a gap, all of it after a restart.
function resync(room, since = 0) {
  const fields = { room: room.name };
  if (since > 0) fields.since = since;
  send('join', fields, { room: room.name });
}

function leaveRoom(name) {
  if (!requireOnline()) return;
  send('leave', { room: name }, { room: name, user: true });
}

function requestNick(nick, meta = {}) {
  if (!requireOnline()) return false;
  send('nick', { nick }, { nick, ...meta });
  return true;
}

function requireOnline() {
  if (conn.isOpen && state.welcomed) return true;
  showError('Not connected to the server right now. Try again once it says “connected”.');
  return false;
}

// ---- server events -------------------------------------------------------

const handlers = {
  welcome: onWelcome,
  message: onMessage,
  history: onHistory,
  joined: onJoined,
  left: onLeft,
  nick: onNick,
  rooms: onRooms,
  who: onWho,
  error: onError,
  bye: (m) => addNotice(currentRoom(), [`The server says goodbye: ${m.message ?? ''}`], { tone: 'warn' }),
};

function onServerMessage(msg) {
  handlers[msg.type]?.(msg);
}

function onWelcome(w) {
  const wasReconnect = state.everWelcomed;
  state.me = String(w.nick ?? '');
  state.welcomed = true;
  const given = (Array.isArray(w.rooms) ? w.rooms : []).map(normalizeRoom);
  let wanted;
  if (state.everWelcomed) wanted = [...state.rooms.keys()];
  else if (Array.isArray(state.savedRooms)) wanted = state.savedRooms.map(normalizeRoom).filter(isValidRoom);
  else wanted = given;

  for (const name of wanted) openRoom(name);
  for (const name of given) {
    if (wanted.includes(name)) state.rooms.get(name).joined = true; // its history is on the way
    else send('leave', { room: name }, { room: name });
  }
  for (const name of wanted) {
    if (!given.includes(name)) rejoin(state.rooms.get(name));
  }

  if (state.wantedNick && state.wantedNick !== state.me) {
    state.nickRetries = 0;
    requestNick(state.wantedNick, { auto: true });
  }

  state.everWelcomed = true;
  if (wasReconnect) {
    for (const room of state.rooms.values()) addNotice(room, ['Reconnected.'], { tone: 'ok' });
  }
  const target = state.rooms.get(state.current) ?? state.rooms.get(store.get('room', null))
    ?? [...state.rooms.values()][0] ?? null;
  switchTo(target);
  for (const room of state.rooms.values()) if (room !== target) requestWho(room.name);
  renderNick();
  renderConn();
  requestRooms();
}

function settleOwn(room, m, meta) {
  let entry = meta?.type === 'say' ? meta.entry : null;
  if (!entry || !room.log.entries.includes(entry)) {
    entry = room.log.entries.find((e) => e.kind === 'pending' && e.text === m.text && Boolean(e.action) === Boolean(m.me));
  }
  if (entry) {
    room.log.remove(entry);
    entry.node?.remove();
  }
}

function onMessage(m) {
  const meta = takePending(m.ref);
  if (!validMessage(m)) return;
  const room = state.rooms.get(normalizeRoom(m.room));
  if (!room) return;
  state.clockSkew = Date.now() - m.ts;
  const mine = m.from === state.me;
  if (mine) settleOwn(room, m, meta);
  const result = room.log.addMessage(m, { live: true });
  if (!result) return;
  place(room, result, { live: true, mine });
  if (result.resync === 'reset') resync(room);
  else if (result.resync === 'gap') resync(room, result.before);
}

function onHistory(h) {
  const meta = takePending(h.ref);
  const room = state.rooms.get(normalizeRoom(h.room));
  if (!room) return;
  room.joined = true;
  const messages = (Array.isArray(h.messages) ? h.messages : []).filter(validMessage);
  for (const m of messages) {
    if (m.from === state.me) settleOwn(room, m, null);
    const result = room.log.addMessage(m);
    if (result) place(room, result);
  }
  if (meta?.expect && !messages.some((m) => messageKey(m) === meta.expect)) resync(room);
  if (meta?.user) switchTo(room, { focus: true });
}

function onJoined(j) {
  const name = normalizeRoom(j.room);
  const meta = j.ref !== undefined ? state.pending.get(j.ref) : null; // history completes it
  if (j.nick === state.me) {
    const fresh = !state.rooms.has(name);
    const room = openRoom(name);
    room.joined = true;
    if (fresh) addNotice(room, ['You joined ', `#${name}`, '.']);
    if (meta?.user || fresh) requestWho(name);
    renderRooms();
  } else {
    const room = state.rooms.get(name);
    if (room) {
      addNotice(room, ['→ ', { nick: j.nick }, ' ', { via: j.via }, ' joined.']);
      if (room.members && !room.members.some((p) => p.nick === j.nick)) room.members.push({ nick: j.nick, via: j.via });
      refreshWho(name);
      renderPeople();
    }
  }
  refreshRooms();
}

function onLeft(l) {
  takePending(l.ref);
  const name = normalizeRoom(l.room);
  const room = state.rooms.get(name);
  if (l.nick === state.me) {
    if (room) {
      closeRoom(room);
      flashHint(`You left #${name}.`);
    }
  } else if (room) {
    addNotice(room, ['← ', { nick: l.nick }, ' ', { via: l.via }, ' left.']);
    if (room.members) room.members = room.members.filter((p) => p.nick !== l.nick);
    refreshWho(name);
    renderPeople();
  }
  refreshRooms();
}

function onNick(n) {
  const meta = takePending(n.ref);
  if (n.old === state.me || meta?.type === 'nick') {
    state.me = n.nick;
    state.wantedNick = n.nick;
    state.nickRetries = 0;
    store.set('nick', n.nick);
    for (const room of state.rooms.values()) {
      renameMember(room, n.old, n.nick);
      addNotice(room, ['You are now known as ', { nick: n.nick }, '.']);
    }
    if (meta?.form && !dom.nickForm.hidden) {
      closeNickForm(false);
      dom.input.focus();
    }
    renderNick();
    renderPeople();
    return;
  }
  let shown = false;
  for (const room of state.rooms.values()) {
    if (room.members?.some((p) => p.nick === n.old)) {
      renameMember(room, n.old, n.nick);
      addNotice(room, [{ nick: n.old }, ' is now known as ', { nick: n.nick }, '.']);
      shown = true;
    }
  }
  if (!shown) addNotice(currentRoom(), [{ nick: n.old }, ' is now known as ', { nick: n.nick }, '.']);
  renderPeople();
}

function renameMember(room, old, nick) {
  for (const p of room.members ?? []) if (p.nick === old) p.nick = nick;
}

function onRooms(r) {
  const meta = takePending(r.ref);
  state.serverRooms = (Array.isArray(r.rooms) ? r.rooms : [])
    .filter((x) => x && typeof x.room === 'string')
    .map((x) => ({ room: x.room, members: Number(x.members) || 0 }))
    .sort((a, b) => a.room.localeCompare(b.room));
  renderRooms();
  if (meta?.user) {
    const parts = state.serverRooms.length ? ['Rooms: '] : ['There are no rooms.'];
    state.serverRooms.forEach((x, i) => parts.push(`${i ? ', ' : ''}#${x.room} (${x.members})`));
    addNotice(currentRoom(), parts);
  }
}

function onWho(w) {
  const meta = takePending(w.ref);
  const name = normalizeRoom(w.room);
  whoAsked.delete(name);
  const members = (Array.isArray(w.members) ? w.members : [])
    .filter((p) => p && typeof p.nick === 'string')
    .sort((a, b) => a.nick.localeCompare(b.nick, undefined, { sensitivity: 'base' }));
  const room = state.rooms.get(name);
  if (room) room.members = members;
  renderPeople();
  renderRooms();
  if (meta?.user) {
    const parts = [`In #${name}: `];
    members.forEach((p, i) => parts.push(i ? ', ' : '', { nick: p.nick }, ' ', { via: p.via }));
    if (!members.length) parts.push('nobody.');
    addNotice(currentRoom(), parts);
  }
}

function describeError(e, meta) {
  const nick = meta?.nick ?? '';
  const room = meta?.room ?? '';
  switch (e.code) {
    case 'nick_taken': return `The nick “${nick}” is already taken. Pick another one.`;
    case 'bad_nick': return `“${nick}” can't be used as a nick: use 1–24 letters, digits, “-” or “_”.`;
    case 'bad_room': return `“${room}” isn't a valid room name: use 1–32 letters, digits, “-” or “_”.`;
    case 'not_in_room': return `You are not in #${room || '?'}.`;
    case 'too_long': return 'That message is too long (the limit is 4096 bytes), so it was not sent.';
    case 'rate_limited': return 'You are sending too fast: that was not sent. Wait a moment and try again.';
    case 'bad_request': return `The server did not understand that request (${e.message ?? 'bad request'}).`;
    default: return String(e.message || e.code || 'Unknown error from the server.');
  }
}

function onError(e) {
  const meta = takePending(e.ref);
  const text = describeError(e, meta);
  if (meta?.type === 'say') {
    const room = state.rooms.get(meta.room);
    if (meta.entry) markFailed(meta.entry, shortReason(e.code, text));
    if (!dom.input.value) dom.input.value = meta.text;
    flashHint(text, true);
    if (room && room !== currentRoom()) addNotice(room, [text], { tone: 'error' });
    return;
  }
  if (meta?.type === 'nick' && meta.auto && e.code === 'nick_taken' && state.nickRetries < NICK_RETRIES) {
    // Most likely our previous connection still holds it: ask again shortly.
    state.nickRetries++;
    setTimeout(() => {
      if (state.welcomed && state.wantedNick === meta.nick && state.me !== meta.nick) {
        requestNick(meta.nick, { auto: true });
      }
    }, NICK_RETRY_MS * state.nickRetries);
    if (state.nickRetries === 1) {
      addNotice(currentRoom(), [`Your nick “${meta.nick}” is still in use; you are `, { nick: state.me },
        ' for now. Trying again…'], { tone: 'warn' });
    }
    return;
  }
  if (meta?.type === 'nick' && meta.auto && e.code === 'bad_nick') {
    state.wantedNick = null;
    store.set('nick', null);
  }
  if (meta?.type === 'nick' && !dom.nickForm.hidden) {
    dom.nickError.textContent = text;
    dom.nickInput.focus();
    dom.nickInput.select();
  }
  if (meta?.type === 'join' && !meta.user) {
    const room = state.rooms.get(meta.room);
    if (room && !room.joined) closeRoom(room);
  }
  showError(text);
}

function shortReason(code, text) {
  return { too_long: 'too long', rate_limited: 'too fast, slow down', not_in_room: 'not in this room' }[code] ?? text;
}

function showError(text) {
  addNotice(currentRoom(), [text], { tone: 'error' });
  flashHint(text, true);
}

const IDLE_HINT = 'Enter sends · /help lists the commands';
let hintTimer = 0;
function flashHint(text, isError = false) {
  dom.hint.textContent = text;
  dom.hint.classList.toggle('error', isError);
  clearTimeout(hintTimer);
  hintTimer = setTimeout(() => {
    dom.hint.textContent = IDLE_HINT;
    dom.hint.classList.remove('error');
  }, 8000);
}

// ---- connection state ----------------------------------------------------

function onConnState() {
  if (conn.state !== 'connected' && state.welcomed) {
    state.welcomed = false;
    const why = conn.lastClose?.code === 1001 ? ' (the server is shutting down)' : '';
    for (const room of state.rooms.values()) {
      room.joined = false;
      addNotice(room, [`Disconnected from the server${why}. Reconnecting…`], { tone: 'warn' });
      for (const entry of room.log.entries) {
        if (entry.kind === 'pending' && !entry.failed) markFailed(entry, 'connection lost');
      }
    }
    state.pending.clear();
    whoAsked.clear();
  }
  renderConn();
}

let countdown = 0;
function renderConn() {
  const s = conn.state;
  dom.conn.dataset.state = s;
  clearInterval(countdown);
  const words = {
    connecting: 'connecting…',
    connected: 'connected',
    reconnecting: 'reconnecting…',
  };
  if (s === 'offline') {
    const tick = () => {
      const secs = Math.max(0, Math.ceil((conn.retryAt - Date.now()) / 1000));
      dom.connText.textContent = `offline · retrying in ${secs} s`;
    };
    tick();
    countdown = setInterval(tick, 1000);
  } else {
    dom.connText.textContent = words[s] ?? s;
  }
  dom.retryBtn.hidden = s !== 'offline';
  renderPlaceholder();
}

// ---- rendering -----------------------------------------------------------

function renderNick() {
  dom.nickName.textContent = state.me ?? '…';
}

function renderPlaceholder() {
  const room = currentRoom();
  if (!conn.isOpen) dom.input.placeholder = 'Offline: waiting for the server…';
  else if (!room) dom.input.placeholder = 'Type /join ROOM or /help';
  else dom.input.placeholder = `Message #${room.name}`;
}

function renderJump() {
  const room = currentRoom();
  const n = room?.unseen ?? 0;
  dom.jumpBtn.hidden = n === 0;
  dom.jumpBtn.textContent = n === 1 ? '1 new message ↓' : `${n} new messages ↓`;
}

function memberCount(name) {
  const room = state.rooms.get(name);
  if (room?.members) return room.members.length;
  return state.serverRooms.find((x) => x.room === name)?.members ?? null;
}

function countText(n) {
  if (n === null) return '';
  return n === 1 ? '1 person' : `${n} people`;
}

function roomButtonContent(name, unread) {
  const n = memberCount(name);
  const parts = [el('span', { class: 'room-name' }, `#${name}`)];
  if (unread) parts.push(el('span', { class: 'unread' }, String(unread), el('span', { class: 'sr-only' }, ' unread')));
  if (n !== null) parts.push(el('span', { class: 'count', title: countText(n) }, String(n), el('span', { class: 'sr-only' }, n === 1 ? ' person' : ' people')));
  return parts;
}

function renderRooms() {
  const open = [...state.rooms.values()];
  const updateOpen = (li, room) => {
    const btn = li.firstElementChild;
    btn.replaceChildren(...roomButtonContent(room.name, room.unread));
    btn.classList.toggle('has-unread', room.unread > 0);
    if (room.name === state.current) btn.setAttribute('aria-current', 'true');
    else btn.removeAttribute('aria-current');
    li.classList.toggle('pending', !room.joined);
  };
  syncList(dom.myRooms, open, (r) => r.name, (room) => el('li', {},
    el('button', { type: 'button', class: 'room-btn', onclick: () => switchTo(room, { focus: true }) }),
    el('button', {
      type: 'button', class: 'leave-x', 'aria-label': `Leave #${room.name}`, title: `Leave #${room.name}`,
      onclick: () => leaveRoom(room.name),
    }, '×')), updateOpen);
  syncList(dom.tabs, open, (r) => r.name, (room) => el('li', {},
    el('button', { type: 'button', class: 'room-btn', onclick: () => switchTo(room, { focus: true }) })), updateOpen);
  dom.myRoomsEmpty.hidden = open.length > 0;

  const others = state.serverRooms.filter((x) => !state.rooms.has(x.room));
  syncList(dom.allRooms, others, (x) => x.room, (x) => el('li', {},
    el('button', { type: 'button', class: 'room-btn', title: `Join #${x.room}`, onclick: () => joinRoom(x.room) })),
  (li, x) => li.firstElementChild.replaceChildren(...roomButtonContent(x.room, 0)));
  dom.allRoomsEmpty.hidden = others.length > 0;

  const room = currentRoom();
  dom.roomCount.textContent = room ? countText(memberCount(room.name)) : '';
  let unread = 0;
  for (const r of state.rooms.values()) unread += r.unread;
  document.title = unread ? `(${unread}) chatgate` : 'chatgate';
}

function renderPeople() {
  const room = currentRoom();
  dom.peopleRoom.textContent = room ? `#${room.name}` : '—';
  const members = room?.members ?? [];
  syncList(dom.people, members, (p) => p.nick, () => el('li'), (li, p) => {
    li.replaceChildren(nickNode(p.nick), ' ', viaBadge(p.via));
    if (p.nick === state.me) li.append(' ', el('span', { class: 'muted small' }, '(you)'));
  });
  dom.roomCount.textContent = room ? countText(memberCount(room.name)) : '';
}

// ---- input ---------------------------------------------------------------

function onSubmit(event) {
  event.preventDefault();
  const line = dom.input.value;
  const cmd = parseInput(line);
  const room = currentRoom();
  switch (cmd.kind) {
    case 'empty':
      return;
    case 'say':
    case 'me':
      if (!room) return showError('You are not in a room: type /join ROOM first.');
      if (!requireOnline()) return;
      sendSay(room, cmd.text, cmd.kind === 'me');
      break;
    case 'nick':
      if (!requestNick(cmd.nick, { form: false })) return;
      break;
    case 'join':
      joinRoom(cmd.room);
      break;
    case 'leave': {
      const name = cmd.room ? normalizeRoom(cmd.room) : room?.name;
      if (!name) return showError('You are not in a room.');
      if (!state.rooms.has(name)) return showError(`You are not in #${name}.`);
      leaveRoom(name);
      break;
    }
    case 'who': {
      const name = cmd.room ? normalizeRoom(cmd.room) : room?.name;
      if (!name) return showError('Which room? Type /who ROOM.');
      if (!requireOnline()) return;
      requestWho(name, { user: true, room: name });
      break;
    }
    case 'rooms':
      if (!requireOnline()) return;
      requestRooms({ user: true });
      break;
    case 'help':
      showHelp();
      break;
    default:
      showError(cmd.message);
      return;
  }
  remember(line);
  dom.input.value = '';
}

function sendSay(room, text, action) {
  const result = room.log.addLocal('pending', serverNow(), { text, action });
  place(room, result, { mine: true });
  const fields = { room: room.name, text };
  if (action) fields.me = true;
  send('say', fields, { room: room.name, text, entry: result.entry });
}

function showHelp() {
  const room = currentRoom();
  if (room) addNotice(room, ['Commands:'], { items: HELP, tone: 'help' });
  else flashHint(HELP.map(([a, b]) => `${a}: ${b}`).join(' · '));
}

function remember(line) {
  state.lastSent.push(line);
  if (state.lastSent.length > 50) state.lastSent.shift();
  state.recall = -1;
}

function onComposerKey(event) {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  const list = state.lastSent;
  if (event.key === 'ArrowUp' && list.length && (dom.input.value === '' || state.recall >= 0)) {
    state.recall = state.recall < 0 ? list.length - 1 : Math.max(0, state.recall - 1);
    dom.input.value = list[state.recall];
    event.preventDefault();
  } else if (event.key === 'ArrowDown' && state.recall >= 0) {
    state.recall++;
    dom.input.value = state.recall < list.length ? list[state.recall] : '';
    if (state.recall >= list.length) state.recall = -1;
    event.preventDefault();
  }
}

function openNickForm() {
  dom.nickForm.hidden = false;
  dom.nickBtn.setAttribute('aria-expanded', 'true');
  dom.nickError.textContent = '';
  dom.nickInput.value = state.me ?? '';
  dom.nickInput.focus();
  dom.nickInput.select();
}

function closeNickForm(returnFocus = true) {
  if (dom.nickForm.hidden) return;
  dom.nickForm.hidden = true;
  dom.nickBtn.setAttribute('aria-expanded', 'false');
  dom.nickError.textContent = '';
  if (returnFocus) dom.nickBtn.focus();
}

function openDrawer() {
  document.body.classList.add('drawer-open');
  dom.menuBtn.setAttribute('aria-expanded', 'true');
  dom.scrim.hidden = false;
  dom.sidebar.querySelector('button, input')?.focus();
}

function closeDrawer(returnFocus = false) {
  if (!document.body.classList.contains('drawer-open')) return;
  document.body.classList.remove('drawer-open');
  dom.menuBtn.setAttribute('aria-expanded', 'false');
  dom.scrim.hidden = true;
  if (returnFocus) dom.menuBtn.focus();
}

function wire() {
  dom.composer.addEventListener('submit', onSubmit);
  dom.input.addEventListener('keydown', onComposerKey);
  dom.joinForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = dom.joinInput.value.trim();
    if (!value) return;
    joinRoom(value);
    dom.joinInput.value = '';
  });
  dom.leaveBtn.addEventListener('click', () => state.current && leaveRoom(state.current));
  dom.nickBtn.addEventListener('click', () => (dom.nickForm.hidden ? openNickForm() : closeNickForm()));
  dom.nickCancel.addEventListener('click', () => closeNickForm());
  dom.nickForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const nick = dom.nickInput.value.trim();
    if (!nick) {
      dom.nickError.textContent = 'Type a nick first.';
      return;
    }
    if (nick === state.me) return closeNickForm();
    dom.nickError.textContent = '';
    if (!conn.isOpen) dom.nickError.textContent = 'Not connected right now: try again in a moment.';
    else requestNick(nick, { form: true });
  });
  dom.menuBtn.addEventListener('click', () => (
    document.body.classList.contains('drawer-open') ? closeDrawer(true) : openDrawer()));
  dom.scrim.addEventListener('click', () => closeDrawer(true));
  $('drawer-close').addEventListener('click', () => closeDrawer(true));
  dom.jumpBtn.addEventListener('click', () => {
    const room = currentRoom();
    if (!room) return;
    scrollToEnd(room);
    room.unseen = 0;
    renderJump();
    dom.input.focus();
  });
  dom.retryBtn.addEventListener('click', () => conn.retryNow());
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      if (!dom.nickForm.hidden) closeNickForm();
      else closeDrawer(true);
    } else if (event.altKey && (event.key === 'ArrowUp' || event.key === 'ArrowDown')) {
      event.preventDefault();
      stepRoom(event.key === 'ArrowUp' ? -1 : 1);
    }
  });
  document.addEventListener('visibilitychange', () => {
    const room = currentRoom();
    if (!document.hidden && room) {
      room.unread = 0;
      renderRooms();
    }
  });
  window.addEventListener('online', () => conn.retryNow());

  conn.addEventListener('state', onConnState);
  conn.addEventListener('message', (event) => onServerMessage(event.detail));
  setInterval(() => {
    if (state.welcomed && !document.hidden) requestRooms();
  }, ROOMS_POLL_MS);
}

wire();
dom.hint.textContent = IDLE_HINT;
renderConn();
switchTo(null);
conn.start();

// Exposed for the browser tests and for curious people in devtools.
window.chatgate = { state, conn };
