// What the page asks of the server (SPEC section 4), each request with a
// `ref` to match its answer, and the rooms the page has open.

import { RoomLog, normalizeRoom, isValidRoom } from './model.js';
import { state, store, conn, currentRoom, saveRooms, serverNow } from './state.js';
import { dom, actions, mountRoom, showRoom, place, showError, renderRooms, closeDrawer } from './view.js';

function debounce(fn, ms) {
  let timer = 0;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// ---- requests ------------------------------------------------------------

export function send(type, fields = {}, meta = {}) {
  if (!conn.isOpen) return null;
  const ref = state.nextRef++;
  state.pending.set(ref, { type, ...meta });
  conn.send({ type, ...fields, ref });
  return ref;
}

export function takePending(ref) {
  if (ref === undefined || ref === null) return null;
  const meta = state.pending.get(ref) ?? null;
  state.pending.delete(ref);
  return meta;
}

export function requireOnline() {
  if (conn.isOpen && state.welcomed) return true;
  showError('Not connected to the server right now. Try again once it says “connected”.');
  return false;
}

export function requestRooms(meta = {}) {
  send('rooms', {}, meta);
}

export const whoAsked = new Set(); // rooms with a background `who` in flight
export function requestWho(name, meta = {}) {
  if (!meta.user) {
    if (whoAsked.has(name)) return;
    whoAsked.add(name);
  }
  if (send('who', { room: name }, meta) === null) whoAsked.delete(name);
}

export const refreshRooms = debounce(() => requestRooms(), 300);
export const refreshWho = debounce((name) => requestWho(name), 300);

export function joinRoom(raw) {
  const name = normalizeRoom(raw);
  const open = state.rooms.get(name);
  if (open && open.joined) {
    switchTo(open, { focus: true });
    return;
  }
  if (!requireOnline()) return;
  send('join', { room: isValidRoom(name) ? name : String(raw).trim() }, { room: name, user: true });
}

// Rejoin after a reconnect. `since` is one before the last id seen, so the
// answer repeats that one message (deduplicated): finding it proves the server
// kept its history; not finding it means the server restarted and its ids
// began again, so the whole history is fetched instead.
export function rejoin(room) {
  const fields = { room: room.name };
  if (room.log.lastId > 1) fields.since = room.log.lastId - 1;
  send('join', fields, { room: room.name, expect: room.log.lastKey });
}

// Ask for history again: from `since` after a gap, all of it after a restart.
export function resync(room, since = 0) {
  const fields = { room: room.name };
  if (since > 0) fields.since = since;
  send('join', fields, { room: room.name });
}

export function leaveRoom(name) {
  if (!requireOnline()) return;
  send('leave', { room: name }, { room: name, user: true });
}

export function requestNick(nick, meta = {}) {
  if (!requireOnline()) return false;
  send('nick', { nick }, { nick, ...meta });
  return true;
}

export function say(room, text, action) {
  const result = room.log.addLocal('pending', serverNow(), { text, action });
  place(room, result, { mine: true });
  const fields = { room: room.name, text };
  if (action) fields.me = true;
  send('say', fields, { room: room.name, text, action, entry: result.entry });
}

// ---- open rooms ----------------------------------------------------------

export function openRoom(name) {
  let room = state.rooms.get(name);
  if (room) return room;
  room = { name, log: new RoomLog(), unread: 0, unseen: 0, stuck: true, members: null, joined: false };
  mountRoom(room);
  state.rooms.set(name, room);
  saveRooms();
  return room;
}

export function closeRoom(room) {
  room.list.remove();
  state.rooms.delete(room.name);
  saveRooms();
  if (state.current === room.name) switchTo([...state.rooms.values()][0] ?? null);
  renderRooms();
}

export function switchTo(room, { focus = false } = {}) {
  const previous = currentRoom();
  state.current = room ? room.name : null;
  if (room) {
    store.set('room', room.name);
    room.unread = 0;
    room.unseen = 0;
    if (!room.members) requestWho(room.name);
  }
  showRoom(room, previous);
  closeDrawer();
  if (focus) dom.input.focus();
}

export function stepRoom(delta) {
  const names = [...state.rooms.keys()];
  if (names.length < 2) return;
  const i = names.indexOf(state.current);
  switchTo(state.rooms.get(names[(i + delta + names.length) % names.length]));
}

Object.assign(actions, { switchTo, leaveRoom, joinRoom });
