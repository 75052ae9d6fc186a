// The supervisor console and wallboard (N-02, N-32, N-40, N-50): wires the /ws Console to
// the renderers in wallboard.js, the agent actions and the monitor panel.
// ?display=wallboard asks the server for a wall screen (numbers masked) and hides actions.

import {
  Console, applyI18n, askDialog, bindLangButton, el, everySecond, homeFor, label, onLangChange, requireUser,
  setText, signOut, t, tickDurations, toast,
} from './common.js';
import { audioContext, audioUnlocked, beep, unlockOnFirstInteraction } from './audio.js';
import { Monitor } from './monitor.js';
import { CallRecords } from './records.js';
import {
  NOT_READY_REASONS, agentStateCounts, renderAgents, renderAlarms, renderCalls, renderQueues,
} from './wallboard.js';

const SOUND_KEY = 'hotline.sound';
const display = new URLSearchParams(location.search).get('display') === 'wallboard' ? 'wallboard' : 'desk';
const $ = (id) => document.getElementById(id);

let con = null;
let monitor = null;
let knownAlarms = null; // alarm ids already seen; null until the first state arrives
let renderQueued = false;
let records = null; // the desk's call records panel
let liveCalls = new Set(); // the calls of the last render: one that leaves is reloaded
let recordsReload = null;

// ---------------------------------------------------------------- rendering

function renderContext() {
  const alarmedQueues = new Set([...con.alarms.values()].map((a) => a.queue).filter(Boolean));
  return {
    now: con.now(),
    alarmedQueues,
    monitoring: monitor ? monitor.monitoringCall() : null,
    monitorMode: monitor && monitor.active ? monitor.active.mode : null,
  };
}

function renderAgentCounts() {
  const counts = agentStateCounts(con);
  const box = $('agent-counts');
  box.replaceChildren(
    ...Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([state, n]) => el('span', { class: `count state-${state}`, title: label('state', state) }, `${label('state', state)} ${n}`)),
  );
}

function render() {
  renderQueued = false;
  const ctx = renderContext();
  renderAlarms($('alarms'), con, ctx);
  renderQueues($('queues'), con, ctx);
  renderAgents($('agents'), con, ctx);
  const calls = renderCalls($('calls'), con, ctx);
  $('no-calls').hidden = calls > 0;
  $('no-agents').hidden = con.agents.size > 0 || !con.synced;
  renderAgentCounts();
  chimeForNewAlarms();
  reloadRecordsWhenCallsEnd();
}

// A call that left the floor has its record written within a few seconds (the media's
// figures, the recording's report): the records panel shows it then.
function reloadRecordsWhenCallsEnd() {
  const now = new Set(con.calls.keys());
  const ended = [...liveCalls].some((id) => !now.has(id));
  liveCalls = now;
  if (!ended || !records) return;
  clearTimeout(recordsReload);
  recordsReload = setTimeout(() => records.load(), 4000);
}

// Many deltas can arrive in one burst; draw once per frame.
function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(render);
}

// A language switch rebuilds every keyed element with the new labels.
function rebuild() {
  for (const id of ['alarms', 'queues', 'agents', 'calls']) $(id).replaceChildren();
  render();
  showConnection(con.state);
  showSoundButton();
  if (monitor) monitor.render();
  if (records) records.load();
}

// ---------------------------------------------------------------- alarms sound

function soundOn() {
  try {
    return localStorage.getItem(SOUND_KEY) !== 'off';
  } catch {
    return true;
  }
}

// 'enable' while the browser still blocks audio (no click on the page yet), else on/off.
function showSoundButton() {
  const mode = !soundOn() ? 'off' : audioUnlocked() ? 'on' : 'enable';
  const button = $('sound');
  button.dataset.mode = mode;
  setText(button, t(`sup.sound_${mode}`));
  button.setAttribute('aria-pressed', String(mode === 'on'));
}

function toggleSound() {
  if ($('sound').dataset.mode === 'enable') {
    audioContext();
    setTimeout(showSoundButton, 200); // resume() settles asynchronously
    return;
  }
  try {
    localStorage.setItem(SOUND_KEY, soundOn() ? 'off' : 'on');
  } catch {
    // kept for this page only
  }
  showSoundButton();
}

function chimeForNewAlarms() {
  if (!con.synced) return;
  const ids = new Set(con.alarms.keys());
  const fresh = knownAlarms !== null && [...ids].some((id) => !knownAlarms.has(id));
  knownAlarms = ids;
  if (fresh && soundOn()) beep();
}

// ---------------------------------------------------------------- agent actions

