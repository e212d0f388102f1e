// A raw TCP text client, like `nc 127.0.0.1 PORT`.
import net from 'node:net';

export class TextClient {
  static async connect(port, host = '127.0.0.1') {
    const client = new TextClient();
    await new Promise((resolve, reject) => {
      client.socket = net.connect(port, host, resolve);
      client.socket.once('error', reject);
    });
    client.socket.setEncoding('utf8');
    client.socket.on('data', (chunk) => client.#onData(chunk));
    client.socket.on('error', () => {});
    const welcome = await client.waitFor(/^\* welcome (\S+), you are in #(\S+)\./);
    client.nick = welcome.match[1];
    return client;
  }

  lines = [];
  #buffer = '';
  #waiters = [];

  #onData(chunk) {
    this.#buffer += chunk;
    let i;
    while ((i = this.#buffer.indexOf('\n')) >= 0) {
      this.lines.push(this.#buffer.slice(0, i).replace(/\r$/, ''));
      this.#buffer = this.#buffer.slice(i + 1);
    }
    for (const waiter of [...this.#waiters]) waiter();
  }

  send(line) {
    this.socket.write(`${line}\n`);
  }

  // Resolves with the first line (from `from` on) matching `pattern`.
  waitFor(pattern, { timeoutMs = 5000, from = 0 } = {}) {
    const test = typeof pattern === 'string' ? (l) => l === pattern : (l) => pattern.test(l);
    return new Promise((resolve, reject) => {
      const check = () => {
        const index = this.lines.findIndex((l, n) => n >= from && test(l));
        if (index < 0) return false;
        this.#waiters = this.#waiters.filter((w) => w !== check);
        clearTimeout(timer);
        const line = this.lines[index];
        resolve({ line, index, match: typeof pattern === 'string' ? null : line.match(pattern) });
        return true;
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== check);
        reject(new Error(`timed out waiting for ${pattern}; got:\n${this.lines.slice(from).join('\n')}`));
      }, timeoutMs);
      if (!check()) this.#waiters.push(check);
    });
  }

  close() {
    this.socket.end();
  }
}
