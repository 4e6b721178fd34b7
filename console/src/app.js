// recdb console: a single page over the /v1/ JSON API of `recdb serve`.
// The bearer token lives in sessionStorage (never in a URL); every API call
// sends it; a 401 clears it and shows the login page. All text is inserted
// as text nodes (never parsed as HTML), and the page loads nothing but its own
// three files from the server it came from (Content-Security-Policy).
'use strict';

const TOKEN_KEY = 'recdb.token';
const view = document.getElementById('view');
const nav = document.getElementById('nav');

// ---- DOM helpers -----------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function show(...nodes) { view.replaceChildren(...nodes); }

function fmtInt(n) { return typeof n === 'number' ? n.toLocaleString('en-US') : '—'; }
function fmtBytes(n) {
  if (typeof n !== 'number') return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(1)) + ' ' + units[i];
}
function fmtTime(ts) {
  return new Date(ts * 1000).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}
function enc(s) { return encodeURIComponent(s); }

// ---- API -------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

function token() { return sessionStorage.getItem(TOKEN_KEY); }

// Calls the API with the stored token. A 401 forgets the token and shows the
// login page; other errors throw ApiError with the server's message.
async function api(path, options = {}, tok = token()) {
  if (!tok) { toLogin(); throw new ApiError(401, 'not logged in'); }
  const init = { method: options.method || 'GET', headers: { Authorization: 'Bearer ' + tok },
                 cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
  if (options.body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  const res = await fetch(path, init);
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (res.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    if (!options.noRedirect) toLogin('Your token was not accepted; log in again.');
    throw new ApiError(401, 'unauthenticated');
  }
  if (!res.ok) {
    const msg = body && body.error ? body.error.message : res.status + ' ' + res.statusText;
    throw new ApiError(res.status, msg);
  }
  return body;
}

const itemCache = new Map();
// Item records for ids (titles for lists); a missing item maps to null.
async function items(ids) {
  await Promise.all([...new Set(ids)].filter((id) => !itemCache.has(id)).map(async (id) => {
    try { itemCache.set(id, await api('/v1/items/' + enc(id))); } catch (e) {
      if (e.status === 401) throw e;
      itemCache.set(id, null);
    }
  }));
}
function itemLabel(id) {
  const it = itemCache.get(id);
  return el('span', {}, el('a', { href: '#/item/' + enc(id) }, id),
            it && it.title ? ' ' + it.title : '');
}

// ---- routing ---------------------------------------------------------------

let loginMessage = '';
function toLogin(message) {
  loginMessage = message || '';
  if (location.hash !== '#/login') location.hash = '#/login';
  else route();
}

function errorPanel(e) {
  return el('p', { class: 'error', 'data-testid': 'error' }, e.message || String(e));
}

async function route() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [page, ...rest] = hash.split('/');
  const arg = rest.length ? decodeURIComponent(rest.join('/')) : '';
  if (!token() || page === 'login') {
    nav.hidden = true;
    return renderLogin();
  }
  nav.hidden = false;
  for (const a of nav.querySelectorAll('a')) {
    a.classList.toggle('active', a.dataset.nav === (page || 'overview'));
  }
  show(el('p', { class: 'muted' }, 'Loading…'));
  try {
    if (page === 'user') await renderUser(arg);
    else if (page === 'item') await renderItem(arg);
    else await renderOverview();
  } catch (e) {
    if (e.status !== 401) show(errorPanel(e));
  }
}

// ---- login -----------------------------------------------------------------

function renderLogin() {
  const input = el('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'off',
                              placeholder: 'bearer token', required: true });
  const msg = el('p', { class: 'error', id: 'login-error' }, loginMessage);
  const form = el('form', { id: 'login-form' },
    el('h1', {}, 'Log in'),
    el('p', { class: 'muted' },
       'Enter the token `recdb serve` was started with (--token or --token-file). ' +
       'It is kept in this tab only (sessionStorage).'),
    input, msg, el('input', { type: 'submit', value: 'Log in' }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const tok = input.value.trim();
    msg.textContent = '';
    try {
      await api('/v1/stats', { noRedirect: true }, tok);
    } catch (e) {
      msg.textContent = e.status === 401 ? 'Wrong token.' : 'Cannot reach the server: ' + e.message;
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, tok);
    loginMessage = '';
    location.hash = '#/overview';
  });
  show(el('div', { class: 'login panel' }, form));
  input.focus();
}

// ---- overview --------------------------------------------------------------

function card(label, value, id) {
  return el('div', { class: 'card' }, el('div', { class: 'label' }, label),
            el('div', { class: 'value', 'data-testid': id }, value));
}

