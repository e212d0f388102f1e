// irc-framework over TLS with SASL PLAIN (its `account` option): logs in,
// registers, joins #kiwitls and quits. One JSON line per thing it saw.
//   node kiwi_sasl.js TLS_PORT ACCOUNT TOKEN
// The server's certificate is checked (NODE_EXTRA_CA_CERTS names the CA).
const IRC = require('irc-framework');

const [port, account, password] = [Number(process.argv[2]), process.argv[3], process.argv[4]];
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const bot = new IRC.Client();
bot.connect({
  host: '127.0.0.1', port, tls: true, rejectUnauthorized: true,
  nick: 'kiwitls', username: 'kiwitls', gecos: 'Kiwi TLS', auto_reconnect: false,
  account: { account, password },
});
bot.on('loggedin', (e) => out({ ev: 'loggedin', account: e.account }));
bot.on('sasl failed', (e) => out({ ev: 'sasl failed', reason: e.reason, message: e.message || null }));
bot.on('registered', (e) => {
  out({ ev: 'registered', nick: e.nick, caps: bot.network.cap.enabled });
  bot.join('#kiwitls');
});
bot.on('join', (e) => {
  if (e.nick !== bot.user.nick) return;
  out({ ev: 'joined', channel: e.channel });
  bot.quit('done');
});
bot.on('socket error', (err) => out({ ev: 'error', message: String(err) }));
bot.on('close', () => { out({ ev: 'closed' }); process.exit(0); });
setTimeout(() => { out({ ev: 'timeout' }); process.exit(1); }, 30000);
