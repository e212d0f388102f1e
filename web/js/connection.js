// The WebSocket link to the gateway: one socket at a time, reconnect with
// capped exponential backoff plus jitter, and a watchdog for dead links.

export const BACKOFF_BASE_MS = 500;
export const BACKOFF_CAP_MS = 6000;
export const CONNECT_TIMEOUT_MS = 4000;
export const STALL_TIMEOUT_MS = 15000;

// "Equal jitter": half the ceiling fixed, half random, so retries spread out
// but never wait longer than the cap (the page is back within ~6 s of the server).
export function backoffDelay(attempt, random = Math.random) {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function socketUrl(loc) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/ws`;
}

// States: connecting (first try), connected, offline (waiting to retry),
// reconnecting (a retry in progress).
export class Connection extends EventTarget {
  #url;
  #ws = null;
  #attempt = 0;
  #everOpened = false;
  #retryTimer = 0;
  #connectTimer = 0;
  #awaitingSince = 0;

  constructor(url) {
    super();
    this.#url = url;
    this.state = 'connecting';
    this.retryAt = 0;
    this.lastClose = null;
  }

  start() {
    this.#open();
    setInterval(() => this.#watchdog(), 2000);
  }

  get isOpen() {
    return this.#ws !== null && this.#ws.readyState === WebSocket.OPEN;
  }

  send(obj) {
    if (!this.isOpen) return false;
    this.#ws.send(JSON.stringify(obj));
    if (!this.#awaitingSince) this.#awaitingSince = Date.now();
    return true;
  }

  retryNow() {
    if (this.state !== 'offline') return;
    clearTimeout(this.#retryTimer);
    this.#open();
  }

  #setState(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: { state } }));
  }

  #open() {
    this.#setState(this.#everOpened || this.#attempt > 0 ? 'reconnecting' : 'connecting');
    let ws;
    try {
      ws = new WebSocket(this.#url);
    } catch {
      this.#scheduleRetry(null);
      return;
    }
    this.#ws = ws;
    this.#connectTimer = setTimeout(() => {
      if (ws.readyState === WebSocket.CONNECTING) this.#drop(ws, { code: 0, reason: 'connect timeout' });
    }, CONNECT_TIMEOUT_MS);
    ws.onopen = () => {
      clearTimeout(this.#connectTimer);
      this.#attempt = 0;
      this.#everOpened = true;
      this.#awaitingSince = 0;
      this.lastClose = null;
      this.#setState('connected');
    };
    ws.onmessage = (ev) => {
      this.#awaitingSince = 0;
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (msg && typeof msg === 'object' && typeof msg.type === 'string') {
        this.dispatchEvent(new CustomEvent('message', { detail: msg }));
      }
    };
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      if (this.#ws === ws) this.#drop(ws, { code: ev.code, reason: ev.reason });
    };
  }

  // Forget a socket (closing it if needed) and plan the next attempt.
  #drop(ws, why) {
    clearTimeout(this.#connectTimer);
    ws.onopen = ws.onmessage = ws.onclose = null;
    if (ws.readyState === WebSocket.OPEN) ws.close(4000, 'stalled');
    this.#ws = null;
    this.#awaitingSince = 0;
    this.#scheduleRetry(why);
  }

  #scheduleRetry(why) {
    this.lastClose = why;
    const delay = backoffDelay(this.#attempt++);
    this.retryAt = Date.now() + delay;
    this.#retryTimer = setTimeout(() => this.#open(), delay);
    this.#setState('offline');
  }

  // A request unanswered for too long means the link is dead even if the
  // socket has not noticed yet (sleeping laptop, vanished Wi-Fi).
  #watchdog() {
    if (this.#ws && this.isOpen && this.#awaitingSince && Date.now() - this.#awaitingSince > STALL_TIMEOUT_MS) {
      this.#drop(this.#ws, { code: 0, reason: 'no answer from server' });
    }
  }
}
