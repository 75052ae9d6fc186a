// The agent desktop beside the phone: own state (N-04), screen pop (N-07), classification,
// transfer (N-11), dangerous and harassing flags (N-14, N-15), supervisor messages, the
// callbacks (N-17, callbacks.js) and the side panel (side.js). It speaks console "agent" on /ws.

import {
  Console, applyI18n, askDialog, bindLangButton, el, formatDuration, formatTime, homeFor, label,
  onLangChange, queueLabel, requireUser, setText, signOut, t, tickDurations, toast,
} from './common.js';
import { CallbacksPanel, isCallback } from './callbacks.js';
import { KnowledgePanel, PhrasesPanel } from './side.js';

const $ = (id) => document.getElementById(id);
const REASONS = ['break', 'training', 'meeting', 'after_call', 'other'];
const CLASSIFICATIONS = ['consultation', 'complaint', 'report', 'suggestion', 'query', 'callback', 'other'];
const TOPICS = ['pension', 'medical', 'unemployment', 'work_injury', 'maternity', 'employment', 'labour_relations', 'card', 'exams', 'other'];
const TRANSFER_TARGETS = { supervisor: 'tr.supervisor', expert: 'tr.expert', queue: 'tr.queue' };

// Which state buttons each agent state allows (N-04). `logged_in` is the ACD's state
// between login and the first ready or not-ready (docs/acd.md).
const BUTTONS_FOR_STATE = {
  logged_out: ['btn-login'],
  logged_in: ['btn-ready', 'btn-not-ready', 'btn-logout'],
  not_ready: ['btn-ready', 'btn-not-ready', 'btn-logout'],
  ready: ['btn-not-ready', 'btn-logout'],
  ringing: [],
  talking: [],
  wrap_up: ['btn-wrap-up-done', 'btn-not-ready'],
};
const STATE_BUTTONS = ['btn-login', 'btn-ready', 'btn-not-ready', 'btn-wrap-up-done', 'btn-logout'];

let con = null;
let agent = null; // the latest {"type":"agent"} data
let current = null; // {call, history, ended} for the screen pop, kept through wrap-up
let phrases = null;
let callbacks = null;

// ---------------------------------------------------------------- selects

function fillSelect(select, values, prefix, placeholder) {
  const keep = select.value;
  const options = values.map((v) => el('option', { value: v }, label(prefix, v)));
  if (placeholder) options.unshift(el('option', { value: '' }, t(placeholder)));
  select.replaceChildren(...options);
  if (keep && values.includes(keep)) select.value = keep;
}

function fillSelects() {
  fillSelect($('not-ready-reason'), REASONS, 'reason');
  fillSelect($('classification'), CLASSIFICATIONS, 'cls', 'cf.choose');
  fillSelect($('topic'), TOPICS, 'topic', 'cf.choose');
  const to = $('transfer-to');
  const keep = to.value;
  to.replaceChildren(...Object.entries(TRANSFER_TARGETS).map(([v, key]) => el('option', { value: v }, t(key))));
  if (keep) to.value = keep;
}

// ---------------------------------------------------------------- own state

function renderAgent() {
  const state = agent ? agent.state : '';
  const badge = $('state');
  badge.dataset.state = state;
  badge.className = `state-badge state-${state}`;
  const reason = state === 'not_ready' && agent.reason ? ` · ${label('reason', agent.reason)}` : '';
  setText(badge, agent ? label('state', state) + reason : '—');
  const time = $('state-time');
  if (agent && agent.since_ms) time.dataset.since = String(agent.since_ms);
  else delete time.dataset.since;
  tick();
  if (agent) {
    setText($('agent-work-id'), agent.agent);
    setText($('agent-name'), agent.name || '');
    const phone = $('phone-status');
    phone.dataset.online = String(!!agent.phone_online);
    setText(phone, `${agent.phone || ''} ${t(agent.phone_online ? 'agent.phone_on' : 'agent.phone_off')}`.trim());
    $('queue-list').replaceChildren(...(agent.queues || []).map((q) => el('option', { value: q }, queueLabel(q))));
  }
  renderButtons();
}

function renderButtons() {
  const allowed = new Set(con && con.isOpen() && agent ? BUTTONS_FOR_STATE[agent.state] || [] : []);
  for (const id of STATE_BUTTONS) $(id).disabled = !allowed.has(id);
  const hasCall = !!current;
  $('classify-save').disabled = !hasCall;
  $('transfer-go').disabled = !hasCall || !!current.ended || !agent || agent.state !== 'talking';
  $('flag-dangerous').disabled = !hasCall || !!current.ended; // N-14: the call in progress only
  $('flag-harassing').disabled = !hasCall;
  if (callbacks) callbacks.renderButtons();
}

async function run(type, fields) {
  try {
    return await con.command(type, fields);
  } catch (e) {
    toast(t('err.command', { error: e.message }), 'error');
    return null;
  }
}

