// Kiwi IRC's irc-framework against chatgate: registers as "kiwi", joins
// #kiwi, and answers a WebSocket user. One JSON line per thing it saw.
//   node kiwi.js PORT
const IRC = require('irc-framework');

const port = Number(process.argv[2]);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const bot = new IRC.Client();
bot.connect({ host: '127.0.0.1', port, nick: 'kiwi', username: 'kiwi', gecos: 'Kiwi', auto_reconnect: false });

bot.on('registered', (e) => {
  out({ ev: 'registered', nick: e.nick, caps: bot.network.cap.enabled });
  bot.join('#kiwi');
});
bot.on('join', (e) => out({ ev: 'join', nick: e.nick, channel: e.channel, ident: e.ident }));
bot.on('userlist', (e) => out({ ev: 'names', channel: e.channel, users: e.users.map((u) => u.nick) }));
bot.on('message', (e) => {
  out({ ev: 'message', type: e.type, nick: e.nick, ident: e.ident, target: e.target, text: e.message,
        time: e.time || null });
  if (e.target === '#kiwi' && e.message === 'ping kiwi') {
    bot.say('#kiwi', 'pong from kiwi');
    bot.action('#kiwi', 'waves');
    bot.say(e.nick, 'a private word');
    bot.setTopic('#kiwi', 'set by kiwi');
    bot.whois(e.nick, (w) => {
      out({ ev: 'whois', nick: w.nick, ident: w.ident, channels: w.channels || null, error: w.error || null });
      bot.who('#kiwi', (who) => {
        out({ ev: 'who', users: who.users.map((u) => [u.nick, u.ident]) });
        bot.list();
      });
    });
  }
});
bot.on('channel list', (list) => out({ ev: 'list', channels: list.map((c) => [c.channel, c.num_users]) }));
bot.on('channel list end', () => {
  bot.part('#kiwi');
});
bot.on('part', (e) => {
  if (e.nick === 'kiwi') {
    out({ ev: 'part', channel: e.channel });
    bot.quit('done');
  }
});
bot.on('close', () => { out({ ev: 'closed' }); process.exit(0); });
setTimeout(() => { out({ ev: 'timeout' }); process.exit(1); }, 30000);
