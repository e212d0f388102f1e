// What the page knows: who it is, which rooms are open, what it asked the
// server. One shared object; the session changes it, the view reads it.

import { Connection, socketUrl } from './connection.js';
import { takeToken, authStatus, probeRefusal } from './token.js';

// localStorage may be unavailable (private mode, disabled): then nothing is remembered.
export const store = {
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

// A token from #token= (then gone from the address bar), or the one kept.
const token = takeToken();
// Whether the server requires tokens, asked once as the page loads (the
// server is up then). A server known not to is not asked again when a
// handshake fails: it is down, and a fetch to it would only fail too.
let tokensRequired = null;
authStatus(token).then((answer) => {
  if (answer) tokensRequired = Boolean(answer.required);
});
export const conn = new Connection(socketUrl(window.location, token), {
  probe: () => (tokensRequired === false ? Promise.resolve(null) : probeRefusal(state.token)),
});

export const state = {
  me: null,                              // our nick, as the server last said
  token,                                 // the sign-in token (js/token.js), or null
  // The nick we chose, re-claimed on every connect; with a token its nick is ours.
  wantedNick: token ? null : store.get('nick', null),
  rooms: new Map(),                      // open rooms, in the order they were opened
  dms: new Map(),                        // direct conversations by dmKey(peer), in the order opened
  current: null,                         // key of the conversation on screen: a room name or dmKey(nick)
  previous: null,                        // key of the one on screen before it (shown again when it closes)
  savedRooms: store.get('rooms', null),  // what to reopen on the first welcome
  serverRooms: [],                       // last `rooms` answer: [{room, members}]
  welcomed: false,                       // this connection got its welcome
  presenceLimit: 0,                      // welcome.presence_limit: rooms above it send counts
  everWelcomed: false,
  pending: new Map(),                    // ref -> what that request was
  nextRef: 1,
  clockSkew: 0,                          // local clock minus server clock, ms
  nickRetries: 0,
};

export function serverNow() {
  return Date.now() - state.clockSkew;
}

// A conversation is a room ({name, key: name}) or a direct one
// ({name: peer nick, key: dmKey(peer), dm: true}); both have a log and unread counts.
export function conversation(key) {
  return state.rooms.get(key) ?? state.dms.get(key) ?? null;
}

export function conversations() {
  return [...state.rooms.values(), ...state.dms.values()];
}

export function currentRoom() {
  return conversation(state.current);
}

export function saveRooms() {
  store.set('rooms', [...state.rooms.keys()]);
}

export function memberCount(name) {
  const room = state.rooms.get(name);
  if (room?.members) return room.members.length + (room.more ?? 0);
  return state.serverRooms.find((x) => x.room === name)?.members ?? null;
}