function openForms() {
  const user = el('input', { type: 'text', name: 'user', placeholder: 'user id' });
  const item = el('input', { type: 'text', name: 'item', placeholder: 'item id' });
  return el('div', { class: 'panel' },
    el('form', { class: 'inline', id: 'open-user', onsubmit: (ev) => {
      ev.preventDefault(); if (user.value) location.hash = '#/user/' + enc(user.value.trim());
    } }, el('label', {}, 'Open a user '), user, el('input', { type: 'submit', value: 'Open' })),
    el('form', { class: 'inline', id: 'open-item', onsubmit: (ev) => {
      ev.preventDefault(); if (item.value) location.hash = '#/item/' + enc(item.value.trim());
    } }, el('label', {}, 'Open an item '), item, el('input', { type: 'submit', value: 'Open' })));
}

async function renderOverview() {
  const s = await api('/v1/stats');
  const model = s.model_version !== undefined ? fmtInt(s.model_version) : 'not reported';
  const extra = [];
  if (s.model_problem) extra.push(el('p', { class: 'error' }, 'Model: ' + s.model_problem));
  show(el('h1', {}, 'Overview'),
    el('div', { class: 'cards' },
      card('Users', fmtInt(s.users), 'users'), card('Items', fmtInt(s.items), 'items'),
      card('Events', fmtInt(s.events), 'events'), card('Disk', fmtBytes(s.disk_bytes), 'disk'),
      card('Model version', model, 'model-version'),
      card('Event types', fmtInt(s.event_types), 'event-types'),
      card('Sequence number', fmtInt(s.sequence_number), 'sequence')),
    ...extra, el('h2', {}, 'Look something up'), openForms());
}

// ---- a user ----------------------------------------------------------------

const COLORS = ['#2f6fdf', '#1a7f37', '#9a6700', '#8250df', '#cf222e', '#0a7ea4', '#bf3989'];
const componentColor = new Map();
function colorOf(name) {
  if (!componentColor.has(name)) componentColor.set(name, COLORS[componentColor.size % COLORS.length]);
  return componentColor.get(name);
}

// Each recommender's contribution to the score as a horizontal bar.
// `max` is the largest |contribution| of the whole list, so bars compare
// across items; a negative contribution is drawn faded.
function contributionBars(contributions, max) {
  const entries = Object.entries(contributions || {}).sort((a, b) => b[1] - a[1]);
  if (!entries.length) return null;
  const rowH = 15, labelW = 110, barW = 180;
  const g = svg('svg', { class: 'bars', width: labelW + barW + 60, height: entries.length * rowH,
                         role: 'img', 'aria-label': 'contributions' });
  entries.forEach(([name, v], i) => {
    const y = i * rowH;
    g.append(svg('text', { x: 0, y: y + 11 }, name));
    g.append(svg('rect', { x: labelW, y: y + 2, height: rowH - 4,
                           width: Math.max(1, (Math.abs(v) / max) * barW), fill: colorOf(name),
                           'fill-opacity': v < 0 ? 0.35 : 1, 'data-component': name }));
    g.append(svg('text', { x: labelW + barW + 6, y: y + 11 }, v.toFixed(3)));
  });
  return g;
}

function recList(list, other, testid) {
  const otherIds = other ? other.map((r) => r.id) : null;
  const ol = el('ol', { class: 'recs', 'data-testid': testid });
  const max = Math.max(1e-9, ...list.flatMap((r) => Object.values(r.contributions || {}).map(Math.abs)));
  list.forEach((r, i) => {
    let cls = '', tag = null;
    if (otherIds) {
      const j = otherIds.indexOf(r.id);
      if (j < 0) { cls = testid === 'after' ? 'new' : 'gone';
                   tag = el('span', { class: 'tag ' + cls }, testid === 'after' ? 'new' : 'dropped'); }
      else if (j !== i) {
        // After: ▲ when it was lower before. Before: ▼ when it is lower after.
        const up = testid === 'after' ? j > i : j < i;
        tag = el('span', { class: 'tag moved' }, (up ? '▲' : '▼') + Math.abs(j - i));
      }
    }
    ol.append(el('li', { class: cls || null, 'data-item': r.id },
      el('div', {}, itemLabel(r.id), tag, el('span', { class: 'muted' }, '  score ' + r.score.toFixed(4))),
      contributionBars(r.contributions, max),
      r.explanation && r.explanation.sentence ? el('div', { class: 'sentence' }, r.explanation.sentence) : null));
  });
  if (!list.length) ol.append(el('li', { class: 'muted' }, 'no recommendations'));
  return ol;
}

// The care knobs of /v1/recommend (recdb/care.h), each 0..1.
const KNOBS = [['diversity', 'Diversity'], ['calibration', 'Calibration'],
               ['fair_share', 'Fair share'], ['exploration', 'Exploration']];

