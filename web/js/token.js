// Sign-in tokens (SPEC 13) in the page: a token arrives in the page URL's
// fragment (#token=JWT, never sent to any server by the browser), goes to
// /ws?token= and leaves the address bar at once, so it is not bookmarked,
// shared or kept in the history. It is kept for reconnects in this tab's
// sessionStorage (a reload keeps it, other tabs and a closed tab do not),
// or in memory when sessionStorage is unavailable.

const KEY = 'chatgate.token';
let memory = null;

function storage() {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

export function storedToken() {
  try {
    return storage()?.getItem(KEY) ?? memory;
  } catch {
    return memory;
  }
}

function keep(token) {
  memory = token;
  try {
    storage()?.setItem(KEY, token);
  } catch { /* kept in memory only */ }
}

// "#token=abc&x=1" -> ["abc", "#x=1"]; [null, hash] when there is none.
export function splitToken(hash) {
  const params = new URLSearchParams(String(hash ?? '').replace(/^#/, ''));
  const token = params.get('token');
  if (!token) return [null, hash];
  params.delete('token');
  const rest = params.toString();
  return [token, rest ? `#${rest}` : ''];
}

// Takes a token from the address bar (and removes it there); returns the
// token to use: that one, or the one kept from before.
export function takeToken(loc = window.location, history = window.history) {
  const [token, rest] = splitToken(loc.hash);
  if (token) {
    keep(token);
    history.replaceState(history.state, '', `${loc.pathname}${loc.search}${rest}`);
  }
  return storedToken();
}

// GET /auth (docs/operations.md): what a WebSocket handshake with this
// token meets, {tokens, required, token, reason}; null when the server
// does not answer.
export async function authStatus(token, fetchFn = window.fetch.bind(window)) {
  try {
    const query = token ? `?token=${encodeURIComponent(token)}` : '';
    const res = await fetchFn(`/auth${query}`, { cache: 'no-store' });
    return res.ok ? await res.json() : null;
  } catch {
    return null;
  }
}

// Null when the server answers and does not refuse us, or when it does not
// answer at all (down: reconnecting is right); otherwise why it refuses:
// {token: 'none'|'bad', reason}.
export async function probeRefusal(token, fetchFn = window.fetch.bind(window)) {
  const answer = await authStatus(token, fetchFn);
  if (!answer || !answer.required || answer.token === 'good') return null;
  return { token: answer.token === 'none' ? 'none' : 'bad', reason: String(answer.reason ?? '') };
}
