// The input line: plain text is a message, a leading "/" a command, the same
// commands a terminal user has. "//text" sends "/text" as a message.

export const HELP = [
  ['/nick NAME', 'change your nick'],
  ['/join ROOM', 'join a room, or switch to it'],
  ['/leave [ROOM]', 'leave this room (or ROOM); in a direct conversation, close it (also /part)'],
  ['/msg NICK TEXT', 'write to one person only (/msg NICK opens the conversation)'],
  ['/topic [TEXT]', 'show this room’s topic, or set it to TEXT'],
  ['/me TEXT', 'send an action, like “* you wave”'],
  ['/who [ROOM]', 'list who is in this room'],
  ['/rooms', 'list every room and its size'],
  ['/help', 'show this help'],
  ['//text', 'send a message that starts with “/”'],
  ['Alt+↑ / Alt+↓', 'previous / next room; Esc closes panels'],
];

export function parseInput(line) {
  const text = String(line ?? '');
  if (text.trim() === '') return { kind: 'empty' };
  if (!text.startsWith('/')) return { kind: 'say', text };
  if (text.startsWith('//')) return { kind: 'say', text: text.slice(1) };

  const match = /^\/(\S+)\s*(.*)$/s.exec(text);
  const name = match[1].toLowerCase();
  const rest = match[2].trim();
  const firstWord = rest.split(/\s+/)[0] || '';
  switch (name) {
    case 'me':
      return rest ? { kind: 'me', text: match[2] } : usage('/me TEXT');
    case 'nick':
      return firstWord ? { kind: 'nick', nick: firstWord } : usage('/nick NAME');
    case 'join':
      return firstWord ? { kind: 'join', room: firstWord } : usage('/join ROOM');
    case 'leave':
    case 'part':
      return { kind: 'leave', room: firstWord || null };
    case 'who':
      return { kind: 'who', room: firstWord || null };
    case 'msg':
    case 'query': {
      const dm = /^(\S+)(?:\s(.*))?$/s.exec(rest);
      if (!dm) return usage('/msg NICK TEXT');
      const said = dm[2] ?? '';
      return { kind: 'msg', nick: dm[1], text: said.trim() ? said : '' };
    }
    case 'topic':
      return { kind: 'topic', topic: rest || null };
    case 'rooms':
    case 'list':
      return { kind: 'rooms' };
    case 'help':
    case '?':
      return { kind: 'help' };
    default:
      return { kind: 'error', message: `Unknown command: /${match[1]} (try /help)` };
  }
}

function usage(form) {
  return { kind: 'error', message: `Usage: ${form}` };
}