// `care` maps knob -> value; every knob is sent, so 0 means off even when the
// server's options file sets a default.
async function recommend(user, care) {
  let q = '/v1/recommend?user=' + enc(user) + '&k=10&explain=true';
  for (const [knob] of KNOBS) q += '&' + knob + '=' + (care[knob] || 0);
  const r = await api(q);
  await items(r.items.map((x) => x.id));
  return r.items;
}

function historyPanel(h) {
  const rows = h.events.slice(-50).reverse().map((e) => el('tr', {},
    el('td', {}, fmtTime(e.ts)), el('td', {}, e.type), el('td', {}, itemLabel(e.item)),
    el('td', {}, e.value !== undefined ? String(e.value) : ''),
    el('td', {}, e.context ? Object.entries(e.context).map(([k, v]) => k + '=' + v).join(' ') : '')));
  return el('div', { class: 'panel' },
    el('h2', {}, 'History ', el('span', { class: 'muted', 'data-testid': 'history-count' },
                                 h.count + ' events' + (h.count > 50 ? ' (latest 50 shown)' : ''))),
    el('div', { class: 'timeline' }, el('table', { 'data-testid': 'history' },
      el('tr', {}, el('th', {}, 'when'), el('th', {}, 'type'), el('th', {}, 'item'),
         el('th', {}, 'value'), el('th', {}, 'context')), rows)));
}

function userForm(current) {
  const input = el('input', { type: 'text', name: 'user', placeholder: 'user id', value: current || '' });
  return el('form', { class: 'inline', id: 'open-user', onsubmit: (ev) => {
    ev.preventDefault(); if (input.value) location.hash = '#/user/' + enc(input.value.trim());
  } }, el('label', {}, 'User '), input, el('input', { type: 'submit', value: 'Open' }));
}

async function renderUser(user) {
  if (!user) return show(el('h1', {}, 'A user'), userForm(''));
  const h = await api('/v1/users/' + enc(user) + '/history');
  await items(h.events.slice(-50).map((e) => e.item));
  let before = [];
  let recError = null;
  try { before = await recommend(user, {}); } catch (e) { if (e.status === 401) throw e; recError = e; }

  const recsBox = el('div', { class: 'cols', id: 'recs' });
  const care = {};
  const sliders = KNOBS.map(([knob, label]) => {
    const value = el('output', { id: knob + '-value' }, '0.0');
    const slider = el('input', { type: 'range', id: knob, min: 0, max: 1, step: 0.1, value: 0 });
    slider.addEventListener('change', () => {
      care[knob] = Number(slider.value);
      value.textContent = care[knob].toFixed(1);
      rerank();
    });
    return el('div', { class: 'slider' }, el('label', { for: knob }, label), slider, value);
  });
  const careText = () => KNOBS.filter(([k]) => care[k] > 0)
    .map(([k, label]) => label.toLowerCase() + ' ' + care[k].toFixed(1)).join(', ');
  let seq = 0;
  const drawRecs = (after) => {
    const on = careText();
    recsBox.replaceChildren(
      el('div', {}, el('h2', {}, 'Before (no care)'), recList(before, on ? after : null, 'before')),
      on ? el('div', {}, el('h2', {}, 'After (' + on + ')'), recList(after, before, 'after'))
         : el('div', {}, el('h2', {}, 'After'),
              el('p', { class: 'muted' }, 'Move a care slider: the re-ranked list appears here, ' +
                'new items in green, moved ones marked ▲/▼, dropped ones red on the left.')));
    for (const [k] of KNOBS) recsBox.dataset[k.replace('_s', 'S')] = (care[k] || 0).toFixed(1);
  };
  async function rerank() {
    const mine = ++seq;
    try {
      const after = await recommend(user, care);
      if (mine === seq) drawRecs(after);
    } catch (e) { if (e.status !== 401 && mine === seq) recsBox.replaceChildren(errorPanel(e)); }
  }
  if (recError) recsBox.append(errorPanel(recError)); else drawRecs(before);

  const receipt = el('div', { id: 'forget-area' });
  const forgetButton = el('button', { type: 'button', class: 'danger', id: 'forget' }, 'Forget this user…');
  forgetButton.addEventListener('click', () => {
    receipt.replaceChildren(el('div', { class: 'panel confirm', id: 'forget-confirm' },
      el('p', {}, 'Forget user ', el('b', {}, user), '? Their events, vectors and record are ' +
         'deleted and the deletion is written to the privacy ledger. This cannot be undone.'),
      el('button', { type: 'button', class: 'danger', id: 'forget-yes', onclick: async () => {
        try {
          const r = await api('/v1/forget', { method: 'POST', body: { user } });
          receipt.replaceChildren(el('div', { class: 'panel' }, el('h2', {}, 'Forgotten: receipt'),
            el('table', { class: 'receipt', 'data-testid': 'receipt' }, Object.entries(r).map(([k, v]) =>
              el('tr', {}, el('td', {}, k), el('td', {}, typeof v === 'object' ? JSON.stringify(v) : String(v))))),
            el('p', {}, el('a', { href: '#/user/' + enc(user), id: 'reload-user',
                                  onclick: () => setTimeout(route, 0) }, 'Look the user up again'))));
        } catch (e) { if (e.status !== 401) receipt.replaceChildren(errorPanel(e)); }
      } }, 'Yes, forget'), ' ',
      el('button', { type: 'button', id: 'forget-no', onclick: () => receipt.replaceChildren() }, 'Cancel')));
  });

  let record = null;
  try { record = await api('/v1/users/' + enc(user)); } catch (e) { if (e.status !== 404) throw e; }
  const consent = record ? record.consent : null;
  const exportBox = el('div', { id: 'export-area' });
  const exportButton = el('button', { type: 'button', id: 'export', onclick: async () => {
    try {
      const x = await api('/v1/users/' + enc(user) + '/export');
      exportBox.replaceChildren(el('h2', {}, 'Export (everything held about ' + user + ')'),
        el('pre', { class: 'export', 'data-testid': 'export' }, JSON.stringify(x, null, 2)));
    } catch (e) { if (e.status !== 401) exportBox.replaceChildren(errorPanel(e)); }
  } }, 'Export');

  show(el('h1', {}, 'User ', el('span', { 'data-testid': 'user-id' }, user)), userForm(user),
    el('div', { class: 'panel' }, el('h2', {}, 'Consent'),
      consent ? el('table', { 'data-testid': 'consent' }, Object.entries(consent).map(([k, v]) =>
        el('tr', {}, el('td', {}, k), el('td', { class: v ? '' : 'error' }, v ? 'yes' : 'no'))))
              : el('p', { class: 'muted', 'data-testid': 'consent' },
                   'No user record: the defaults apply (personalization, storing events, training).')),
    historyPanel(h),
    el('div', { class: 'panel' }, el('h2', {}, 'Recommendations'),
      el('p', { class: 'muted' }, 'The care knobs re-rank the list (GET /v1/recommend with ' +
         'diversity, calibration, fair_share, exploration); the list before and after are side by side.'),
      el('div', { class: 'knobs' }, sliders), recsBox),
    el('div', { class: 'panel' }, el('h2', {}, 'Privacy'), exportButton, ' ', forgetButton, exportBox,
       receipt));
}

