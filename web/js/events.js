// What the server tells the page (SPEC section 4): one handler per event
// type, errors turned into readable text, and what a lost connection means.

import { messageKey, normalizeRoom, isValidRoom, splitMentions, dmKey } from './model.js';
import { state, store, conn, currentRoom, conversation, conversations } from './state.js';
import { markFailed } from './ui.js';
import { notify } from './notify.js';
import {
  dom, place, unplace, addNotice, showError, flashHint,
  renderConn, renderNick, renderRooms, renderPeople, renderTopic, closeNickForm, closeTopicForm, showNickError,
} from './view.js';
import {
  send, takePending, whoAsked, requestWho, requestRooms, requestNick, refreshRooms, refreshWho,
  rejoin, resync, openRoom, openDm, renameDm, closeRoom, switchTo,
} from './session.js';

const NICK_RETRY_MS = 3000;
const NICK_RETRIES = 3;

function validMessage(m) {
  return Boolean(m) && typeof m === 'object' && typeof m.from === 'string'
    && typeof m.text === 'string' && Number.isFinite(m.id) && Number.isFinite(m.ts);
}

// A direct message has `to` and no `room`; the server numbers room messages
// only, so its id is not needed.
function validDirect(m) {
  return typeof m.from === 'string' && m.from !== '' && typeof m.to === 'string' && m.to !== ''
    && typeof m.text === 'string' && Number.isFinite(m.ts);
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
  topic: onTopic,
  presence: onPresence,
  error: onError,
  bye: (m) => addNotice(currentRoom(), [`The server says goodbye: ${m.message ?? ''}`], { tone: 'warn' }),
};

export function onServerMessage(msg) {
  handlers[msg.type]?.(msg);
}

function onWelcome(w) {
  const wasReconnect = state.everWelcomed;
  state.me = String(w.nick ?? '');
  state.welcomed = true;
  state.presenceLimit = Number(w.presence_limit) || 0;
  const given = (Array.isArray(w.rooms) ? w.rooms : []).map(normalizeRoom);
  let wanted;
  if (wasReconnect) wanted = [...state.rooms.keys()];
  else if (Array.isArray(state.savedRooms)) wanted = state.savedRooms.map(normalizeRoom).filter(isValidRoom);
  else wanted = given;

  // The server put us in its default room (history on the way); restore the rest.
  for (const name of wanted) openRoom(name);
  for (const name of given) {
    if (wanted.includes(name)) state.rooms.get(name).joined = true;
    else send('leave', { room: name }, { room: name });
  }
  for (const name of wanted) if (!given.includes(name)) rejoin(state.rooms.get(name));

  if (state.wantedNick && state.wantedNick !== state.me) {
    state.nickRetries = 0;
    requestNick(state.wantedNick, { auto: true });
  }
  state.everWelcomed = true;
  if (wasReconnect) for (const room of conversations()) addNotice(room, ['Reconnected.'], { tone: 'ok' });

  const target = conversation(state.current) ?? state.rooms.get(store.get('room', null))
    ?? conversations()[0] ?? null;
  switchTo(target);
  renderNick();
  renderConn();
  requestRooms();
}

// Our own message came back: it replaces the "sending…" line.
function settleOwn(room, m, meta) {
  let entry = meta?.type === 'say' ? meta.entry : null;
  if (!entry || !room.log.entries.includes(entry)) {
    entry = room.log.entries.find((e) => e.kind === 'pending' && e.text === m.text
      && Boolean(e.action) === Boolean(m.me));
  }
  if (entry) unplace(room, entry);
}

// A message that names us, from someone else, while the tab is hidden: a
// desktop notification (if allowed); a click on it brings the conversation up.
function raiseAlert(room, m, mention) {
  if (!mention && !room.dm) return;
  const where = room.dm ? `${m.from} (direct message)` : `${m.from} in #${room.name}`;
  notify(where, m.me ? `* ${m.from} ${m.text}` : m.text, room.key, () => {
    const again = conversation(room.key);
    if (again) switchTo(again, { focus: true });
  });
}

function onMessage(m) {
  const meta = takePending(m.ref);
  if (m && typeof m === 'object' && m.room === undefined && m.to !== undefined) {
    onDirect(m, meta);
    return;
  }
  if (!validMessage(m)) return;
  const room = state.rooms.get(normalizeRoom(m.room));
  if (!room) return;
  state.clockSkew = Date.now() - m.ts;
  const mine = m.from === state.me;
  if (mine) settleOwn(room, m, meta);
  const result = room.log.addMessage(m, { live: true });
  if (!result) return;
  const mention = !mine && splitMentions(m.text, state.me) !== null;
  place(room, result, { live: true, mine, mention });
  if (mention) raiseAlert(room, m, true);
  if (result.resync === 'reset') resync(room);
  else if (result.resync === 'gap') resync(room, result.before);
}

