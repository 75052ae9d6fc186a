// Callbacks (N-17) on the agent desktop: the open callback requests the IVR took (N-01,
// N-18), console commands "callbacks" (the list) and "callback" (dial one). The server
// rings the agent's phone first and dials the citizen when the agent answers; the call
// then reaches the desk like any call (screen pop). This panel follows one attempt at a
// time until its outcome is in the request (attempts, last_result).

import { el, formatAgo, formatTime, label, queueLabel, setText, syncList, t, toast } from './common.js';

const AUTO_REFRESH_MS = 30000;
const POLL_MS = 4000; // while an attempt is under way: its outcome lands in the request
const AFTER_CALL_MS = 5000; // the outcome is written a few seconds after the call ends
const GIVE_UP_MS = 180000;
const LIST_LIMIT = 50; // the server sends at most this many
// The states a callback may start from: not ready and wrap-up as they are; ready and
// logged in (neither yet) are set not ready first, so that the ACD offers no call meanwhile.
const CALLABLE = new Set(['not_ready', 'wrap_up', 'ready', 'logged_in']);
const SET_NOT_READY_FIRST = new Set(['ready', 'logged_in']);

// A call the platform dialled out (a callback): the wallboard's call object says so, and
// its "dialling" state (ringing the citizen) exists for nothing else. On a desk console an
// outbound call's dialled number is the citizen's, the same as from.
export function isCallback(call) {
  if (!call) return false;
  return call.direction === 'outbound' || call.state === 'dialling' || (!!call.dialled && call.dialled === call.from);
}

function itemNode() {
  const f = (name, cls) => el('span', { class: cls, dataset: { field: name } });
  const button = el('button', { type: 'button', class: 'small', dataset: { action: 'call-back' } });
  return el('li', { class: 'cb-item' },
    el('div', { class: 'cb-head' }, f('number', 'cb-number'), f('queue', 'pill')),
    el('div', { class: 'cb-meta muted' }, f('requested', ''), ' · ', f('attempts', ''), f('last', 'cb-last')),
    button);
}

export class CallbacksPanel {
  // env: {command(type, fields) → Promise, isOpen(), agentState(), now() (server clock),
  //       onOver(call, result): an attempt ended (call: its id if the desk saw it, or null)}.
  constructor(root, env) {
    this.root = root;
    this.list = root.querySelector('#callbacks-list');
    this.status = root.querySelector('#callbacks-status');
    this.count = root.querySelector('#callbacks-count');
    this.env = env;
    this.items = null; // the last list, or null before the first
    this.listMsg = null; // {status, key, params}: loading, empty, failed
    this.attemptMsg = null; // the attempt under way or the last one's outcome/refusal
    this.pending = null; // {request, number, attempts, call, phase, startedAt}
    this.working = false; // commands of an attempt in flight
    this.loading = null;
    root.querySelector('#callbacks-refresh').addEventListener('click', () => {
      if (!this.pending && !this.working) this.attemptMsg = null;
      this.refresh();
    });
    this.list.addEventListener('click', (e) => {
      const button = e.target.closest('[data-action="call-back"]');
      const item = button && button.closest('[data-callback]');
      if (item && !button.disabled) this.callBack(item.dataset.callback);
    });
    setInterval(() => this.refresh(), AUTO_REFRESH_MS);
  }

  // ---- the list

  refresh() {
    if (!this.env.isOpen()) return Promise.resolve();
    if (this.loading) return this.loading;
    if (this.items === null) this.listMsg = { status: 'loading', key: 'loading' };
    this.render();
    this.loading = this.env.command('callbacks')
      .then((msg) => {
        this.items = Array.isArray(msg.items) ? msg.items : [];
        this.listMsg = this.items.length ? null : { status: 'empty', key: 'cb.none' };
        this.checkPending();
      }, (e) => {
        this.listMsg = { status: 'failed', key: 'cb.failed', params: { error: e.message } };
      })
      .finally(() => {
        this.loading = null;
        this.render();
      });
    return this.loading;
  }

  // Now, and once more when the outcome of the call that just ended has been written.
  refreshAfterCall() {
    this.refresh();
    clearTimeout(this.afterCallTimer);
    this.afterCallTimer = setTimeout(() => this.refresh(), AFTER_CALL_MS);
  }

  render() {
    const items = this.items || [];
    const now = this.env.now();
    syncList(this.list, items, (it) => it.request, itemNode, (node, it) => this.renderItem(node, it, now));
    setText(this.count, this.items && items.length ? String(items.length) : '');
    const msg = this.attemptMsg || this.listMsg;
    this.status.dataset.status = msg ? msg.status : '';
    // An outcome is kept as the server's word and translated here, so that it follows the language.
    const params = msg && msg.params && msg.params.result ? { ...msg.params, result: label('cbr', msg.params.result) } : msg && msg.params;
    setText(this.status, msg ? t(msg.key, params) : '');
    this.renderButtons();
  }

