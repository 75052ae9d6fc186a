// The supervisor's record of finished calls (GET /v1/calls): who called, the queue, the
// agent, the outcome, the wait and the talk, the survey; a recording plays in the page
// (GET /v1/calls/{id}/recording, N-42; every play is audited). Filters by number and agent.

import { api, el, formatDuration, formatTime, label, queueLabel, setText, t } from './common.js';

const PAGE = 20;

function talkMs(rec) {
  if (!rec.agent_answered_ms || !rec.ended_ms) return null;
  return rec.ended_ms - rec.agent_answered_ms;
}

function recordRow(rec, play) {
  const canPlay = rec.has_recording && !rec.recording_pending;
  const playButton = el('button', { type: 'button', class: 'small secondary', dataset: { action: 'play' } },
    rec.recording_pending ? t('rec.encoding') : t('rec.play'));
  playButton.disabled = !canPlay;
  playButton.addEventListener('click', () => play(rec, playButton));
  return el('tr', { dataset: { record: rec.id } },
    el('td', { dataset: { field: 'started' } }, formatTime(rec.started_ms)),
    el('td', { dataset: { field: 'from' } }, rec.from || ''),
    el('td', { dataset: { field: 'queue' } }, queueLabel(rec.queue)),
    el('td', { dataset: { field: 'agent' } }, rec.agent || ''),
    el('td', { dataset: { field: 'outcome', outcome: rec.outcome || '' } }, label('outcome', rec.outcome)),
    el('td', { dataset: { field: 'wait' } }, formatDuration(rec.wait_ms)),
    el('td', { dataset: { field: 'talk' } }, formatDuration(talkMs(rec))),
    el('td', { dataset: { field: 'survey' } }, rec.survey ? label('survey', String(rec.survey)) : ''),
    el('td', { class: 'actions' }, canPlay || rec.recording_pending ? playButton : ''));
}

export class CallRecords {
  // { form, number, agent, rows, more, status, player } elements of the page.
  constructor(elements) {
    Object.assign(this, elements);
    this.cursor = null;
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.load();
    });
    this.more.addEventListener('click', () => this.load(true));
  }

  query(append) {
    const params = new URLSearchParams({ limit: String(PAGE) });
    const number = this.number.value.trim();
    const agent = this.agent.value.trim();
    if (number) params.set('number', number);
    if (agent) params.set('agent', agent);
    if (append && this.cursor) params.set('cursor', this.cursor);
    return params;
  }

  // The newest records (again), or the next page.
  async load(append = false) {
    setText(this.status, t('loading'));
    try {
      const body = await api('GET', `/v1/calls?${this.query(append)}`);
      const rows = (body.items || []).map((rec) => recordRow(rec, (r, button) => this.play(r, button)));
      if (append) this.rows.append(...rows);
      else this.rows.replaceChildren(...rows);
      this.cursor = body.next_cursor || null;
      this.more.hidden = !this.cursor;
      setText(this.status, this.rows.children.length ? '' : t('rec.none'));
    } catch (e) {
      setText(this.status, e.message);
    }
  }

  play(rec, button) {
    for (const b of this.rows.querySelectorAll('button[data-playing]')) delete b.dataset.playing;
    button.dataset.playing = '';
    this.player.hidden = false;
    this.player.dataset.record = rec.id;
    this.player.src = `/v1/calls/${encodeURIComponent(rec.id)}/recording`;
    this.player.play().catch(() => {}); // autoplay may be refused: the controls are there
  }
}