function reasonSelect() {
  return el('select', { name: 'reason', required: true },
    ...NOT_READY_REASONS.map((r) => el('option', { value: r }, label('reason', r))));
}

async function run(type, fields) {
  try {
    await con.command(type, fields);
    return true;
  } catch (e) {
    toast(t('err.command', { error: e.message }), 'error');
    return false;
  }
}

async function agentAction(action, agentId) {
  if (action === 'force-not-ready') {
    const form = await askDialog(t('dlg.force_not_ready', { agent: agentId }), [el('label', {}, t('dlg.reason'), reasonSelect())]);
    if (form) await run('agent_state', { agent: agentId, state: 'not_ready', reason: form.reason });
  } else if (action === 'force-logout') {
    const form = await askDialog(t('dlg.force_logout', { agent: agentId }), [], t('act.force_logout'));
    if (form) await run('agent_state', { agent: agentId, state: 'logout' });
  } else if (action === 'message') {
    const text = el('textarea', { name: 'text', rows: 3, maxlength: 500, required: true });
    const form = await askDialog(t('dlg.message', { agent: agentId }), [text], t('act.send'));
    if (form && form.text.trim()) await run('agent_message', { agent: agentId, text: form.text.trim() });
  }
}

function onAgentsClick(event) {
  const button = event.target.closest('button[data-action]');
  const card = event.target.closest('[data-agent]');
  if (button && card && display === 'desk') agentAction(button.dataset.action, card.dataset.agent);
}

function onCallsClick(event) {
  const button = event.target.closest('button[data-action]');
  const row = event.target.closest('[data-call]');
  if (button && row && display === 'desk') monitor.begin(row.dataset.call, button.dataset.action);
}

// ---------------------------------------------------------------- header

function showConnection(state) {
  const conn = $('conn');
  conn.dataset.state = state === 'open' ? 'open' : 'closed';
  conn.dataset.detail = state;
  setText(conn, t(state === 'open' ? 'conn.open' : state === 'connecting' && !con.welcomed ? 'conn.connecting' : 'conn.closed'));
  conn.title = conn.textContent;
}

function showClock() {
  const d = new Date(con.now());
  const pad = (n) => String(n).padStart(2, '0');
  setText($('clock'), `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`);
}

function setUpHeader(user) {
  bindLangButton($('lang'));
  $('signout').addEventListener('click', signOut);
  $('sound').addEventListener('click', toggleSound);
  const toggle = $('wallboard-toggle');
  toggle.href = display === 'wallboard' ? 'supervisor.html' : '?display=wallboard';
  toggle.dataset.i18n = display === 'wallboard' ? 'sup.desk' : 'sup.wallboard';
  setText($('user'), `${user.display_name || user.username}${user.work_id ? ` (${user.work_id})` : ''}`);
  showSoundButton();
}

function onWelcome(msg) {
  setText($('site'), msg.site || '');
  $('refused').hidden = true;
}

function onRefused(msg) {
  const box = $('refused');
  box.textContent = t('conn.refused') + (msg.message || msg.code || '');
  box.hidden = false;
}

function onTopicEvent(msg) {
  if (msg.topic === 'system' && msg.data && msg.data.event === 'shutdown') toast(t('conn.shutdown'));
}

// ---------------------------------------------------------------- start

async function main() {
  document.body.classList.toggle('wallboard', display === 'wallboard');
  applyI18n();
  const user = await requireUser();
  if (homeFor(user) !== 'supervisor.html') return location.replace(homeFor(user) || 'index.html');
  setUpHeader(user);
  applyI18n();
  con = new Console({ console: 'supervisor', display });
  showClock();
  monitor = new Monitor(con, { panel: $('monitor'), viaPhone: $('via-phone'), myPhone: $('my-phone'), onChange: scheduleRender });
  con.on('state', showConnection);
  con.on('welcome', onWelcome);
  con.on('refused', onRefused);
  con.on('event', onTopicEvent);
  con.on('change', scheduleRender);
  $('agents').addEventListener('click', onAgentsClick);
  $('calls').addEventListener('click', onCallsClick);
  if (display === 'desk') {
    records = new CallRecords({
      form: $('records-form'), number: $('records-number'), agent: $('records-agent'), rows: $('records'),
      more: $('records-more'), status: $('records-status'), player: $('records-player'),
    });
    records.load();
  }
  onLangChange(rebuild);
  unlockOnFirstInteraction();
  tickDurations(() => con.now());
  everySecond(() => {
    showClock();
    showSoundButton();
  });
  con.start();
}

main().catch((e) => console.error(e));