  renderItem(node, it, now) {
    node.dataset.callback = String(it.request);
    node.classList.toggle('calling', !!this.pending && this.pending.request === String(it.request));
    const field = (name) => node.querySelector(`[data-field="${name}"]`);
    setText(field('number'), it.number || '');
    setText(field('queue'), queueLabel(it.queue));
    field('queue').hidden = !it.queue;
    const requested = field('requested');
    setText(requested, formatAgo(it.requested_ms, now));
    requested.title = formatTime(it.requested_ms);
    setText(field('attempts'), it.attempts ? t('cb.attempts', { n: it.attempts }) : t('cb.never'));
    const last = field('last');
    last.dataset.result = it.last_result || '';
    setText(last, it.last_result ? ` · ${label('cbr', it.last_result)}` : '');
    last.title = it.last_ms ? t('cb.last_by', { time: formatTime(it.last_ms), agent: it.last_agent || '' }) : '';
  }

  // Enabled when this desk may start a callback; the title says why not.
  renderButtons() {
    const state = this.env.agentState();
    let why = '';
    if (!this.env.isOpen()) why = 'err.disconnected';
    else if (this.pending || this.working) why = 'cb.busy';
    else if (!CALLABLE.has(state)) why = state === 'ringing' || state === 'talking' ? 'cb.on_call' : 'cb.needs_login';
    for (const node of this.list.children) {
      const button = node.querySelector('[data-action="call-back"]');
      const mine = !!this.pending && this.pending.request === node.dataset.callback;
      button.disabled = !!why;
      button.title = why ? t(why) : '';
      setText(button, t(mine ? 'cb.calling' : 'cb.call_back'));
    }
  }

  // ---- one attempt

  async callBack(request) {
    const item = (this.items || []).find((it) => String(it.request) === request);
    if (!item || this.pending || this.working) return;
    const number = item.number || '';
    this.working = true;
    try {
      if (SET_NOT_READY_FIRST.has(this.env.agentState())) {
        this.say('working', 'cb.setting_not_ready');
        await this.env.command('state', { state: 'not_ready', reason: 'other' });
      }
      this.say('working', 'cb.starting');
      // Pending before the answer: the agent's phone may ring (a screen pop) before it comes.
      this.pending = { request, number, attempts: item.attempts || 0, call: null, phase: 'ringing_you', startedAt: Date.now() };
      await this.env.command('callback', { request });
      if (this.pending && this.pending.request === request && this.pending.phase === 'ringing_you') {
        this.say('working', 'cb.ringing_you', { number });
      }
      this.poll();
    } catch (e) {
      this.pending = null;
      this.say('error', 'cb.refused', { error: e.message });
    } finally {
      this.working = false;
      this.render();
    }
  }

  say(status, key, params) {
    this.attemptMsg = { status, key, params };
    this.render();
  }

  // The outcome is in the request once written; until then look every few seconds.
  poll() {
    clearTimeout(this.pollTimer);
    if (!this.pending) return;
    if (Date.now() - this.pending.startedAt > GIVE_UP_MS) return this.over(null, 'unknown');
    this.pollTimer = setTimeout(() => {
      if (this.pending && this.pending.phase !== 'connected') this.refresh();
      this.poll();
    }, POLL_MS);
  }

  // Whether the list shows the pending attempt finished: a request answered leaves the list
  // (status done); otherwise its attempts count goes up.
  checkPending() {
    const p = this.pending;
    if (!p) return;
    const item = this.items.find((it) => String(it.request) === p.request);
    if (!item) {
      if (this.items.length < LIST_LIMIT) this.over(p.call, 'done');
      return;
    }
    const mine = p.call && item.last_call ? String(item.last_call) === p.call : true;
    if ((item.attempts || 0) > p.attempts && mine && p.phase !== 'connected') this.over(p.call, item.last_result || 'unknown');
  }

  over(call, result) {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    clearTimeout(this.pollTimer);
    if (result === 'done') this.say('done', 'cb.finished', { number: p.number });
    else if (result === 'unknown') this.say('error', 'cb.unknown', { number: p.number });
    else {
      this.say('error', 'cb.not_connected', { number: p.number, result });
      toast(t('cb.not_connected', { number: p.number, result: label('cbr', result) }), 'error');
    }
    this.env.onOver(call ?? p.call, result);
  }

  // ---- what the desk sees of the attempt (agent.js)

  // A screen pop: true when it is the pending callback's call (the agent's phone ringing,
  // or the citizen connected).
  onScreenPop(call) {
    const p = this.pending;
    if (!p) return false;
    const id = String(call.call);
    if (!p.call && (call.from === p.number || call.dialled === p.number)) p.call = id;
    if (p.call !== id) return false;
    if (call.state === 'connected') {
      p.phase = 'connected';
      this.say('connected', 'cb.connected', { number: p.number });
    }
    return true;
  }

  // The call left the desk. While the agent's phone rang, that is the agent answering (the
  // server dials the citizen; the call comes back when they answer) or not answering: the
  // request's outcome tells which. Returns true when the desk should wait (dialling).
  onCallEnded(callId) {
    const p = this.pending;
    if (!p || p.call !== String(callId)) return false;
    if (p.phase === 'connected') {
      this.over(p.call, 'done');
      return false;
    }
    p.phase = 'dialling';
    this.say('working', 'cb.dialling', { number: p.number });
    this.refresh();
    return true;
  }

  isPendingCall(callId) {
    return !!this.pending && this.pending.call === String(callId);
  }
}
