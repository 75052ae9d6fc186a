// Rendering of the supervisor's live state (N-02, N-32, N-50): queue tiles, alarms, agent
// cards and live calls, from the Console's Maps. Elements are keyed and updated in place.
// Anything that ticks carries data-since (server ms); common.js tickDurations() refreshes it.

import { isCallback } from './callbacks.js';
import { el, formatDuration, formatPercent, label, queueLabel, setText, syncList, t } from './common.js';

const AGENT_STATE_ORDER = ['talking', 'ringing', 'wrap_up', 'ready', 'not_ready', 'logged_in', 'logged_out'];
const MONITORABLE_CALL_STATES = new Set(['connected', 'transferring']);
export const MONITOR_MODES = ['listen', 'whisper', 'barge', 'takeover'];
export const NOT_READY_REASONS = ['break', 'training', 'meeting', 'after_call', 'other'];

function setSince(node, sinceMs, nowMs) {
  if (sinceMs === null || sinceMs === undefined) {
    delete node.dataset.since;
    setText(node, t('dur.none'));
    return;
  }
  node.dataset.since = String(sinceMs);
  setText(node, formatDuration(nowMs - sinceMs));
}

function field(name, props = {}, ...children) {
  return el('span', { ...props, dataset: { field: name, ...(props.dataset || {}) } }, ...children);
}

function fieldOf(node, name) {
  return node.querySelector(`[data-field="${name}"]`);
}

// ---------------------------------------------------------------- queues

const QUEUE_AGENT_COUNTS = ['ready', 'talking', 'ringing', 'wrap_up', 'not_ready'];

function createQueueTile(queue) {
  const stat = (name, key) => el('div', { class: 'stat' }, field(name, { class: 'stat-value' }), el('span', { class: 'stat-label', dataset: { i18n: key } }, t(key)));
  const counts = QUEUE_AGENT_COUNTS.map((state) =>
    el('span', { class: `count state-${state}`, title: label('state', state) }, field(state)),
  );
  return el(
    'article',
    { class: 'tile', dataset: { queue: queue.queue } },
    el('header', { class: 'tile-head' }, field('name', { class: 'tile-name' }), field('open', { class: 'pill' })),
    el('div', { class: 'tile-main' },
      el('div', { class: 'waiting' }, field('waiting', { class: 'big' }), el('span', { class: 'stat-label', dataset: { i18n: 'q.waiting' } }, t('q.waiting'))),
      stat('longest', 'q.longest')),
    el('div', { class: 'tile-stats' }, stat('service_level', 'q.sl'), stat('answer_rate', 'q.answer_rate'), stat('abandon_rate', 'q.abandon_rate')),
    el('div', { class: 'tile-agents' }, ...counts, el('span', { class: 'staffed', title: t('q.staffed') }, field('staffed'))),
  );
}

function updateQueueTile(node, queue, ctx) {
  setText(fieldOf(node, 'name'), queueLabel(queue.queue));
  const open = fieldOf(node, 'open');
  open.dataset.open = String(!!queue.open);
  setText(open, t(queue.open ? 'q.open' : 'q.closed'));
  setText(fieldOf(node, 'waiting'), queue.waiting ?? 0);
  // The longest wait keeps growing between deltas while someone is waiting.
  const longest = fieldOf(node, 'longest');
  if (queue.waiting > 0 && queue.at_ms) setSince(longest, queue.at_ms - (queue.longest_wait_ms || 0), ctx.now);
  else setSince(longest, null, ctx.now);
  setText(fieldOf(node, 'service_level'), formatPercent(queue.service_level));
  setText(fieldOf(node, 'answer_rate'), formatPercent(queue.answer_rate));
  setText(fieldOf(node, 'abandon_rate'), formatPercent(queue.abandon_rate));
  for (const state of QUEUE_AGENT_COUNTS) setText(fieldOf(node, state), queue[state] ?? 0);
  setText(fieldOf(node, 'staffed'), `${queue.working_agents ?? 0}/${queue.minimum ?? 0}`);
  node.classList.toggle('closed', !queue.open);
  node.classList.toggle('below-minimum', (queue.working_agents ?? 0) < (queue.minimum ?? 0));
  node.classList.toggle('alarmed', ctx.alarmedQueues.has(queue.queue));
}