function bindStateButtons() {
  $('btn-login').addEventListener('click', () => run('state', { state: 'login' }));
  $('btn-ready').addEventListener('click', () => run('state', { state: 'ready' }));
  $('btn-not-ready').addEventListener('click', () => run('state', { state: 'not_ready', reason: $('not-ready-reason').value }));
  $('btn-wrap-up-done').addEventListener('click', () => run('state', { state: 'wrap_up_done' }));
  $('btn-logout').addEventListener('click', () => run('state', { state: 'logout' }));
}

function onAgent(msg) {
  agent = msg.data;
  // A call that only rang here and went to someone else (N-03) leaves the desk.
  const noCall = agent.call === null || agent.call === undefined || agent.call === '';
  if (current && !current.ended && current.call.state === 'ringing' && noCall
      && ['ready', 'not_ready', 'logged_out'].includes(agent.state) && !callbacks.isPendingCall(current.call.call)) {
    withdraw();
  } else if (current && !current.ended && current.call.state !== 'ringing' && noCall
      && !['ringing', 'talking'].includes(agent.state) && !callbacks.isPendingCall(current.call.call)) {
    // The call ended while this desk was disconnected (no call_ended reached it): the
    // agent's own record, sent again on reconnecting, says they are off it.
    current.ended = { call: current.call.call };
    renderPop();
  }
  renderAgent();
}

// ---------------------------------------------------------------- screen pop

function popField(name) {
  return $('screen-pop').querySelector(`[data-field="${name}"]`);
}

function historyRow(h) {
  return el('tr', { dataset: { historyCall: h.call } },
    el('td', {}, formatTime(h.started_ms)), el('td', {}, label('outcome', h.outcome)), el('td', {}, h.agent || ''),
    el('td', {}, label('cls', h.classification)), el('td', {}, label('topic', h.topic)), el('td', { class: 'note-cell' }, h.note || ''));
}

function callStatusText() {
  const by = current.ended && current.ended.released_by;
  if (current.ended) return by ? t('pop.ended', { by: label('pop.released', by) }) : t('pop.ended_plain');
  return label('call', current.call.state);
}

function renderPop() {
  const pop = $('screen-pop');
  pop.dataset.call = current ? String(current.call.call) : '';
  pop.classList.toggle('ended', !!(current && current.ended));
  $('pop-empty').hidden = !!current;
  $('pop-body').hidden = !current;
  if (current) {
    const call = current.call;
    setText(popField('from'), call.from);
    popField('callback').hidden = !(current.callback || isCallback(call));
    setText(popField('status'), callStatusText());
    popField('status').dataset.state = current.ended ? 'ended' : call.state;
    setText(popField('dialled'), call.dialled);
    setText(popField('queue'), queueLabel(call.queue));
    setText(popField('topic'), label('topic', call.topic));
    setText(popField('digits'), call.ivr_digits || call.ivr_path || '');
    setText(popField('wait'), formatDuration(call.wait_ms));
    const duration = popField('duration');
    if (current.ended) delete duration.dataset.since;
    else duration.dataset.since = String(call.started_ms);
    popField('history').replaceChildren(...current.history.map(historyRow));
    popField('no-history').hidden = current.history.length > 0;
  }
  renderButtons();
  tick();
}

function resetCallForms(call) {
  $('classification').value = '';
  $('topic').value = TOPICS.includes(call.topic) ? call.topic : '';
  $('note').value = '';
  setStatus('', '');
  $('transfer-target').value = '';
}

function onScreenPop(msg) {
  const same = current && String(current.call.call) === String(msg.call.call);
  if (!same) resetCallForms(msg.call);
  const callback = callbacks.onScreenPop(msg.call) || (same && current.callback);
  current = { call: msg.call, history: msg.history || (same ? current.history : []), ended: null, callback };
  renderPop();
}

function withdraw() {
  current = null;
  toast(t('pop.withdrawn'));
  renderPop();
}

// The end of a call that was only ringing here means it went elsewhere (N-03 re-offer).
// A callback's call leaves while the agent's phone rings when they answer it: the citizen is
// being dialled, and the call comes back with them (callbacks.js).
function onCallEnded(msg) {
  if (callbacks.onCallEnded(msg.call) && current && String(current.call.call) === String(msg.call)) {
    current.call = { ...current.call, state: 'dialling' };
    return renderPop();
  }
  callbacks.refreshAfterCall();
  if (!current || String(current.call.call) !== String(msg.call)) return;
  if (current.call.state === 'ringing') return withdraw();
  current.ended = msg;
  renderPop();
}

// A callback attempt is over; one that never reached the citizen leaves the desk.
function onCallbackOver(call, result) {
  if (result === 'done' || !current || call === null || String(current.call.call) !== String(call)) return;
  if (current.call.state !== 'connected' && !current.ended) {
    current = null;
    renderPop();
  }
}

// ---------------------------------------------------------------- classification, transfer, flags

function setStatus(status, text) {
  const box = $('classify-status');
  box.dataset.status = status;
  setText(box, text);
}

