// Desktop notifications for mentions and direct messages while the tab is
// hidden. Permission is asked only from a click (browsers ignore or punish a
// prompt on load); the user can switch them off again on this device.

import { store } from './state.js';

const BODY_MAX = 200;

function api() {
  return typeof window.Notification === 'function' ? window.Notification : null;
}

// 'unsupported', 'default' (never asked), 'denied', 'on' or 'off' (granted, switched off here).
export function notifyState() {
  const N = api();
  if (!N) return 'unsupported';
  if (N.permission === 'denied') return 'denied';
  if (N.permission !== 'granted') return 'default';
  return store.get('notify', true) ? 'on' : 'off';
}

// From a click: ask the browser when it has not been asked, else switch on/off.
export async function toggleNotifications() {
  const N = api();
  if (!N) return notifyState();
  if (N.permission === 'granted') {
    store.set('notify', notifyState() !== 'on');
    return notifyState();
  }
  if (N.permission === 'default') {
    try {
      await N.requestPermission();
    } catch { /* old callback-style browsers: the state below tells */ }
    if (N.permission === 'granted') store.set('notify', true);
  }
  return notifyState();
}

// Shows one notification when the page is hidden and the user said yes.
// `tag` groups them per conversation so a busy room makes one, not fifty.
export function notify(title, body, tag, onClick) {
  const N = api();
  if (!N || !document.hidden || notifyState() !== 'on') return null;
  const text = body.length > BODY_MAX ? `${body.slice(0, BODY_MAX - 1)}…` : body;
  try {
    const n = new N(title, { body: text, tag, icon: 'favicon.svg' });
    n.onclick = () => {
      window.focus();
      onClick?.();
      n.close?.();
    };
    return n;
  } catch {
    return null; // e.g. Chrome on Android wants a service worker for this
  }
}
