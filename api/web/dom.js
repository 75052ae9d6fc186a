// DOM helpers shared by the pages: building elements, keyed list updates, toasts, dialogs.
// Server text always goes in through textContent (el's children, setText).

import { t } from './i18n.js';

// el('button', {class: 'x', dataset: {action: 'listen'}, onclick: fn}, 'text', child…)
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'text') node.textContent = value;
    else if (key in node && typeof value !== 'string') node[key] = value;
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function setText(node, text) {
  const value = text === null || text === undefined ? '' : String(text);
  if (node && node.textContent !== value) node.textContent = value;
}

// Keeps container's children in step with items: one element per key, created once, updated
// in place (focus and test handles survive), removed when the key goes, kept in items' order.
export function syncList(container, items, keyOf, create, update) {
  const existing = new Map();
  for (const child of container.children) if (child.dataset.key !== undefined) existing.set(child.dataset.key, child);
  let cursor = container.firstElementChild;
  while (cursor && cursor.dataset.key === undefined) cursor = cursor.nextElementSibling;
  const seen = new Set();
  for (const item of items) {
    const key = String(keyOf(item));
    seen.add(key);
    let node = existing.get(key);
    if (!node) {
      node = create(item);
      node.dataset.key = key;
    }
    update(node, item);
    if (node !== cursor) container.insertBefore(node, cursor);
    else cursor = cursor.nextElementSibling;
  }
  for (const [key, node] of existing) if (!seen.has(key)) node.remove();
}

// A short message at the bottom of the page; kind 'error' shows in red.
export function toast(text, kind = 'info') {
  let box = document.getElementById('toasts');
  if (!box) {
    box = el('div', { id: 'toasts', 'aria-live': 'polite' });
    document.body.append(box);
  }
  const item = el('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
  box.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 8000 : 4000);
}

// A modal built on <dialog>: resolves to the form's values, or null when cancelled.
export function askDialog(title, fields, okLabel = t('act.ok')) {
  return new Promise((resolve) => {
    const form = el('form', { method: 'dialog', class: 'dialog-form' }, el('h3', {}, title), ...fields);
    const cancel = el('button', { type: 'button', class: 'secondary', dataset: { action: 'cancel' } }, t('act.cancel'));
    const ok = el('button', { type: 'submit', value: 'ok', dataset: { action: 'ok' } }, okLabel);
    form.append(el('div', { class: 'dialog-buttons' }, cancel, ok));
    const dialog = el('dialog', { class: 'dialog' }, form);
    document.body.append(dialog);
    cancel.addEventListener('click', () => dialog.close('cancel'));
    dialog.addEventListener('close', () => {
      const values = dialog.returnValue === 'ok' ? Object.fromEntries(new FormData(form)) : null;
      dialog.remove();
      resolve(values);
    });
    dialog.showModal();
  });
}