async function saveClassification(event) {
  event.preventDefault();
  if (!current) return;
  const form = { classification: $('classification').value, topic: $('topic').value, note: $('note').value.trim() };
  if (!form.classification || !form.topic) {
    ($('classification').value ? $('topic') : $('classification')).reportValidity();
    return;
  }
  setStatus('saving', t('cf.saving'));
  $('classify-save').disabled = true;
  try {
    await con.command('classify', { call: current.call.call, ...form });
    setStatus('saved', t('cf.saved'));
  } catch (e) {
    setStatus('failed', t('cf.failed', { error: e.message }));
  } finally {
    renderButtons();
  }
}

async function transfer(event) {
  event.preventDefault();
  const target = $('transfer-target').value.trim();
  if (!target) return $('transfer-target').reportValidity();
  if (await run('transfer', { to: $('transfer-to').value, target })) toast(t('tr.sent'));
}

async function flag(kind) {
  if (!current) return;
  if (kind === 'dangerous' && !(await askDialog(t('fl.confirm_dangerous'), [], t('fl.dangerous')))) return;
  if (await run('flag', { call: current.call.call, kind })) {
    toast(t(kind === 'dangerous' ? 'fl.done' : 'fl.harassing_done'));
  }
}

function bindCallForms() {
  $('classify').addEventListener('submit', saveClassification);
  for (const id of ['classification', 'topic', 'note']) {
    $(id).addEventListener('input', () => $('classify-status').dataset.status === 'saved' && setStatus('', ''));
  }
  $('transfer').addEventListener('submit', transfer);
  $('flag-dangerous').addEventListener('click', () => flag('dangerous'));
  $('flag-harassing').addEventListener('click', () => flag('harassing'));
}

// ---------------------------------------------------------------- supervisor messages

function onMessage(msg) {
  const item = el('div', { class: 'message', role: 'alert', dataset: { message: String(msg.at_ms || Date.now()) } },
    el('strong', {}, t('msg.from', { from: msg.from || '' })),
    el('span', { class: 'message-time muted' }, formatTime(msg.at_ms)),
    el('span', { class: 'message-text' }, msg.text || ''));
  item.append(el('button', { type: 'button', class: 'small secondary', dataset: { action: 'dismiss' }, onclick: () => item.remove() }, t('msg.dismiss')));
  $('messages').append(item);
}

// ---------------------------------------------------------------- connection and start

function tick() {
  const now = con ? con.now() : Date.now();
  for (const node of document.querySelectorAll('[data-since]')) setText(node, formatDuration(now - Number(node.dataset.since)));
  if (!$('state-time').dataset.since) setText($('state-time'), '');
}

function showConnection(state) {
  const conn = $('conn');
  conn.dataset.state = state === 'open' ? 'open' : 'closed';
  setText(conn, t(state === 'open' ? 'conn.open' : state === 'connecting' && !con.welcomed ? 'conn.connecting' : 'conn.closed'));
  renderButtons();
}

function onRefused(msg) {
  $('refused').textContent = t('conn.refused') + (msg.message || msg.code || '');
  $('refused').hidden = false;
}

function relabel() {
  fillSelects();
  showConnection(con.state);
  renderAgent();
  renderPop();
  phrases.render();
  callbacks.render();
  const status = $('classify-status').dataset.status;
  if (status === 'saved') setStatus('saved', t('cf.saved'));
}

function connect() {
  con = new Console({ console: 'agent' });
  con.on('state', showConnection);
  con.on('welcome', () => {
    $('refused').hidden = true;
    callbacks.refresh();
  });
  con.on('refused', onRefused);
  con.on('agent', onAgent);
  con.on('screen_pop', onScreenPop);
  con.on('call_ended', onCallEnded);
  con.on('message', onMessage);
  con.on('event', (msg) => msg.topic === 'system' && msg.data && msg.data.event === 'shutdown' && toast(t('conn.shutdown')));
  con.start();
}

async function main() {
  applyI18n();
  const user = await requireUser();
  // Supervisors who are agents too land on the wallboard but may open this page.
  if (!(user.roles || []).includes('agent')) return location.replace(homeFor(user) || 'index.html');
  setText($('agent-work-id'), user.work_id || '');
  setText($('agent-name'), user.display_name || user.username);
  bindLangButton($('lang'));
  $('signout').addEventListener('click', signOut);
  fillSelects();
  bindStateButtons();
  bindCallForms();
  phrases = new PhrasesPanel($('phrases'));
  if (user.work_id) phrases.setValues({ 工号: user.work_id });
  phrases.load();
  callbacks = new CallbacksPanel($('callbacks'), {
    command: (type, fields) => con.command(type, fields),
    isOpen: () => !!con && con.isOpen(),
    agentState: () => (agent ? agent.state : ''),
    now: () => (con ? con.now() : Date.now()),
    onOver: onCallbackOver,
  });
  new KnowledgePanel(
    { form: $('kb-form'), query: $('kb-query'), results: $('kb-results'), summary: $('kb-summary'), entry: $('kb-entry') },
    () => (current ? current.call.call : null),
  );
  onLangChange(relabel);
  tickDurations(() => (con ? con.now() : Date.now()));
  connect();
}

main().catch((e) => console.error(e));
