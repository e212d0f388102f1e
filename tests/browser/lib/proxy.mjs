// A TCP relay that can cut every connection and refuse new ones for a while:
// a network outage while the server itself keeps running.
import net from 'node:net';

export async function startProxy(targetPort) {
  const sockets = new Set();
  let server = null;
  let port = 0;

  const listen = () => new Promise((resolve, reject) => {
    server = net.createServer((client) => {
      const upstream = net.connect(targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      port = server.address().port;
      resolve();
    });
  });

  await listen();
  return {
    get port() { return port; },
    async cut() {
      await new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
    async restore() {
      for (let i = 0; ; i++) {
        try {
          await listen();
          return;
        } catch (error) {
          if (i > 40) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
    },
  };
}
