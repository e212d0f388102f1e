// chatgate chat page, the entry point: the input line, keyboard shortcuts and
// the wiring between the connection (js/connection.js), what the page knows
// (js/state.js), what it asks (js/session.js), what it hears (js/events.js)
// and what it shows (js/view.js).

import { parseInput, HELP } from './js/commands.js';
import { normalizeRoom, isValidNick, sameNick } from './js/model.js';
import { state, conn, currentRoom, conversations } from './js/state.js';
import {
  dom, IDLE_HINT, addNotice, showError, flashHint, renderConn, renderJump, renderRooms, scrollToEnd,
  openNickForm, closeNickForm, openTopicForm, closeTopicForm, drawerOpen, openDrawer, closeDrawer,
} from './js/view.js';
import {
  send, requireOnline, requestRooms, requestWho, requestNick, joinRoom, leaveRoom, say, setTopic,
  switchTo, stepRoom, openDm, closeRoom,
} from './js/session.js';
import { onServerMessage, onConnState, showTopic } from './js/events.js';
import { notifyState, toggleNotifications } from './js/notify.js';
import { takeToken } from './js/token.js';
import { socketUrl } from './js/connection.js';

const ROOMS_POLL_MS = 5000;
const recall = { lines: [], at: -1 }; // lines sent, for ↑ / ↓ in the input

// Runs one input line; true when the line was used and the input can be cleared.
function runLine(line) {
  const cmd = parseInput(line);
  const room = currentRoom();
  switch (cmd.kind) {
    case 'empty':
      return false;
    case 'say':
    case 'me':
      if (!room) {
        showError('You are not in a room: type /join ROOM first.');
        return false;
      }
      if (!requireOnline()) return false;
      say(room, cmd.text, cmd.kind === 'me');
      return true;
    case 'nick':
      return requestNick(cmd.nick);
    case 'join':
      joinRoom(cmd.room);
      return true;
    case 'msg': {
      if (!isValidNick(cmd.nick)) {
        showError(`“${cmd.nick}” can't be a nick: nicks are 1–24 letters, digits, “-” or “_”.`);
        return false;
      }
      if (sameNick(cmd.nick, state.me)) {
        showError('That is you: write to someone else.');
        return false;
      }
      if (cmd.text && !requireOnline()) return false;
      const dm = openDm(cmd.nick);
      switchTo(dm, { focus: true });
      if (cmd.text) say(dm, cmd.text, false);
      return true;
    }
    case 'topic': {
      if (!room || room.dm) {
        showError('Topics belong to rooms: switch to a room first.');
        return false;
      }
      if (cmd.topic === null) {
        if (room.topic !== undefined) showTopic(room);
        else if (requireOnline()) send('topic', { room: room.name }, { room: room.name, show: true });
        return true;
      }
      return setTopic(room.name, cmd.topic);
    }
    case 'leave': {
      if (!cmd.room && room?.dm) {
        closeRoom(room);
        return true;
      }
      const name = cmd.room ? normalizeRoom(cmd.room) : room?.name;
      if (!name || !state.rooms.has(name)) {
        showError(name ? `You are not in #${name}.` : 'You are not in a room.');
        return false;
      }
      leaveRoom(name);
      return true;
    }
    case 'who': {
      const name = cmd.room ? normalizeRoom(cmd.room) : (room?.dm ? null : room?.name);
      if (!name) {
        showError('Which room? Type /who ROOM.');
        return false;
      }
      if (!requireOnline()) return false;
      requestWho(name, { user: true, room: name });
      return true;
    }
    case 'rooms':
      if (!requireOnline()) return false;
      requestRooms({ user: true });
      return true;
    case 'help':
      if (room) addNotice(room, ['Commands:'], { items: HELP, tone: 'help' });
      else flashHint(HELP.map(([a, b]) => `${a}: ${b}`).join(' · '));
      return true;
    default:
      showError(cmd.message);
      return false;
  }
}

function onSubmit(event) {
  event.preventDefault();
  const line = dom.input.value;
  if (!runLine(line)) return;
  recall.lines.push(line);
  if (recall.lines.length > 50) recall.lines.shift();
  recall.at = -1;
  dom.input.value = '';
}

function onComposerKey(event) {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  const { lines } = recall;
  if (event.key === 'ArrowUp' && lines.length && (dom.input.value === '' || recall.at >= 0)) {
    recall.at = recall.at < 0 ? lines.length - 1 : Math.max(0, recall.at - 1);
    dom.input.value = lines[recall.at];
    event.preventDefault();
  } else if (event.key === 'ArrowDown' && recall.at >= 0) {
    recall.at++;
    dom.input.value = recall.at < lines.length ? lines[recall.at] : '';
    if (recall.at >= lines.length) recall.at = -1;
    event.preventDefault();
  }
}