// A direct message: to us from someone, or our own copy (the acknowledgement).
function onDirect(m, meta) {
  if (!validDirect(m)) return;
  const mine = m.from === state.me;
  const peer = mine ? m.to : m.from;
  const dm = (mine && meta?.room ? conversation(meta.room) : null) ?? openDm(peer);
  if (dm.name !== peer && dmKey(peer) === dm.key) dm.name = peer; // the server's spelling
  if (!mine) dm.via = typeof m.via === 'string' ? m.via : dm.via;
  state.clockSkew = Date.now() - m.ts;
  if (mine) settleOwn(dm, m, meta);
  const result = dm.log.addMessage({ ...m, id: dm.seq++ });
  const mention = !mine && splitMentions(m.text, state.me) !== null;
  place(dm, result, { live: true, mine, mention });
  if (!mine) raiseAlert(dm, m, mention);
  renderRooms();
  if (dm.key === state.current) renderPeople();
}

function onHistory(h) {
  const meta = takePending(h.ref);
  const room = state.rooms.get(normalizeRoom(h.room));
  if (!room) return;
  room.joined = true;
  // The server sends a room's topic just before the history of a join, and
  // nothing when there is none: no topic first means none (maybe cleared while away).
  if (!room.topicFresh) {
    room.topic = { topic: '', by: '', ts: 0 };
    if (room.key === state.current) renderTopic();
  }
  room.topicFresh = false;
  const messages = (Array.isArray(h.messages) ? h.messages : []).filter(validMessage);
  for (const m of messages) {
    if (m.from === state.me) settleOwn(room, m, null);
    const result = room.log.addMessage(m);
    if (result) place(room, result);
  }
  if (meta?.expect && !messages.some((m) => messageKey(m) === meta.expect)) resync(room);
  if (meta?.user) switchTo(room, { focus: true });
  renderRooms();
}

function onJoined(j) {
  const name = normalizeRoom(j.room);
  if (j.nick === state.me) {
    const meta = state.pending.get(j.ref); // the history that follows completes it
    const fresh = !state.rooms.has(name);
    const room = openRoom(name);
    room.joined = true;
    if (fresh) addNotice(room, [`You joined #${name}.`]);
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
    if (room.members?.some((p) => p.nick === l.nick)) room.members = room.members.filter((p) => p.nick !== l.nick);
    else if (room.more > 0) room.more -= 1;
    refreshWho(name);
    renderPeople();
  }
  refreshRooms();
}

function renameMember(room, old, nick) {
  for (const p of room.members ?? []) if (p.nick === old) p.nick = nick;
}

