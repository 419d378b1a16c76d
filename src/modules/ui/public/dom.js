// Every value from the API is rendered as text: nodes are built with textContent, never innerHTML.

export const $ = (id) => document.getElementById(id);

/** el('td', {class: 'x', title: 't'}, 'text', childNode, ...) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function setText(id, value) {
  $(id).textContent = value === null || value === undefined || value === '' ? '–' : String(value);
}

export function when(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '–' : d.toLocaleString();
}

let noticeTimer = null;
/** One status line for results and errors; errors carry the request id for support. */
export function notify(message, kind = 'info', requestId = null) {
  const box = $('notice');
  box.replaceChildren(
    el('span', {}, message),
    requestId ? el('span', { class: 'muted' }, ` (request ${requestId})`) : null,
  );
  box.className = `notice ${kind}`;
  box.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => (box.hidden = true), kind === 'error' ? 10_000 : 5_000);
}

/** Disables the button while its request runs, so nothing is sent twice. */
export async function busy(button, fn) {
  if (button.disabled) return undefined;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/** A modal confirmation naming what will happen; resolves true only on an explicit confirm. */
export function confirmAction(title, text, confirmLabel = 'Confirm') {
  const dialog = $('confirm-dialog');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = confirmLabel;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.returnValue = 'cancel';
    dialog.showModal();
  });
}