function onNickSubmit(event) {
  event.preventDefault();
  const nick = dom.nickInput.value.trim();
  if (!nick) {
    dom.nickError.textContent = 'Type a nick first.';
    return;
  }
  if (nick === state.me) {
    closeNickForm();
    return;
  }
  dom.nickError.textContent = '';
  if (!conn.isOpen || !state.welcomed) dom.nickError.textContent = 'Not connected right now: try again in a moment.';
  else requestNick(nick, { form: true });
}

function onGlobalKey(event) {
  if (event.key === 'Escape') {
    if (!dom.nickForm.hidden) closeNickForm();
    else if (!dom.topicForm.hidden) closeTopicForm();
    else closeDrawer(true);
  } else if (event.altKey && (event.key === 'ArrowUp' || event.key === 'ArrowDown')) {
    event.preventDefault();
    stepRoom(event.key === 'ArrowUp' ? -1 : 1);
  }
}

function wire() {
  dom.composer.addEventListener('submit', onSubmit);
  dom.input.addEventListener('keydown', onComposerKey);
  dom.joinForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = dom.joinInput.value.trim();
    if (!value) return;
    joinRoom(value);
    dom.joinInput.value = '';
  });
  dom.leaveBtn.addEventListener('click', () => {
    const room = currentRoom();
    if (room?.dm) closeRoom(room);
    else if (room) leaveRoom(room.name);
  });
  dom.topicBtn.addEventListener('click', () => (dom.topicForm.hidden ? openTopicForm() : closeTopicForm()));
  dom.topicCancel.addEventListener('click', () => closeTopicForm());
  dom.topicForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const room = currentRoom();
    if (!room || room.dm) return;
    setTopic(room.name, dom.topicInput.value.trim());
  });
  dom.notifyBtn.addEventListener('click', async () => {
    await toggleNotifications();
    renderNotify();
  });
  dom.nickBtn.addEventListener('click', () => (dom.nickForm.hidden ? openNickForm() : closeNickForm()));
  dom.nickCancel.addEventListener('click', () => closeNickForm());
  dom.nickForm.addEventListener('submit', onNickSubmit);
  dom.menuBtn.addEventListener('click', () => (drawerOpen() ? closeDrawer(true) : openDrawer()));
  dom.scrim.addEventListener('click', () => closeDrawer(true));
  dom.drawerClose.addEventListener('click', () => closeDrawer(true));
  dom.jumpBtn.addEventListener('click', () => {
    const room = currentRoom();
    if (!room) return;
    scrollToEnd(room);
    room.unseen = 0;
    renderJump();
    dom.input.focus();
  });
  dom.retryBtn.addEventListener('click', () => conn.retryNow());
  document.addEventListener('keydown', onGlobalKey);
  document.addEventListener('visibilitychange', () => {
    const room = currentRoom();
    if (document.hidden || !room) return;
    room.unread = 0;
    room.mentions = 0;
    renderRooms();
  });
  window.addEventListener('online', () => conn.retryNow());
  // A new sign-in link pasted into this tab: use its token at once.
  window.addEventListener('hashchange', () => {
    const token = takeToken();
    if (!token || token === state.token) return;
    state.token = token;
    state.wantedNick = null;
    conn.restart(socketUrl(window.location, token));
  });

  conn.addEventListener('state', onConnState);
  conn.addEventListener('message', (event) => onServerMessage(event.detail));
  setInterval(() => {
    if (state.welcomed && !document.hidden) requestRooms();
  }, ROOMS_POLL_MS);
}

const NOTIFY_TEXT = {
  unsupported: ['not available in this browser', null],
  default: ['off', 'Turn on'],
  denied: ['blocked in the browser’s site settings', null],
  on: ['on, for mentions and direct messages while this tab is hidden', 'Turn off'],
  off: ['off', 'Turn on'],
};

function renderNotify() {
  const [text, button] = NOTIFY_TEXT[notifyState()];
  dom.notifyState.textContent = text;
  dom.notifyBtn.hidden = !button;
  dom.notifyBtn.textContent = button ?? '';
}

wire();
renderNotify();
dom.hint.textContent = IDLE_HINT;
renderConn();
switchTo(null);
conn.start();
// Ready to type on a desktop; on a phone the keyboard would cover the page.
if (window.matchMedia('(min-width: 761px)').matches) dom.input.focus();

// For the browser tests and for curious people in devtools.
window.chatgate = { state, conn, conversations };