function onNick(n) {
  const meta = takePending(n.ref);
  if (n.old === state.me || meta?.type === 'nick') {
    state.me = n.nick;
    state.wantedNick = n.nick;
    state.nickRetries = 0;
    store.set('nick', n.nick);
    for (const room of conversations()) {
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
  const dm = renameDm(n.old, n.nick);
  if (dm) {
    addNotice(dm, [{ nick: n.old }, ' is now known as ', { nick: n.nick }, '.']);
    renderRooms();
    shown = true;
  }
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

function onRooms(r) {
  const meta = takePending(r.ref);
  state.serverRooms = (Array.isArray(r.rooms) ? r.rooms : [])
    .filter((x) => x && typeof x.room === 'string')
    .map((x) => ({ room: x.room, members: Number(x.members) || 0, topic: typeof x.topic === 'string' ? x.topic : '' }))
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
  if (room) {
    room.members = members;
    // Asked with a limit: `count` says how many there are in all.
    room.more = typeof w.count === 'number' ? Math.max(0, w.count - members.length) : 0;
  }
  renderPeople();
  renderRooms();
  if (meta?.user) {
    const parts = [`In #${name}: `];
    members.forEach((p, i) => parts.push(i ? ', ' : '', { nick: p.nick }, ' ', { via: p.via }));
    if (!members.length) parts.push('nobody.');
    addNotice(currentRoom(), parts);
  }
}

// A room above the server's presence limit: its size after a join, then
// at most once a second while people come and go, instead of a joined or
// left event each. The names shown stay; the count follows. Once the room
// is small enough to list whole, the page asks for the list again.
function onPresence(p) {
  const room = state.rooms.get(normalizeRoom(p.room));
  const size = Number(p.members);
  if (!room || !Number.isFinite(size)) return;
  if (room.members) {
    room.more = Math.max(0, size - room.members.length);
    const whole = state.presenceLimit > 0 && size <= state.presenceLimit;
    if (whole && (room.more > 0 || size < room.members.length)) refreshWho(room.name);
  }
  renderPeople();
  renderRooms();
}

// Sent after every join and on every change. The first one after opening a
// room only fills the line under its name; a change is also told in the log.
function onTopic(t) {
  // After a join the topic carries the join's ref: leave that to the history.
  let meta = state.pending.get(t.ref) ?? null;
  if (meta?.type === 'topic') state.pending.delete(t.ref);
  else meta = null;
  const name = normalizeRoom(t.room);
  const room = state.rooms.get(name);
  if (!room) return;
  const topic = typeof t.topic === 'string' ? t.topic : '';
  const by = typeof t.by === 'string' ? t.by : '';
  const before = room.topic;
  room.topic = { topic, by, ts: t.ts };
  room.topicFresh = true;
  const ts = Number.isFinite(t.ts) && t.ts > 0 ? t.ts : undefined;
  if (before !== undefined && before.topic !== topic) {
    const who = by === state.me ? ['You'] : [{ nick: by || 'someone' }];
    const what = topic ? [' set the topic to “', topic, '”.'] : [' cleared the topic.'];
    addNotice(room, [...who, ...what], { tone: 'topic', ts });
  } else if (meta?.show) {
    showTopic(room);
  }
  if (meta?.user && meta.type === 'topic') {
    closeTopicForm(document.activeElement === dom.topicInput);
    flashHint(topic ? `Topic of #${name} set.` : `Topic of #${name} cleared.`);
  }
  if (room.key === state.current) renderTopic();
  const listed = state.serverRooms.find((x) => x.room === name);
  if (listed) listed.topic = topic;
}

export function showTopic(room) {
  const t = room.topic;
  if (t?.topic) addNotice(room, [`Topic of #${room.name}: “`, t.topic, '”', ...(t.by ? [' (set by ', { nick: t.by }, ')'] : []), '.']);
  else addNotice(room, [`#${room.name} has no topic. Set one with /topic TEXT.`]);
}

// ---- errors --------------------------------------------------------------

export function describeError(e, meta) {
  const nick = meta?.nick ?? '';
  const room = meta?.room ?? '';
  switch (e.code) {
    case 'nick_taken': return `The nick “${nick}” is already taken. Pick another one.`;
    case 'bad_nick': return `“${nick}” can't be used as a nick: use 1–24 letters, digits, “-” or “_”.`;
    case 'bad_room': return `“${room}” isn't a valid room name: use 1–32 letters, digits, “-” or “_”.`;
    case 'not_in_room': return `You are not in #${room || '?'}.`;
    case 'no_such_nick': return `No one called ${meta?.to ?? (nick || '?')} is here, so that was not sent.`;
    case 'too_long':
      if (meta?.type === 'topic') return 'That topic is too long (the limit is 4096 bytes), so it was not set.';
      return 'That message is too long (the limit is 4096 bytes), so it was not sent.';
    case 'rate_limited': return 'You are sending too fast: that was not sent. Wait a moment and try again.';
    case 'bad_request': return `The server did not understand that request (${e.message ?? 'bad request'}).`;
    case 'bad_token':
      return `The server refused your sign-in token (${String(e.message ?? '').replace(/^bad token: /, '')}).`;
    default: return String(e.message || e.code || 'Unknown error from the server.');
  }
}

const SHORT_REASON = { too_long: 'too long', rate_limited: 'too fast, slow down', not_in_room: 'not in this room' };

function onError(e) {
  const meta = takePending(e.ref);
  const text = describeError(e, meta);
  switch (meta?.type) {
    case 'say': {
      const reason = e.code === 'no_such_nick' ? `no one called ${meta.to} is here` : SHORT_REASON[e.code];
      if (meta.entry) markFailed(meta.entry, reason ?? text);
      if (!dom.input.value) dom.input.value = meta.action ? `/me ${meta.text}` : meta.text;
      flashHint(text, true);
      const room = conversation(meta.room);
      if (room && (room !== currentRoom() || e.code === 'no_such_nick')) addNotice(room, [text], { tone: 'error' });
      return;
    }
    case 'nick':
      if (meta.auto && e.code === 'nick_taken' && state.nickRetries < NICK_RETRIES) {
        retryNick(meta.nick);
        return;
      }
      if (meta.auto && e.code === 'bad_nick') {
        state.wantedNick = null;
        store.set('nick', null);
      }
      if (meta.form && showNickError(text)) return;
      break;
    case 'join':
      if (!meta.user) {
        const room = state.rooms.get(meta.room);
        if (room && !room.joined) closeRoom(room);
      }
      break;
    case 'rooms':
    case 'who':
      // The page asked on its own: a hint is enough, the log stays calm.
      if (!meta.user) {
        flashHint(text, true);
        return;
      }
      break;
    default:
  }
  showError(text);
}

// Most likely our previous connection still holds the nick: ask again shortly.
function retryNick(nick) {
  state.nickRetries++;
  setTimeout(() => {
    if (state.welcomed && state.wantedNick === nick && state.me !== nick) requestNick(nick, { auto: true });
  }, NICK_RETRY_MS * state.nickRetries);
  if (state.nickRetries === 1) {
    addNotice(currentRoom(), [`Your nick “${nick}” is still in use; you are `, { nick: state.me },
      ' for now. Trying again…'], { tone: 'warn' });
  }
}

// ---- connection state ----------------------------------------------------

export function onConnState() {
  if (conn.state !== 'connected' && state.welcomed) {
    state.welcomed = false;
    const why = conn.lastClose?.code === 1001 ? ' (the server is shutting down)' : '';
    for (const room of conversations()) {
      if (!room.dm) {
        room.joined = false;
        room.members = null; // asked again when the room is on screen
        room.topicFresh = false;
      }
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