export function renderQueues(container, con, ctx) {
  const queues = [...con.queues.values()].sort((a, b) => String(a.queue).localeCompare(String(b.queue)));
  syncList(container, queues, (q) => q.queue, createQueueTile, (node, q) => updateQueueTile(node, q, ctx));
}

// ---------------------------------------------------------------- alarms

function alarmText(alarm, con) {
  const parts = [label('alarm', alarm.alarm)];
  if (alarm.queue) parts.push(queueLabel(alarm.queue));
  if (alarm.agent) parts.push(`${t('col.agent')} ${alarm.agent}`);
  if (alarm.call !== undefined && alarm.call !== null) {
    const call = con.calls.get(String(alarm.call));
    parts.push(call ? call.from : `#${alarm.call}`);
  }
  return parts.join(' · ');
}

function createAlarm(alarm) {
  return el('div', { class: 'alarm', role: 'alert', dataset: { alarm: alarm.id } },
    field('what', { class: 'alarm-what' }), field('detail', { class: 'alarm-detail' }), field('since', { class: 'alarm-since' }));
}

export function renderAlarms(container, con, ctx) {
  const alarms = [...con.alarms.values()].sort((a, b) => (a.raised_ms || 0) - (b.raised_ms || 0));
  syncList(container, alarms, (a) => a.id, createAlarm, (node, alarm) => {
    node.dataset.kind = alarm.alarm;
    setText(fieldOf(node, 'what'), alarmText(alarm, con));
    setText(fieldOf(node, 'detail'), alarm.detail || '');
    setSince(fieldOf(node, 'since'), alarm.raised_ms, ctx.now);
  });
  container.classList.toggle('empty', alarms.length === 0);
}

// ---------------------------------------------------------------- agents

function createAgentCard(agent) {
  const action = (name, key) => el('button', { type: 'button', class: 'small secondary', dataset: { action: name } }, t(key));
  return el('article', { class: 'card', dataset: { agent: agent.agent } },
    el('header', { class: 'card-head' }, field('work_id', { class: 'work-id' }), field('name', { class: 'agent-name' })),
    el('div', { class: 'card-state' },
      el('span', { class: 'state-badge' }, field('state', { class: 'raw', 'aria-hidden': 'true' }), field('state_label')),
      field('time', { class: 'state-time' })),
    el('div', { class: 'card-detail' }, field('reason', { class: 'reason' }), field('phone', { class: 'phone' })),
    el('div', { class: 'card-call' }, field('call'), field('call_time', { class: 'call-time' })),
    el('div', { class: 'actions' }, action('force-not-ready', 'act.force_not_ready'), action('force-logout', 'act.force_logout'), action('message', 'act.message')),
  );
}

function agentCall(agent, con) {
  if (agent.call === null || agent.call === undefined || agent.call === '') return { text: '', since: null };
  const call = con.calls.get(String(agent.call));
  if (!call) return { text: `${t('agent.call')} #${agent.call}`, since: null };
  const text = call.from || `#${call.call}`;
  return { text: isCallback(call) ? `${t('cb.badge')} ${text}` : text, since: call.started_ms };
}

function updateAgentCard(node, agent, con, ctx) {
  node.className = `card state-${agent.state}`;
  setText(fieldOf(node, 'work_id'), agent.agent);
  setText(fieldOf(node, 'name'), agent.name);
  const state = fieldOf(node, 'state');
  state.dataset.state = agent.state;
  setText(state, agent.state);
  setText(fieldOf(node, 'state_label'), label('state', agent.state));
  setSince(fieldOf(node, 'time'), agent.since_ms, ctx.now);
  setText(fieldOf(node, 'reason'), agent.state === 'not_ready' ? label('reason', agent.reason) : '');
  const phone = fieldOf(node, 'phone');
  phone.dataset.online = String(!!agent.phone_online);
  setText(phone, `${agent.phone || ''} ${t(agent.phone_online ? 'agent.phone_on' : 'agent.phone_off')}`.trim());
  const call = agentCall(agent, con);
  setText(fieldOf(node, 'call'), call.text);
  const callTime = fieldOf(node, 'call_time');
  if (call.since) setSince(callTime, call.since, ctx.now);
  else {
    delete callTime.dataset.since;
    setText(callTime, '');
  }
  const loggedOut = agent.state === 'logged_out';
  for (const button of node.querySelectorAll('[data-action]')) button.disabled = loggedOut;
  node.querySelector('[data-action="force-not-ready"]').disabled = loggedOut || agent.state === 'not_ready';
}

