// DOM building blocks. Everything that comes from the network goes in as
// text (textContent / attributes), never as HTML.

import { TRANSPORTS, splitMentions } from './model.js';

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name === 'style') for (const [k, v] of Object.entries(value)) node.style.setProperty(k, v);
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayAndClock = new Intl.DateTimeFormat(undefined, {
  month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
});
const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

export function timeNode(ts) {
  const date = new Date(ts);
  const today = new Date().toDateString() === date.toDateString();
  return el('time', {
    class: 't', datetime: date.toISOString(), title: full.format(date),
  }, today ? clock.format(date) : dayAndClock.format(date));
}

// A stable hue per nick so a conversation is easy to follow.
export function nickHue(nick) {
  let h = 0;
  for (const ch of String(nick).toLowerCase()) h = (h * 31 + ch.codePointAt(0)) % 360;
  return String(h);
}

export function nickNode(nick, extraClass = '') {
  return el('span', { class: `from ${extraClass}`.trim(), style: { '--hue': nickHue(nick) } }, nick);
}

export function viaBadge(via) {
  const known = TRANSPORTS.includes(via) ? via : 'other';
  return el('span', { class: `via via-${known}`, title: `sent over ${via}` }, String(via ?? '?'));
}

export function renderEntry(entry, me) {
  switch (entry.kind) {
    case 'message': return renderMessage(entry.msg, me);
    case 'pending': return renderPending(entry, me);
    default: return renderNotice(entry);
  }
}

// The text of a message, with each mention of our nick marked (as text nodes
// inside <mark>, never parsed as HTML).
function textNode(m, me, mine) {
  const parts = mine ? null : splitMentions(m.text, me);
  if (!parts) return el('span', { class: 'text' }, m.text);
  return el('span', { class: 'text' }, parts.map((p) => (p.mention ? el('mark', { class: 'mention' }, p.text) : p.text)));
}

function renderMessage(m, me) {
  const mine = m.from === me;
  const text = textNode(m, me, mine);
  const mention = text.firstElementChild !== null;
  const cls = ['msg', m.me ? 'action' : '', mine ? 'mine' : '', mention ? 'mentions-me' : ''].filter(Boolean).join(' ');
  const body = m.me
    ? el('span', { class: 'body' }, el('span', { class: 'star', 'aria-hidden': 'true' }, '*'), ' ',
      nickNode(m.from), ' ', viaBadge(m.via), ' ', text)
    : el('span', { class: 'body' }, nickNode(m.from), ' ', viaBadge(m.via), ' ', text);
  return el('li', { class: cls, 'data-id': m.id }, timeNode(m.ts), ' ', body);
}

function renderPending(entry, me) {
  const li = el('li', { class: `msg mine pending${entry.action ? ' action' : ''}` });
  const body = el('span', { class: 'body' });
  if (entry.action) body.append(el('span', { class: 'star', 'aria-hidden': 'true' }, '*'), ' ');
  body.append(nickNode(me ?? 'you'), ' ', viaBadge('ws'), ' ', el('span', { class: 'text' }, entry.text), ' ',
    el('span', { class: 'state' }, 'sending…'));
  li.append(timeNode(entry.ts), ' ', body);
  return li;
}

export function markFailed(entry, reason) {
  entry.failed = reason;
  if (!entry.node) return;
  entry.node.classList.add('failed');
  entry.node.querySelector('.state').textContent = `not sent: ${reason}`;
}

function renderNotice(entry) {
  const li = el('li', { class: `notice ${entry.tone ?? ''}`.trim() });
  li.append(timeNode(entry.ts), ' ');
  const body = el('span', { class: 'body' });
  for (const part of entry.parts) {
    if (typeof part === 'string') body.append(part);
    else if (part.nick) body.append(nickNode(part.nick));
    else if (part.via) body.append(viaBadge(part.via));
    else if (part.code) body.append(el('code', {}, part.code));
  }
  if (entry.items) {
    body.append(el('ul', { class: 'items' }, entry.items.map(([a, b]) =>
      el('li', {}, el('code', {}, a), ' ', el('span', {}, b)))));
  }
  li.append(body);
  return li;
}

// Keep a list's children in step with `items` while reusing nodes, so focus
// and hover survive the periodic refresh.
export function syncList(list, items, keyOf, create, update) {
  const wanted = new Set(items.map(keyOf));
  for (const node of [...list.children]) if (!wanted.has(node.dataset.key)) node.remove();
  const existing = new Map([...list.children].map((node) => [node.dataset.key, node]));
  let cursor = list.firstElementChild;
  for (const item of items) {
    const key = keyOf(item);
    let node = existing.get(key);
    if (node) existing.delete(key);
    else {
      node = create(item);
      node.dataset.key = key;
    }
    update(node, item);
    if (node !== cursor) list.insertBefore(node, cursor);
    else cursor = cursor.nextElementSibling;
  }
}