// ---- an item ---------------------------------------------------------------

function itemForm(current) {
  const input = el('input', { type: 'text', name: 'item', placeholder: 'item id', value: current || '' });
  return el('form', { class: 'inline', id: 'open-item', onsubmit: (ev) => {
    ev.preventDefault(); if (input.value) location.hash = '#/item/' + enc(input.value.trim());
  } }, el('label', {}, 'Item '), input, el('input', { type: 'submit', value: 'Open' }));
}

async function renderItem(id) {
  if (!id) return show(el('h1', {}, 'An item'), itemForm(''));
  const it = await api('/v1/items/' + enc(id));
  itemCache.set(id, it);
  let similar = [], simError = null;
  try {
    similar = (await api('/v1/similar?item=' + enc(id) + '&k=10&explain=true')).items;
    await items(similar.map((r) => r.id));
  } catch (e) { if (e.status === 401) throw e; simError = e; }
  const rows = [];
  for (const [k, v] of Object.entries(it)) {
    if (k === 'counts') continue;
    const text = Array.isArray(v) ? v.join(', ') : typeof v === 'object' ? JSON.stringify(v) :
                 k === 'created_at' && v ? fmtTime(v) : String(v);
    rows.push(el('tr', {}, el('td', {}, k), el('td', {}, text)));
  }
  const counts = it.counts || { total: 0, by_type: {} };
  show(el('h1', {}, 'Item ', el('span', { 'data-testid': 'item-id' }, id), it.title ? ': ' + it.title : ''),
    itemForm(id),
    el('div', { class: 'cols' },
      el('div', { class: 'panel' }, el('h2', {}, 'Record'), el('table', { 'data-testid': 'record' }, rows)),
      el('div', { class: 'panel' }, el('h2', {}, 'Interactions'),
        el('p', {}, el('span', { 'data-testid': 'item-total' }, fmtInt(counts.total)), ' events'),
        el('table', {}, Object.entries(counts.by_type).map(([t, n]) =>
          el('tr', {}, el('td', {}, t), el('td', {}, fmtInt(n))))))),
    el('div', { class: 'panel' }, el('h2', {}, 'Similar items'),
      simError ? errorPanel(simError) : recList(similar, null, 'similar')));
}

// ---- start -----------------------------------------------------------------

document.getElementById('logout').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  itemCache.clear();
  toLogin('Logged out.');
});
window.addEventListener('hashchange', route);
route();