function agentOrder(a, b) {
  const out = (x) => (x.state === 'logged_out' ? 1 : 0);
  return out(a) - out(b) || String(a.agent).localeCompare(String(b.agent), undefined, { numeric: true });
}

export function renderAgents(container, con, ctx) {
  const agents = [...con.agents.values()].sort(agentOrder);
  syncList(container, agents, (a) => a.agent, createAgentCard, (node, a) => updateAgentCard(node, a, con, ctx));
}

export function agentStateCounts(con) {
  const counts = Object.fromEntries(AGENT_STATE_ORDER.map((s) => [s, 0]));
  for (const agent of con.agents.values()) counts[agent.state] = (counts[agent.state] || 0) + 1;
  return counts;
}

// ---------------------------------------------------------------- calls

function createCallRow(call) {
  const cell = (name) => el('td', { dataset: { field: name } });
  const buttons = MONITOR_MODES.map((mode) =>
    el('button', { type: 'button', class: `small mode-${mode}`, dataset: { action: mode } }, t(`act.${mode}`)),
  );
  return el('tr', { dataset: { call: call.call } },
    el('td', {}, field('from'), field('callback', { class: 'call-badge', hidden: true })), cell('queue'),
    el('td', {}, field('state', { class: 'call-state' }), field('monitor', { class: 'call-monitor' })),
    cell('agent'), cell('duration'), el('td', { class: 'actions' }, ...buttons));
}

function monitorText(monitor) {
  if (!monitor) return '';
  const via = monitor.via === 'phone' ? ` (${t('mon.via_phone')})` : '';
  return t('mon.by', { by: monitor.by, mode: t(`act.${monitor.mode}`) }) + via;
}

function updateCallRow(node, call, con, ctx) {
  node.classList.toggle('dangerous', !!call.dangerous);
  node.classList.toggle('mine', ctx.monitoring === String(call.call));
  // N-17: a callback the platform dialled out, told apart from calls coming in.
  const outbound = isCallback(call);
  node.classList.toggle('outbound', outbound);
  node.dataset.direction = outbound ? 'outbound' : 'inbound';
  setText(fieldOf(node, 'from'), call.from);
  const badge = fieldOf(node, 'callback');
  badge.hidden = !outbound;
  setText(badge, t('cb.badge'));
  // The IVR topic is usually the queue; it is shown only when it differs.
  const topic = call.topic && call.topic !== call.queue ? ` · ${label('topic', call.topic)}` : '';
  setText(fieldOf(node, 'queue'), queueLabel(call.queue) + topic);
  const state = fieldOf(node, 'state');
  state.dataset.state = call.state;
  setText(state, label('call', call.state));
  const agent = call.agent ? con.agents.get(String(call.agent)) : null;
  setText(fieldOf(node, 'agent'), agent ? `${agent.agent} ${agent.name || ''}`.trim() : call.agent || '');
  setSince(fieldOf(node, 'duration'), call.started_ms, ctx.now);
  setText(fieldOf(node, 'monitor'), monitorText(call.monitor));
  const monitorable = MONITORABLE_CALL_STATES.has(call.state);
  for (const button of node.querySelectorAll('[data-action]')) {
    button.disabled = !monitorable;
    button.setAttribute('aria-pressed', String(ctx.monitoring === String(call.call) && ctx.monitorMode === button.dataset.action));
  }
}

export function renderCalls(tbody, con, ctx) {
  const calls = [...con.calls.values()].sort((a, b) => (a.started_ms || 0) - (b.started_ms || 0));
  syncList(tbody, calls, (c) => c.call, createCallRow, (node, c) => updateCallRow(node, c, con, ctx));
  return calls.length;
}
