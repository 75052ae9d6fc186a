// Shared by both consoles: the /ws client (protocol v1 in docs/api.md), HTTP helpers, DOM
// helpers and duration formatting. No page logic lives here.

import { t } from './i18n.js';
import { setText } from './dom.js';

export * from './i18n.js';
export * from './dom.js';

// ---------------------------------------------------------------- HTTP

export class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || `HTTP ${status}`);
    this.status = status;
    this.code = err.code || 'http_error';
    this.field = err.field;
  }
}

// fetch with the session cookie; resolves to the parsed JSON (or null for 204), throws ApiError.
export async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = res.status === 204 ? '' : await res.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!res.ok) throw new ApiError(res.status, parsed);
  return parsed;
}

export const SUPERVISOR_ROLES = ['supervisor', 'site_admin', 'province_admin'];

// The page a user belongs on, or null when they have no console role.
export function homeFor(user) {
  const roles = (user && user.roles) || [];
  if (roles.some((r) => SUPERVISOR_ROLES.includes(r))) return 'supervisor.html';
  if (roles.includes('agent')) return 'agent.html';
  return null;
}

// The signed-in user, or a redirect to the login page when there is no session.
export async function requireUser() {
  try {
    const me = await api('GET', '/v1/me');
    return me && me.user ? me.user : me;
  } catch (e) {
    if (e.status === 401) location.replace('index.html');
    throw e;
  }
}

export async function signOut() {
  try {
    await api('POST', '/v1/auth/logout');
  } finally {
    location.replace('index.html');
  }
}

// ---------------------------------------------------------------- durations

// 65000 → '01:05'; 3725000 → '1:02:05'; negative (clock skew) shows as 00:00.
export function formatDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return t('dur.none');
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
}

export function formatPercent(rate) {
  if (rate === null || rate === undefined) return t('dur.none');
  return `${Math.round(rate * 100)}%`;
}

