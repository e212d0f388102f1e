// Reference broadcast server: the `ws` README's "broadcast to all clients" pattern.
// Usage: node server.js [PORT] [HOST]   (PORT 0 picks a free port; prints "listening PORT")
'use strict';
const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.argv[2] || 0);
const host = process.argv[3] || '127.0.0.1';
const wss = new WebSocketServer({ port, host });

wss.on('listening', () => {
  console.log(`listening ${wss.address().port}`);
});

wss.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => {
    wss.clients.forEach((client) => {
      if (client.readyState === WebSocket.OPEN) {
        client.send(data, { binary: isBinary });
      }
    });
  });
});

const stop = () => { wss.close(); process.exit(0); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
