// Pure data: name rules and each room's ordered, de-duplicated log.
// No DOM here, so node can test it directly.

export const ROOM_RE = /^[a-z0-9_-]{1,32}$/;
export const NICK_RE = /^[A-Za-z0-9_-]{1,24}$/;
export const TRANSPORTS = ['ws', 'tcp', 'udp', 'irc', 'echo'];

export function normalizeRoom(name) {
  let room = String(name ?? '').trim().toLowerCase();
  if (room.startsWith('#')) room = room.slice(1);
  return room;
}

export function isValidRoom(room) {
  return ROOM_RE.test(room);
}

export function isValidNick(nick) {
  return NICK_RE.test(nick);
}

export function sameNick(a, b) {
  return typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();
}

// A direct conversation is known by its peer's nick, compared case-insensitively
// like the server does. The "@" keeps it apart from room names.
export function dmKey(nick) {
  return `@${String(nick ?? '').toLowerCase()}`;
}

// Splits `text` into pieces around each mention of `nick`: the nick as a whole
// word (a nick character on neither side), any case. Returns null when there
// is none, so most lines cost one regex test.
export function splitMentions(text, nick) {
  if (!nick || !isValidNick(nick) || typeof text !== 'string') return null;
  // A valid nick holds no regex metacharacter ("-" is literal outside a class).
  const re = new RegExp(`(?<![A-Za-z0-9_-])${nick}(?![A-Za-z0-9_-])`, 'gi');
  const parts = [];
  let at = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > at) parts.push({ text: text.slice(at, m.index) });
    parts.push({ text: m[0], mention: true });
    at = m.index + m[0].length;
  }
  if (!parts.length) return null;
  if (at < text.length) parts.push({ text: text.slice(at) });
  return parts;
}

// A message is known by its id *and* its server time: ids restart at 1 when
// the server restarts, so the id alone cannot tell two messages apart.
export function messageKey(m) {
  return `${m.id}@${m.ts}`;
}

function compare(a, b) {
  if (a.ts !== b.ts) return a.ts - b.ts;
  if (a.kind === 'message' && b.kind === 'message') return a.id - b.id;
  return 0;
}

// Entries (server messages, local notices, pending sends) kept in server-time
// order. Insertion reports the index so a view can place its node there.
export class RoomLog {
  constructor(limit = 500) {
    this.entries = [];
    this.keys = new Set();
    this.limit = limit;
    this.lastId = 0;
    this.lastKey = null;
  }

  has(m) {
    return this.keys.has(messageKey(m));
  }

  // Adds a server message unless it is already here (returns null then).
  // For a live message, `resync` says whether messages may have been missed:
  // 'gap' (ids jumped) or 'reset' (ids went back: the server restarted).
  addMessage(m, { live = false } = {}) {
    const key = messageKey(m);
    if (this.keys.has(key)) return null;
    const before = this.lastId;
    const entry = { kind: 'message', key, ts: m.ts, id: m.id, msg: m };
    const index = this.#insert(entry);
    this.keys.add(key);
    this.#refreshLastId();
    let resync = null;
    if (live && before > 0) {
      if (m.id <= before) resync = 'reset';
      else if (m.id > before + 1) resync = 'gap';
    }
    return { entry, index, removed: this.#trim(), resync, before };
  }

  // Adds a local entry (notice, pending send) at server time `ts`.
  addLocal(kind, ts, data) {
    const entry = { kind, ts, ...data };
    const index = this.#insert(entry);
    return { entry, index, removed: this.#trim() };
  }

  remove(entry) {
    const i = this.entries.indexOf(entry);
    if (i < 0) return false;
    this.entries.splice(i, 1);
    if (entry.kind === 'message') {
      this.keys.delete(entry.key);
      this.#refreshLastId();
    }
    return true;
  }

  next(entry) {
    const i = this.entries.indexOf(entry);
    return i >= 0 ? this.entries[i + 1] ?? null : null;
  }

  messages() {
    return this.entries.filter((e) => e.kind === 'message').map((e) => e.msg);
  }

  #insert(entry) {
    let i = this.entries.length;
    while (i > 0 && compare(this.entries[i - 1], entry) > 0) i--;
    this.entries.splice(i, 0, entry);
    return i;
  }

  #refreshLastId() {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i].kind === 'message') {
        this.lastId = this.entries[i].id;
        this.lastKey = this.entries[i].key;
        return;
      }
    }
    this.lastId = 0;
    this.lastKey = null;
  }

  #trim() {
    const removed = [];
    while (this.entries.length > this.limit) {
      const entry = this.entries.shift();
      if (entry.kind === 'message') this.keys.delete(entry.key);
      removed.push(entry);
    }
    if (removed.length) this.#refreshLastId();
    return removed;
  }
}
