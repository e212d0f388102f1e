// The WebSocket link to the gateway: one socket at a time, reconnect with
// capped exponential backoff plus jitter, and a watchdog for dead links.

export const BACKOFF_BASE_MS = 500;
export const BACKOFF_CAP_MS = 6000;
export const CONNECT_TIMEOUT_MS = 4000;
export const STALL_TIMEOUT_MS = 15000;
// Stay under the server's default rate limit (20/s, bursts of 40), so that a
// reconnect that rejoins many rooms at once is not refused.
export const SEND_BURST = 30;
export const SEND_RATE = 15;

// "Equal jitter": half the ceiling fixed, half random, so retries spread out
// but never wait longer than the cap (the page is back within ~6 s of the server).
export function backoffDelay(attempt, random = Math.random) {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

// wss: when the page came over HTTPS; the sign-in token, if any, as ?token=.
export function socketUrl(loc, token = null) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

// States: connecting (first try), connected, offline (waiting to retry),
// reconnecting (a retry in progress), refused (the server wants a sign-in
// this page cannot give: no more retries until restart()).
export class Connection extends EventTarget {
  #url;
  #ws = null;
  #attempt = 0;
  #everOpened = false;
  #retryTimer = 0;
  #connectTimer = 0;
  #awaitingSince = 0;
  #outbox = [];
  #tokens = SEND_BURST;
  #refilledAt = Date.now();
  #flushTimer = 0;
  #watchdogTimer = 0;

  // `probe`: called when a handshake fails before the socket opens (the
  // browser hides the HTTP status); resolves to a reason to stop retrying,
  // or null to go on.
  constructor(url, { probe = null } = {}) {
    super();
    this.#url = url;
    this.probe = probe;
    this.state = 'connecting';
    this.retryAt = 0;
    this.lastClose = null;
    this.refusal = null;
  }

  start() {
    this.#open();
    this.#watchdogTimer = setInterval(() => this.#watchdog(), 2000);
  }

  // Closes for good: no more reconnects.
  stop() {
    clearInterval(this.#watchdogTimer);
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#flushTimer);
    const ws = this.#ws;
    this.#ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      ws.close(1000);
    }
  }

  get isOpen() {
    return this.#ws !== null && this.#ws.readyState === WebSocket.OPEN;
  }

  // Queues one JSON frame; false when there is no open socket to send it on.
  send(obj) {
    if (!this.isOpen) return false;
    this.#outbox.push(JSON.stringify(obj));
    this.#flush();
    return true;
  }

  #flush() {
    clearTimeout(this.#flushTimer);
    const now = Date.now();
    this.#tokens = Math.min(SEND_BURST, this.#tokens + ((now - this.#refilledAt) / 1000) * SEND_RATE);
    this.#refilledAt = now;
    while (this.#outbox.length && this.#tokens >= 1 && this.isOpen) {
      this.#ws.send(this.#outbox.shift());
      this.#tokens -= 1;
      if (!this.#awaitingSince) this.#awaitingSince = now;
    }
    if (this.#outbox.length && this.isOpen) {
      this.#flushTimer = setTimeout(() => this.#flush(), Math.ceil(1000 / SEND_RATE));
    }
  }

  retryNow() {
    if (this.state !== 'offline') return;
    clearTimeout(this.#retryTimer);
    this.#open();
  }

  // Stops retrying: the server refuses us, and trying again would not help.
  halt(refusal) {
    clearTimeout(this.#retryTimer);
    this.refusal = refusal;
    this.#setState('refused');
  }

  // Starts over (a new URL: a new token), whatever the state.
  restart(url = this.#url) {
    this.#url = url;
    this.refusal = null;
    this.#attempt = 0;
    clearTimeout(this.#retryTimer);
    const ws = this.#ws;
    if (ws) {
      this.#ws = null;
      ws.onopen = ws.onmessage = ws.onclose = null;
      ws.close(1000);
      this.#setState('offline');
    }
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
    let opened = false;
    this.#connectTimer = setTimeout(() => {
      if (ws.readyState === WebSocket.CONNECTING) this.#drop(ws, { code: 0, reason: 'connect timeout', opened });
    }, CONNECT_TIMEOUT_MS);
    ws.onopen = () => {
      opened = true;
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
      if (this.#ws === ws) this.#drop(ws, { code: ev.code, reason: ev.reason, opened });
    };
  }

  // Forget a socket (closing it if needed) and plan the next attempt.
  #drop(ws, why) {
    clearTimeout(this.#connectTimer);
    ws.onopen = ws.onmessage = ws.onclose = null;
    if (ws.readyState === WebSocket.OPEN) ws.close(4000, 'stalled');
    this.#ws = null;
    this.#awaitingSince = 0;
    this.#outbox = [];
    clearTimeout(this.#flushTimer);
    this.#scheduleRetry(why);
    // Refused at the handshake, or just not there? Ask while the retry waits.
    if (why && !why.opened && this.probe) {
      this.probe().then((refusal) => {
        if (refusal && this.state === 'offline' && !this.#ws) this.halt(refusal);
      });
    }
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