export function formatTime(ms) {
  if (!ms) return '';
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// How long ago, coarse: '刚刚', '12 分钟前', '3 小时前', '2 天前' (now and ms on one clock).
export function formatAgo(ms, now) {
  if (!ms) return '';
  const min = Math.floor(Math.max(0, now - ms) / 60000);
  if (min < 1) return t('ago.now');
  if (min < 60) return t('ago.min', { n: min });
  if (min < 24 * 60) return t('ago.hour', { n: Math.floor(min / 60) });
  return t('ago.day', { n: Math.floor(min / (24 * 60)) });
}

// Calls fn every second, aligned to the wall clock so every timer on the page ticks together.
export function everySecond(fn) {
  const tick = () => {
    setTimeout(tick, 1000 - (Date.now() % 1000));
    fn();
  };
  setTimeout(tick, 1000 - (Date.now() % 1000));
}

// Keeps every [data-since] element (server ms) showing the time since then. Four times a
// second: each timer's second turns over at its own moment, and unchanged text is not touched.
export function tickDurations(now, root = document) {
  const update = () => {
    const at = now();
    for (const node of root.querySelectorAll('[data-since]')) {
      setText(node, formatDuration(at - Number(node.dataset.since)));
    }
  };
  setInterval(update, 250);
}

// ---------------------------------------------------------------- the /ws console client

// Which field of each delta kind's data is its key, and the Map that holds that kind.
const KINDS = {
  queue: { key: 'queue', map: 'queues' },
  agent: { key: 'agent', map: 'agents' },
  call: { key: 'call', map: 'calls' },
  alarm: { key: 'id', map: 'alarms' },
};
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 10000;
const COMMAND_TIMEOUT_MS = 15000;
const KEEPALIVE_MS = 25000;

export class CommandError extends Error {
  constructor(error) {
    super((error && error.message) || (error && error.code) || 'error');
    this.code = (error && error.code) || 'error';
  }
}

function defaultWsUrl() {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
}

// One console session on /ws that survives reconnects. Supervisor state is in the Maps
// queues/agents/calls/alarms (keys as strings); every other server message is emitted under
// its own type. Events: state ('connecting'|'open'|'closed'), welcome, change, delta,
// snapshot, resumed, refused, binary, and e.g. agent, screen_pop, call_ended, message, monitor.
export class Console {
  constructor({ console: kind, display = 'desk', url = defaultWsUrl() }) {
    this.kind = kind;
    this.display = display;
    this.url = url;
    for (const { map } of Object.values(KINDS)) this[map] = new Map();
    this.epoch = null;
    this.seq = null; // the last delta applied; what a resume names
    this.synced = false; // a snapshot or resume arrived on this socket
    this.clockOffset = 0; // server_ms − Date.now() at welcome
    this.user = null;
    this.state = 'closed';
    this.handlers = new Map();
    this.pending = new Map();
    this.nextId = 1;
    this.backoffMs = BACKOFF_FIRST_MS;
    this.ws = null;
    this.stopped = false;
  }

  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(fn);
    return this;
  }

  off(type, fn) {
    this.handlers.get(type)?.delete(fn);
  }

  emit(type, payload) {
    for (const fn of this.handlers.get(type) || []) {
      try {
        fn(payload);
      } catch (e) {
        console.error(`handler for ${type}`, e);
      }
    }
  }

  start() {
    this.stopped = false;
    this.connect();
    this.keepalive = setInterval(() => this.ping(), KEEPALIVE_MS);
  }

  stop() {
    this.stopped = true;
    clearInterval(this.keepalive);
    clearTimeout(this.retryTimer);
    this.ws?.close(1000);
  }

  // The server's clock, for "time in state" and call durations.
  now() {
    return Date.now() + this.clockOffset;
  }

  isOpen() {
    return this.state === 'open';
  }

  // Sends {type, id, ...fields}; resolves with the {"type":"result","ok":true} message,
  // rejects with a CommandError (code from the server, or 'timeout' / 'disconnected').
  command(type, fields = {}, timeoutMs = COMMAND_TIMEOUT_MS) {
    if (!this.ws || !this.isOpen()) {
      return Promise.reject(new CommandError({ code: 'disconnected', message: t('err.disconnected') }));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new CommandError({ code: 'timeout', message: t('err.timeout') }));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ type, id, ...fields }));
    });
  }

  sendBinary(data) {
    if (this.ws && this.isOpen() && this.ws.bufferedAmount < 64 * 1024) this.ws.send(data);
  }

  // ---- connection lifecycle

  connect() {
    const ws = new WebSocket(this.url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.welcomed = false;
    this.synced = false;
    this.setState('connecting');
    ws.onopen = () => ws.send(JSON.stringify(this.hello()));
    ws.onmessage = (ev) => this.ws === ws && this.receive(ev.data);
    ws.onclose = (ev) => this.closed(ws, ev.code, ev.reason);
  }

  hello() {
    const msg = { type: 'hello', v: 1, console: this.kind, display: this.display };
    if (this.epoch !== null && this.seq !== null) msg.resume = { epoch: this.epoch, seq: this.seq };
    return msg;
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  // Drops the socket now (no waiting for a close handshake) and reconnects with resume.
  reconnectNow(reason) {
    const ws = this.ws;
    if (!ws) return;
    ws.onclose = null;
    ws.onmessage = null;
    ws.close(4000, reason);
    this.closed(ws, 4000, reason, 0);
  }

  closed(ws, code, reason, delayMs) {
    if (ws !== this.ws) return;
    this.ws = null;
    for (const { reject, timer } of this.pending.values()) {
      clearTimeout(timer);
      reject(new CommandError({ code: 'disconnected', message: t('err.disconnected') }));
    }
    this.pending.clear();
    this.setState('closed');
    this.emit('close', { code, reason, welcomed: this.welcomed });
    if (this.stopped) return;
    if (!this.welcomed) this.checkSession();
    const delay = delayMs ?? this.backoffMs;
    if (delayMs === undefined) this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  // A refused upgrade looks like any other close; a 401 from /v1/me tells them apart.
  checkSession() {
    api('GET', '/v1/me').catch((e) => {
      if (e.status === 401) {
        this.stopped = true;
        location.replace('index.html');
      }
    });
  }

  ping() {
    if (!this.isOpen()) return;
    this.command('ping', {}, 10000).catch((e) => {
      if (e.code === 'timeout') this.reconnectNow('no pong');
    });
  }

  // ---- incoming messages

  receive(data) {
    if (data instanceof ArrayBuffer) return this.emit('binary', data);
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return console.warn('ignoring a message that is not JSON');
    }
    switch (msg.type) {
      case 'welcome': return this.onWelcome(msg);
      case 'snapshot': return this.onSnapshot(msg);
      case 'resumed': return this.onResumed(msg);
      case 'delta': return this.onDelta(msg);
      case 'result':
      case 'pong': return this.onResult(msg);
      case 'error': return this.onError(msg);
      default: return this.emit(msg.type, msg);
    }
  }

  onWelcome(msg) {
    this.welcomed = true;
    this.backoffMs = BACKOFF_FIRST_MS;
    if (typeof msg.server_ms === 'number') this.clockOffset = msg.server_ms - Date.now();
    if (msg.epoch !== undefined && msg.epoch !== this.epoch) {
      // The server restarted: nothing we hold is valid any more; a snapshot follows.
      // (Without an epoch in the welcome, the snapshot or resumed that follows decides.)
      this.clearState();
      this.epoch = msg.epoch ?? null;
    }
    this.user = msg.user || this.user;
    this.site = msg.site;
    this.setState('open');
    this.emit('welcome', msg);
  }

  clearState() {
    for (const { map } of Object.values(KINDS)) this[map].clear();
    this.seq = null;
    this.emit('change', { kind: '*' });
  }

  onSnapshot(msg) {
    for (const { key, map } of Object.values(KINDS)) {
      this[map].clear();
      for (const item of msg[map] || []) this[map].set(String(item[key]), item);
    }
    this.epoch = msg.epoch ?? this.epoch;
    this.seq = msg.seq;
    this.synced = true;
    this.emit('snapshot', msg);
    this.emit('change', { kind: '*' });
  }

  onResumed(msg) {
    if (msg.epoch !== this.epoch || msg.from !== this.seq + 1) {
      // Not the continuation we asked for: start clean rather than guess.
      console.warn('resume mismatch', msg, this.epoch, this.seq);
      this.clearState();
      this.epoch = null;
      return this.reconnectNow('resume mismatch');
    }
    this.synced = true;
    this.emit('resumed', msg);
  }

  onDelta(msg) {
    if (!this.synced || this.seq === null) return;
    if (msg.seq <= this.seq) return; // already applied (a replay overlapping what we had)
    if (msg.seq !== this.seq + 1) return this.reconnectNow(`gap after ${this.seq}`);
    const kind = KINDS[msg.kind];
    if (kind) {
      const key = String(msg.data[kind.key]);
      if (msg.op === 'remove') this[kind.map].delete(key);
      else this[kind.map].set(key, msg.data);
    }
    this.seq = msg.seq;
    this.emit('delta', msg);
    this.emit('change', msg);
  }

  onResult(msg) {
    const entry = this.pending.get(msg.id);
    if (!entry) return;
    this.pending.delete(msg.id);
    clearTimeout(entry.timer);
    if (msg.type === 'pong' || msg.ok) entry.resolve(msg);
    else entry.reject(new CommandError(msg.error));
  }

  onError(msg) {
    if (!this.welcomed) {
      // The hello itself was refused (wrong role, not on the roster…): retrying soon won't help.
      this.backoffMs = BACKOFF_MAX_MS;
      this.emit('refused', msg);
    }
    this.emit('error', msg);
  }
}
