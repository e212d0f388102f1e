// What the page asks of the server (SPEC section 4), each request with a
// `ref` to match its answer, and the rooms the page has open.

import { RoomLog, normalizeRoom, isValidRoom, dmKey } from './model.js';
import { state, store, conn, currentRoom, conversation, conversations, saveRooms, serverNow } from './state.js';
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
  // Asked on its own, the page wants the names it shows: in a room above the
  // server's presence limit the first ones and a count (docs/protocol.md).
  const limit = !meta.user && state.presenceLimit > 0 ? { limit: state.presenceLimit } : {};
  if (send('who', { room: name, ...limit }, meta) === null) whoAsked.delete(name);
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

// A message to a room, or (`room.dm`) to one person: `say` with `to`.
export function say(room, text, action) {
  const result = room.log.addLocal('pending', serverNow(), { text, action });
  place(room, result, { mine: true });
  const fields = room.dm ? { to: room.name, text } : { room: room.name, text };
  if (action) fields.me = true;
  send('say', fields, {
    room: room.key, to: room.dm ? room.name : undefined, nick: room.dm ? room.name : undefined,
    text, action, entry: result.entry,
  });
}

// Sets a room's topic (an empty one clears it); the `topic` event confirms it.
export function setTopic(name, topic) {
  if (!requireOnline()) return false;
  send('topic', { room: name, topic }, { room: name, topic, user: true });
  return true;
}

// ---- open rooms ----------------------------------------------------------

export function openRoom(name) {
  let room = state.rooms.get(name);
  if (room) return room;
  room = {
    name, key: name, log: new RoomLog(), unread: 0, unseen: 0, mentions: 0, stuck: true,
    members: null, joined: false, topic: undefined,
  };
  mountRoom(room);
  state.rooms.set(name, room);
  saveRooms();
  return room;
}

// A direct conversation lives only in this page: the server does not keep
// direct messages, so there is nothing to rejoin or replay.
export function openDm(nick) {
  const key = dmKey(nick);
  let dm = state.dms.get(key);
  if (dm) return dm;
  dm = {
    name: nick, key, dm: true, log: new RoomLog(), unread: 0, unseen: 0, mentions: 0, stuck: true,
    members: null, joined: true, via: null, seq: 1,
  };
  mountRoom(dm);
  state.dms.set(key, dm);
  renderRooms();
  return dm;
}

// The peer took another nick: the conversation follows them.
export function renameDm(old, nick) {
  const dm = state.dms.get(dmKey(old));
  if (!dm) return null;
  state.dms.delete(dm.key);
  const existing = state.dms.get(dmKey(nick));
  if (existing && existing !== dm) closeRoom(existing);
  dm.name = nick;
  dm.key = dmKey(nick);
  state.dms.set(dm.key, dm);
  dm.list.setAttribute('aria-label', `Direct messages with ${nick}`);
  if (state.current === dmKey(old)) {
    state.current = dm.key;
    showRoom(dm, dm);
  }
  return dm;
}

export function closeRoom(room) {
  room.list.remove();
  if (room.dm) state.dms.delete(room.key);
  else {
    state.rooms.delete(room.name);
    saveRooms();
  }
  // Back to where the reader was before, if that is still open.
  if (state.current === room.key) switchTo(conversation(state.previous) ?? conversations()[0] ?? null);
  renderRooms();
}

export function switchTo(room, { focus = false } = {}) {
  const previous = currentRoom();
  if (previous && previous !== room) state.previous = previous.key;
  state.current = room ? room.key : null;
  if (room) {
    if (!room.dm) store.set('room', room.name);
    room.unread = 0;
    room.unseen = 0;
    room.mentions = 0;
    if (!room.dm && !room.members) requestWho(room.name);
  }
  showRoom(room, previous);
  closeDrawer();
  if (focus) dom.input.focus();
}

export function stepRoom(delta) {
  const all = conversations();
  if (all.length < 2) return;
  const i = all.findIndex((c) => c.key === state.current);
  switchTo(all[(i + delta + all.length) % all.length]);
}

// Opens (or shows) the direct conversation with `nick`, ready to type.
export function openDmWith(nick) {
  switchTo(openDm(nick), { focus: true });
}

Object.assign(actions, { switchTo, leaveRoom, joinRoom, openDm: openDmWith, closeRoom });
