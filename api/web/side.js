// The agent desktop's side panel: standard and forbidden phrases (N-44, GET /v1/phrases) and
// the knowledge base (N-08, N-10, N-29: GET /v1/kb/search, GET /v1/kb/entries/{id},
// POST /v1/kb/usage).

import { api, el, label, regionLabel, setText, t } from './common.js';

// ---------------------------------------------------------------- phrases

function groupByWhen(standard) {
  const groups = new Map();
  for (const phrase of standard) {
    const when = phrase.when || '';
    if (!groups.has(when)) groups.set(when, []);
    groups.get(when).push(phrase.text);
  }
  return groups;
}

// The phrases say "{工号}号为您服务"; the agent's own work id goes in (N-05). Every other
// placeholder ({次数}, {相应部门}) is a blank the agent fills in while speaking: a styled
// span with the placeholder's name. Returns the pieces (strings and elements) for el().
export function fillIn(text, values) {
  const parts = [];
  const source = String(text || '');
  const pattern = /\{([^{}]+)\}/g;
  let at = 0;
  for (let m = pattern.exec(source); m; m = pattern.exec(source)) {
    const name = m[1];
    const value = values[name];
    if (m.index > at) parts.push(source.slice(at, m.index));
    if (value !== undefined && value !== null) parts.push(String(value));
    else parts.push(el('span', { class: 'blank', title: t('ph.fill', { name }), dataset: { placeholder: name } }, name));
    at = m.index + m[0].length;
  }
  if (at < source.length) parts.push(source.slice(at));
  return parts;
}

function renderPhrases(container, body, values) {
  const standard = [];
  for (const [when, texts] of groupByWhen(body.standard || [])) {
    standard.push(el('dt', {}, label('when', when)), ...texts.map((text) => el('dd', {}, fillIn(text, values))));
  }
  const forbidden = (body.forbidden || []).map((p) =>
    el('li', { class: 'forbidden' },
      el('span', { class: 'forbidden-text' }, fillIn(p.text, values)),
      p.instead ? el('span', { class: 'instead' }, t('ph.instead'), fillIn(p.instead, values)) : null));
  container.replaceChildren(
    el('details', { class: 'forbidden-block', open: true },
      el('summary', { class: 'forbidden-head' }, t('ph.forbidden')), el('ul', { class: 'forbidden-list' }, ...forbidden)),
    el('details', { open: true }, el('summary', {}, t('ph.standard')), el('dl', { class: 'standard' }, ...standard)));
}

export class PhrasesPanel {
  constructor(container) {
    this.container = container;
    this.body = null;
    this.values = {};
  }

  // Placeholders to fill, e.g. {'工号': '1001'}.
  setValues(values) {
    this.values = values;
    this.render();
  }

  async load() {
    try {
      this.body = await api('GET', '/v1/phrases');
      this.render();
    } catch (e) {
      this.container.replaceChildren(el('p', { class: 'error' }, `${t('ph.failed')}: ${e.message}`));
    }
  }

  render() {
    if (this.body) renderPhrases(this.container, this.body, this.values);
  }
}

// ---------------------------------------------------------------- knowledge base

// The server escapes the snippet and adds <mark> around matches. It goes in as HTML, but
// through an inert <template> and with every element other than <mark> reduced to its text.
export function snippetNodes(html) {
  const template = document.createElement('template');
  template.innerHTML = String(html || '');
  const out = [];
  for (const node of template.content.childNodes) {
    if (node.nodeType === Node.ELEMENT_NODE && node.tagName === 'MARK') out.push(el('mark', {}, node.textContent));
    else out.push(document.createTextNode(node.textContent));
  }
  return out;
}

function hitItem(hit) {
  const meta = [label('topic', hit.topic), regionLabel(hit.region), hit.percent !== undefined ? `${hit.percent}%` : '']
    .filter(Boolean)
    .join(' · ');
  return el('li', { class: 'kb-hit', dataset: { entry: hit.id }, tabindex: 0, role: 'button' },
    el('div', { class: 'kb-question' }, hit.question),
    el('div', { class: 'kb-snippet' }, ...snippetNodes(hit.snippet)),
    el('div', { class: 'kb-meta muted' }, meta));
}

