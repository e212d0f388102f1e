// What a test file against one server shares: the server and the browser
// started before its tests and stopped after, pages in their own contexts
// and TCP clients, all closed at the end.
import { before, after } from 'node:test';
import { startServer } from './server.mjs';
import { TextClient } from './tcp.mjs';
import { launchBrowser, openPage } from './browser.mjs';

// Registers the before/after hooks; `server` and `browser` are set once the
// tests run. `serverOptions` go to startServer (args, tls).
export function suite(serverOptions = {}) {
  const opened = [];
  const s = {
    server: null,
    browser: null,
    async page(options) {
      const p = await openPage(s.browser, options?.url ?? s.server.url, options);
      opened.push({ close: () => p.context().close().catch(() => {}) });
      return p;
    },
    async tcp() {
      const client = await TextClient.connect(s.server.ports.tcp);
      opened.push(client);
      return client;
    },
  };
  before(async () => {
    s.server = await startServer(serverOptions);
    s.browser = await launchBrowser();
  });
  after(async () => {
    for (const x of opened) x.close?.();
    await s.browser?.close();
    await s.server?.stop();
  });
  return s;
}