function sourceItem(source) {
  const parts = [source.title, source.issuer, source.number, source.date].filter(Boolean);
  return el('li', {}, parts.join(' · '));
}

export class KnowledgePanel {
  // currentCall() → the call id on the agent's desk, or null.
  constructor({ form, query, results, summary, entry }, currentCall) {
    this.form = form;
    this.query = query;
    this.results = results;
    this.summary = summary;
    this.entry = entry;
    this.currentCall = currentCall;
    this.searchId = null;
    this.openId = null;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.search();
    });
    results.addEventListener('click', (e) => this.clickHit(e));
    results.addEventListener('keydown', (e) => e.key === 'Enter' && this.clickHit(e));
  }

  async search() {
    const q = this.query.value.trim();
    if (!q) return;
    const params = new URLSearchParams({ q, limit: '10' });
    const call = this.currentCall();
    if (call !== null && call !== undefined) params.set('call_id', String(call));
    this.showEntry(null);
    setText(this.summary, t('loading'));
    try {
      const body = await api('GET', `/v1/kb/search?${params}`);
      this.searchId = body.search_id || null;
      this.results.replaceChildren(...(body.hits || []).map(hitItem));
      setText(this.summary, body.hits && body.hits.length ? t('kb.total', { n: body.total ?? body.hits.length }) : t('kb.none'));
    } catch (e) {
      this.results.replaceChildren();
      setText(this.summary, e.message);
    }
  }

  clickHit(event) {
    const hit = event.target.closest('[data-entry]');
    if (hit) this.open(hit.dataset.entry);
  }

  async open(id) {
    try {
      const entry = await api('GET', `/v1/kb/entries/${encodeURIComponent(id)}`);
      this.openId = id;
      this.showEntry(entry);
      this.usage('opened');
    } catch (e) {
      setText(this.summary, e.message);
    }
  }

  // N-29: which entries agents open and use on calls; a failure here must not bother the agent.
  usage(action) {
    if (!this.openId) return Promise.resolve(false);
    const body = { entry: this.openId, action };
    if (this.searchId) body.search_id = this.searchId;
    const call = this.currentCall();
    if (call !== null && call !== undefined) body.call_id = String(call);
    return api('POST', '/v1/kb/usage', body).then(() => true, () => false);
  }

  showEntry(entry) {
    this.entry.hidden = !entry;
    this.results.hidden = !!entry;
    if (!entry) return this.entry.replaceChildren();
    this.entry.dataset.entry = entry.id;
    const materials = entry.materials || [];
    const useButton = el('button', { type: 'button', class: 'small', dataset: { action: 'use' } }, t('kb.use'));
    useButton.disabled = this.currentCall() === null;
    useButton.addEventListener('click', async () => {
      if (await this.usage('used')) {
        useButton.disabled = true;
        setText(useButton, t('kb.used'));
      }
    });
    const dates = [entry.effective && `${t('kb.effective')} ${entry.effective}`, entry.expires && `${t('kb.expires')} ${entry.expires}`];
    this.entry.replaceChildren(
      el('button', { type: 'button', class: 'link', dataset: { action: 'back' }, onclick: () => this.showEntry(null) }, `← ${t('kb.back')}`),
      el('h3', {}, entry.question),
      el('p', { class: 'kb-meta muted' }, [label('topic', entry.topic), regionLabel(entry.region), ...dates].filter(Boolean).join(' · ')),
      el('h4', {}, t('kb.answer')),
      el('p', { class: 'kb-answer' }, entry.answer || ''),
      el('h4', {}, t('kb.materials')),
      materials.length ? el('ol', { class: 'kb-materials' }, ...materials.map((m) => el('li', {}, m))) : el('p', { class: 'muted' }, t('kb.no_materials')),
      (entry.sources || []).length ? el('h4', {}, t('kb.sources')) : null,
      (entry.sources || []).length ? el('ul', { class: 'kb-sources' }, ...entry.sources.map(sourceItem)) : null,
      el('div', { class: 'form-row' }, useButton),
    );
  }
}
