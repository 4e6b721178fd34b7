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
    if (page !== 'quality') qualityGeneration++;  // stops the eval poll
    if (page === 'user') await renderUser(arg);
    else if (page === 'item') await renderItem(arg);
    else if (page === 'quality') await renderQuality();
    else if (page === 'privacy') await renderPrivacy();
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

// A time-range picker: two dates (UTC, both days included) and Apply / All
// time. onApply gets the API's range {from, to} in Unix seconds, [from, to)
// (either may be absent), or null for all time; it returns a promise whose
// rejection (the API's 400 for a reversed range, say) is shown beside it.
function dateToUnix(value) {
  const [y, m, d] = value.split('-').map(Number);
  return Date.UTC(y, m - 1, d) / 1000;
}
function rangeQuery(range) {
  if (!range) return '';
  return (range.from !== undefined ? '&from=' + range.from : '') +
         (range.to !== undefined ? '&to=' + range.to : '');
}
function rangePicker(prefix, onApply) {
  const from = el('input', { type: 'date', id: prefix + '-from', 'aria-label': 'from (UTC day)' });
  const to = el('input', { type: 'date', id: prefix + '-to', 'aria-label': 'to (UTC day, included)' });
  const error = el('span', { class: 'error', id: prefix + '-range-error', 'data-testid': prefix + '-range-error' });
  const run = async (range) => {
    error.textContent = '';
    try { await onApply(range); } catch (e) { if (e.status !== 401) error.textContent = e.message; }
  };
  const apply = el('button', { type: 'button', id: prefix + '-apply' }, 'Apply');
  apply.addEventListener('click', () => {
    const range = {};
    if (from.value) range.from = dateToUnix(from.value);
    if (to.value) range.to = dateToUnix(to.value) + 86400;  // the "to" day is included
    run(from.value || to.value ? range : null);
  });
  const all = el('button', { type: 'button', id: prefix + '-all' }, 'All time');
  all.addEventListener('click', () => { from.value = ''; to.value = ''; run(null); });
  return el('div', { class: 'range', 'data-testid': prefix + '-range' },
    el('label', { for: prefix + '-from' }, 'From '), from,
    el('label', { for: prefix + '-to' }, ' to '), to, ' ', apply, ' ', all, ' ', error);
}

// Events per day (GET /v1/stats/events_per_day) as one bar per UTC day from
// the first day with events to the last; days without events are gaps.
// Each bar carries a <title> (date: count) that the browser shows on hover.
function eventsPerDayChart(doc, testid = 'events-per-day', W = 900, H = 160, caption = null) {
  const days = doc.days || [];
  const box = el('div', { class: 'chart', 'data-testid': testid, 'data-total': doc.total,
                          'data-days': days.length });
  if (!days.length) return el('p', { class: 'muted', 'data-testid': testid }, 'No events yet.');
  const first = days[0].day, last = days[days.length - 1].day;
  const span = last - first + 1;
  const max = Math.max(...days.map((d) => d.events));
  const left = 50, bottom = 20;
  const bw = (W - left) / span;
  const g = svg('svg', { class: 'daily', width: W, height: H + bottom, role: 'img',
                         'aria-label': 'events per day' });
  g.append(svg('line', { x1: left, y1: H, x2: W, y2: H, class: 'axis' }));
  g.append(svg('text', { x: left - 6, y: 10, 'text-anchor': 'end' }, fmtInt(max)));
  g.append(svg('text', { x: left - 6, y: H, 'text-anchor': 'end' }, '0'));
  g.append(svg('text', { x: left, y: H + 15 }, days[0].date));
  g.append(svg('text', { x: W, y: H + 15, 'text-anchor': 'end' }, days[days.length - 1].date));
  for (const d of days) {
    const h = Math.max(1, (d.events / max) * (H - 4));
    g.append(svg('rect', { x: left + (d.day - first) * bw, y: H - h, width: Math.max(1, bw - 0.5),
                           height: h, class: 'day' }, svg('title', {}, d.date + ': ' + fmtInt(d.events))));
  }
  box.append(g, el('p', { class: 'muted' }, caption || fmtInt(doc.total) + ' events on ' + days.length +
                    ' days (' + span + ' days from first to last), summed from the per-item daily counts.'));
  return box;
}

function spacesTable(spaces) {
  if (!spaces.length) {
    return el('p', { class: 'muted', 'data-testid': 'spaces' },
              'No embedding spaces (recdb space create, recdb embed --builtin).');
  }
  return el('table', { 'data-testid': 'spaces' },
    el('tr', {}, ['space', 'dimension', 'metric', 'model', 'item vectors', 'user vectors',
                  'index checkpoint at'].map((h) => el('th', {}, h))),
    spaces.map((s) => el('tr', {}, el('td', {}, s.name), el('td', {}, s.dimension), el('td', {}, s.metric),
      el('td', {}, s.model || '—'), el('td', {}, fmtInt(s.item_vectors)), el('td', {}, fmtInt(s.user_vectors)),
      el('td', {}, s.checkpoint_sequence ? 'sequence ' + fmtInt(s.checkpoint_sequence) : 'not yet'))));
}

// A duration in seconds as days, hours, minutes or seconds (the largest
// unit that divides it), e.g. 2592000 -> "30 days".
function fmtDuration(sec) {
  for (const [n, unit] of [[86400, 'day'], [3600, 'hour'], [60, 'minute']]) {
    if (sec >= n && sec % n === 0) return (sec / n) + ' ' + unit + (sec === n ? '' : 's');
  }
  return sec + ' second' + (sec === 1 ? '' : 's');
}

// The serving model's training run (GET /v1/model): when, how long in all,
// the validation NDCG@10 of its fusion weights, and per component the fit
// seconds and the fusion weight ("blend" is learning the weights).
function lastTrainPanel(m) {
  if (!m.model_version) {
    return el('p', { class: 'muted', 'data-testid': 'last-train', 'data-version': 0 },
              'No model yet: train with POST /v1/train or recdb train DIR.');
  }
  const secs = m.seconds_by_recommender || {};
  const weights = m.weights || {};
  const names = [...Object.keys(weights), ...Object.keys(secs).filter((n) => !(n in weights))];
  return el('div', { 'data-testid': 'last-train', 'data-version': m.model_version,
                     'data-trained-at': m.trained_at },
    el('p', {},
      'Model ', el('b', {}, String(m.model_version)), ' trained ',
      el('span', { 'data-testid': 'trained-at' }, m.trained_at ? fmtTime(m.trained_at) : '(time not recorded)'),
      ' in ', el('span', { 'data-testid': 'train-seconds' }, fmtNum(m.seconds, 1) + ' s'),
      ' on ' + fmtInt(m.events) + ' events; validation NDCG@10 of its fusion weights ',
      el('b', { 'data-testid': 'validation-ndcg' },
         m.validation_ndcg ? fmtNum(m.validation_ndcg) : 'not learned'), '.'),
    el('table', { class: 'metrics' },
      el('tr', {}, el('th', {}, 'component'), el('th', {}, 'fit seconds'), el('th', {}, 'fusion weight')),
      names.map((n) => el('tr', { 'data-component': n }, el('td', {}, n),
        el('td', { class: 'num', 'data-field': 'seconds' }, n in secs ? fmtNum(secs[n], 2) : '—'),
        el('td', { class: 'num', 'data-field': 'weight' }, n in weights ? fmtNum(weights[n], 3) : '—')))),
    Object.keys(secs).length ? null
      : el('p', { class: 'muted' }, 'Per-component seconds are not recorded for this model ' +
                                    '(stored by an older recdb).'));
}

// The retention policy in force and when its sweep last ran (GET /v1/stats:
// retention, last_retention_sweep). Each rule is a row; 0 means off.
function retentionPanel(s) {
  const p = s.retention || {};
  const ttl = Object.entries(p.ttl_seconds_by_type || {});
  const row = (rule, label, value) => el('tr', { 'data-rule': rule }, el('td', {}, label),
                                         el('td', { 'data-field': 'value' }, value));
  const rows = [
    ...(ttl.length ? ttl.map(([type, sec]) => row('ttl:' + type, 'Keep "' + type + '" events',
                                                  sec > 0 ? fmtDuration(sec) : 'forever'))
      : [row('ttl', 'Event time to live', 'none (every type kept forever)')]),
    row('max_events_per_user', 'Events kept per user',
        p.max_events_per_user ? 'the newest ' + fmtInt(p.max_events_per_user) : 'all'),
    row('delete_inactive_users_after_days', 'Forget inactive users after',
        p.delete_inactive_users_after_days ? fmtDuration(p.delete_inactive_users_after_days * 86400) : 'never'),
    row('anonymize_after_days', 'Anonymise events after',
        p.anonymize_after_days ? fmtDuration(p.anonymize_after_days * 86400) : 'never'),
    row('training_horizon_seconds', 'Training uses events of the last',
        p.training_horizon_seconds ? fmtDuration(p.training_horizon_seconds) : 'all time'),
    row('sweep_interval_seconds', 'Sweep runs',
        p.sweep_interval_seconds ? 'every ' + fmtDuration(p.sweep_interval_seconds)
                                 : 'only when asked (recdb retention DIR sweep)'),
    el('tr', { 'data-rule': 'last_sweep' }, el('td', {}, 'Last sweep'),
       el('td', { 'data-testid': 'last-sweep', 'data-at': s.last_retention_sweep || 0 },
          s.last_retention_sweep ? fmtTime(s.last_retention_sweep) : 'never')),
  ];
  return el('table', { class: 'receipt', 'data-testid': 'retention' }, rows);
}

async function renderOverview() {
  const [s, daily, spaces, report] = await Promise.all([
    api('/v1/stats'), api('/v1/stats/events_per_day'), api('/v1/spaces'), api('/v1/model')]);
  const model = s.model_version !== undefined ? fmtInt(s.model_version) : 'not reported';
  // GET /v1/stats/events_per_day?from=&to=: the days of the picked range.
  const dailyBox = el('div', {}, eventsPerDayChart(daily));
  const dailyPicker = rangePicker('daily', async (range) => {
    const doc = await api('/v1/stats/events_per_day' + rangeQuery(range).replace('&', '?'));
    dailyBox.replaceChildren(eventsPerDayChart(doc));
  });
  const extra = [];
  if (s.model_problem) extra.push(el('p', { class: 'error' }, 'Model: ' + s.model_problem));
  show(el('h1', {}, 'Overview'),
    el('div', { class: 'cards' },
      card('Users', fmtInt(s.users), 'users'), card('Items', fmtInt(s.items), 'items'),
      card('Events', fmtInt(s.events), 'events'), card('Disk', fmtBytes(s.disk_bytes), 'disk'),
      card('Model version', model, 'model-version'),
      card('Event types', fmtInt(s.event_types), 'event-types'),
      card('Sequence number', fmtInt(s.sequence_number), 'sequence')),
    ...extra,
    el('div', { class: 'cols' },
      el('div', { class: 'panel' }, el('h2', {}, 'Last training run'), lastTrainPanel(report)),
      el('div', { class: 'panel' }, el('h2', {}, 'Retention'), retentionPanel(s))),
    el('div', { class: 'panel' }, el('h2', {}, 'Events per day (UTC)'), dailyPicker, dailyBox),
    el('div', { class: 'panel' }, el('h2', {}, 'Embedding spaces'), spacesTable(spaces.spaces)),
    el('h2', {}, 'Look something up'), openForms());
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

// The user's history as a timeline, newest first (GET /v1/users/{id}/history
// ?order=newest&limit=50&offset=M): one entry per event under its UTC day,
// with a dot in its event type's colour, the time, the type, the item (link
// and title), the value and the context as chips. "Show more" fetches the
// next page (next_offset) and appends it.
const TIMELINE_PAGE = 50;
const typeColor = new Map();
function colorOfType(type) {
  if (!typeColor.has(type)) typeColor.set(type, COLORS[(typeColor.size + 3) % COLORS.length]);
  return typeColor.get(type);
}
function typeDot(type) {
  return svg('svg', { class: 'dot', width: 12, height: 12, 'aria-hidden': 'true' },
             svg('circle', { cx: 6, cy: 6, r: 5, fill: colorOfType(type) }));
}
async function historyPage(user, offset, range = null) {
  const page = await api('/v1/users/' + enc(user) + '/history?order=newest&limit=' + TIMELINE_PAGE +
                         '&offset=' + offset + rangeQuery(range));
  await items(page.events.map((e) => e.item));
  return page;
}

function historyPanel(user, first) {
  const list = el('ol', { class: 'timeline', 'data-testid': 'history' });
  const shown = el('span', { class: 'muted', 'data-testid': 'history-shown' });
  const more = el('button', { type: 'button', id: 'history-more' }, 'Show ' + TIMELINE_PAGE + ' more');
  const count = el('span', { class: 'muted', 'data-testid': 'history-count' }, first.total + ' events');
  let lastDay = null;
  let range = null;  // the picker's range (GET .../history?from=&to=), null for all time
  const append = (page) => {
    for (const e of page.events) {
      const day = fmtTime(e.ts).slice(0, 10);
      if (day !== lastDay) {
        list.append(el('li', { class: 'tl-day' }, day));
        lastDay = day;
      }
      const ctx = Object.entries(e.context || {}).map(([k, v]) => el('span', { class: 'chip' }, k + '=' + v));
      list.append(el('li', { class: 'tl-event', 'data-item': e.item, 'data-ts': e.ts, 'data-type': e.type },
        el('span', { class: 'tl-time' }, fmtTime(e.ts).slice(11, 16)),
        typeDot(e.type), el('span', { class: 'tl-type' }, e.type),
        itemLabel(e.item),
        e.value !== undefined ? el('span', { class: 'muted' }, ' value ' + e.value) : null,
        ctx.length ? el('span', { class: 'chips' }, ctx) : null));
    }
    const n = list.querySelectorAll('li.tl-event').length;
    shown.textContent = n < page.total ? ' (latest ' + fmtInt(n) + ' shown, newest first)' : ' (newest first)';
    more.hidden = page.next_offset === undefined;
    more.dataset.offset = page.next_offset === undefined ? '' : page.next_offset;
  };
  more.addEventListener('click', async () => {
    more.disabled = true;
    try { append(await historyPage(user, Number(more.dataset.offset), range)); } catch (e) {
      if (e.status !== 401) list.append(el('li', {}, errorPanel(e)));
    }
    more.disabled = false;
  });
  const start = (page) => {
    list.replaceChildren();
    lastDay = null;
    count.textContent = page.total + ' events' + (range ? ' in the range' : '');
    append(page);
    if (!page.events.length) list.append(el('li', { class: 'muted' }, 'No stored events.'));
  };
  const picker = rangePicker('history', async (r) => {
    const page = await historyPage(user, 0, r);  // a 400 (bad range) leaves the list as it was
    range = r;
    start(page);
  });
  start(first);
  return el('div', { class: 'panel' },
    el('h2', {}, 'History ', count, shown), picker,
    el('div', { class: 'timeline-box' }, list), more);
}

function userForm(current) {
  const input = el('input', { type: 'text', name: 'user', placeholder: 'user id', value: current || '' });
  return el('form', { class: 'inline', id: 'open-user', onsubmit: (ev) => {
    ev.preventDefault(); if (input.value) location.hash = '#/user/' + enc(input.value.trim());
  } }, el('label', {}, 'User '), input, el('input', { type: 'submit', value: 'Open' }));
}

async function renderUser(user) {
  if (!user) return show(el('h1', {}, 'A user'), userForm(''));
  const h = await historyPage(user, 0);
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
    historyPanel(user, h),
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

// The item's nearest neighbours in each embedding space holding item vectors
// (GET /v1/spaces, then GET /v1/spaces/{name}/neighbors per space).
async function neighbourLists(id, spaces) {
  const withItems = spaces.filter((s) => s.item_vectors > 0);
  if (!withItems.length) {
    return [el('p', { class: 'muted', 'data-testid': 'no-spaces' },
               'No embedding space holds item vectors (recdb embed DIR --space NAME --builtin).')];
  }
  return Promise.all(withItems.map(async (s) => {
    let body;
    try {
      const r = await api('/v1/spaces/' + enc(s.name) + '/neighbors?item=' + enc(id) + '&k=10');
      await items(r.items.map((x) => x.id));
      body = el('ol', { class: 'recs', 'data-testid': 'neighbors-' + s.name }, r.items.map((x) =>
        el('li', { 'data-item': x.id }, itemLabel(x.id),
           el('span', { class: 'muted' }, '  ' + s.metric + ' ' + x.score.toFixed(4)))));
    } catch (e) {
      if (e.status === 401) throw e;
      body = el('p', { class: 'muted', 'data-testid': 'neighbors-' + s.name },
                e.status === 404 ? 'This item has no vector in ' + s.name + '.' : e.message);
    }
    return el('div', { class: 'space' },
      el('h3', {}, s.name, el('span', { class: 'muted' }, ' ' + (s.model || 'no model') + ', ' +
                                                     s.dimension + ' dims, ' + s.metric)), body);
  }));
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
  const neighbours = await neighbourLists(id, (await api('/v1/spaces')).spaces);
  const rows = [];
  for (const [k, v] of Object.entries(it)) {
    if (k === 'counts') continue;
    const text = Array.isArray(v) ? v.join(', ') : typeof v === 'object' ? JSON.stringify(v) :
                 k === 'created_at' && v ? fmtTime(v) : String(v);
    rows.push(el('tr', {}, el('td', {}, k), el('td', {}, text)));
  }
  const who = await api('/v1/items/' + enc(id) + '/interactions?users=20');
  show(el('h1', {}, 'Item ', el('span', { 'data-testid': 'item-id' }, id), it.title ? ': ' + it.title : ''),
    itemForm(id),
    el('div', { class: 'cols' },
      el('div', { class: 'panel' }, el('h2', {}, 'Record'), el('table', { 'data-testid': 'record' }, rows)),
      whoPanel(who)),
    el('div', { class: 'cols' },
      el('div', { class: 'panel' }, el('h2', {}, 'Similar items (fused)'),
        simError ? errorPanel(simError) : recList(similar, null, 'similar')),
      el('div', { class: 'panel' }, el('h2', {}, 'Nearest neighbours in each embedding space'),
        el('p', { class: 'muted' }, 'The item\'s own vector as the query (HNSW), per space.'),
        neighbours)));
}

// Who interacts with the item (GET /v1/items/{id}/interactions): its events
// by type as bars, per day as a chart, and, only when the server has no
// aggregate privacy, the distinct users and the latest of them. Under
// aggregate privacy the API sends no user id and the panel says so.
function whoPanel(who) {
  const types = Object.entries(who.by_type).sort((a, b) => b[1] - a[1]);
  const max = Math.max(1, ...types.map(([, n]) => n));
  const rowH = 16, labelW = 100, barW = 200;
  const bars = svg('svg', { class: 'bars', width: labelW + barW + 70, height: Math.max(1, types.length) * rowH,
                            role: 'img', 'aria-label': 'events by type', 'data-testid': 'who-types' });
  types.forEach(([t, n], i) => {
    const y = i * rowH;
    bars.append(svg('text', { x: 0, y: y + 12 }, t));
    bars.append(svg('rect', { x: labelW, y: y + 2, height: rowH - 4, width: Math.max(1, (n / max) * barW),
                              fill: colorOfType(t), 'data-type': t, 'data-count': n }));
    bars.append(svg('text', { x: labelW + barW + 6, y: y + 12 }, fmtInt(n)));
  });
  const perDay = eventsPerDayChart({ days: who.by_day, total: who.total }, 'who-per-day', 420, 90,
    fmtInt(who.total) + ' events on ' + who.by_day.length + ' UTC days (hover a bar for its date).');
  let people;
  if (who.aggregate_privacy) {
    people = el('p', { class: 'muted', 'data-testid': 'who-privacy' },
      'Aggregate privacy is on: counts only, no user ids' +
      (who.popularity_epsilon ? ' (each count carries Laplace noise, ε = ' + who.popularity_epsilon + ').' : '.'));
  } else {
    people = el('div', {},
      el('p', {}, el('span', { 'data-testid': 'who-distinct' }, fmtInt(who.distinct_users)), ' distinct users',
         who.users.length < who.distinct_users ? '; the latest ' + who.users.length + ':' : ':'),
      el('table', { 'data-testid': 'who-users' },
        el('tr', {}, ['user', 'events', 'last', 'when'].map((h) => el('th', {}, h))),
        who.users.map((u) => el('tr', { 'data-user': u.user },
          el('td', {}, el('a', { href: '#/user/' + enc(u.user) }, u.user)), el('td', {}, fmtInt(u.events)),
          el('td', {}, typeDot(u.last_type), ' ', u.last_type), el('td', {}, fmtTime(u.last_ts))))),
      // The users come from a bounded scan of the event log (the API's `scan`).
      el('p', { class: 'muted', 'data-testid': 'who-scan', 'data-complete': String(who.scan_complete) },
        who.scan_complete === false
          ? 'Found in the first ' + fmtInt(who.scanned_events) + ' events of the log only: ' + who.note
          : 'From all ' + fmtInt(who.scanned_events) + ' events of the log.'));
  }
  return el('div', { class: 'panel', 'data-testid': 'who' }, el('h2', {}, 'Who interacts'),
    el('p', {}, el('span', { 'data-testid': 'item-total' }, fmtInt(who.total)), ' events'),
    types.length ? bars : el('p', { class: 'muted' }, 'No events yet.'), perDay, people);
}

// ---- quality: eval in the background --------------------------------------

// The metrics of GET /v1/eval's report, in the order of `recdb eval`.
const METRICS = [['ndcg@10', 'NDCG@10'], ['recall@20', 'Recall@20'], ['coverage@10', 'Coverage@10'],
                 ['ild@10', 'ILD@10'], ['novelty@10', 'Novelty@10'], ['gini@10', 'Gini@10'],
                 ['calibration_kl@10', 'Calib. KL@10'], ['long_tail_share@10', 'Long tail@10']];
// The beyond-accuracy metric each knob trades NDCG for (as `recdb eval --sweep` plots).
const SWEEP_X = { diversity: 'ild@10', calibration: 'calibration_kl@10', fair_share: 'gini@10',
                  exploration: 'coverage@10' };

function fmtNum(v, digits = 4) { return typeof v === 'number' ? v.toFixed(digits) : '—'; }

function evalTable(report) {
  const names = Object.keys(report.recommenders || {});
  return el('table', { class: 'metrics', 'data-testid': 'eval-table' },
    el('tr', {}, el('th', {}, 'recommender'), METRICS.map(([, label]) => el('th', {}, label)),
       el('th', {}, 'train s')),
    names.map((name) => {
      const m = report.recommenders[name];
      return el('tr', { 'data-recommender': name }, el('td', {}, name),
        METRICS.map(([k]) => el('td', { class: 'num' }, fmtNum(m[k]))),
        el('td', { class: 'num' }, fmtNum(m.train_s, 2)));
    }));
}

// NDCG@10 (y) against a beyond-accuracy metric (x) at each sweep value: one
// point per value, joined in order, labelled with the value; hovering a point
// shows every metric of it. `xKey` picks the x metric (a select redraws).
function sweepChart(report, xKey) {
  const pts = report.sweep || [];
  const W = 560, H = 300, left = 60, right = 20, top = 16, bottom = 44;
  const xs = pts.map((p) => p[xKey]), ys = pts.map((p) => p['ndcg@10']);
  const pad = (lo, hi) => (hi - lo > 1e-12 ? [lo, hi] : [lo - 0.5 * Math.abs(lo || 1) * 0.01 - 1e-3,
                                                         hi + 0.5 * Math.abs(hi || 1) * 0.01 + 1e-3]);
  const [x0, x1] = pad(Math.min(...xs), Math.max(...xs));
  const [y0, y1] = pad(Math.min(...ys), Math.max(...ys));
  const X = (v) => left + ((v - x0) / (x1 - x0)) * (W - left - right);
  const Y = (v) => top + (1 - (v - y0) / (y1 - y0)) * (H - top - bottom);
  const label = METRICS.find(([k]) => k === xKey)[1];
  const g = svg('svg', { class: 'sweep', width: W, height: H, role: 'img', 'data-testid': 'sweep-chart',
                         'aria-label': 'NDCG@10 against ' + label + ' as ' + report.sweep_knob + ' grows' });
  g.append(svg('line', { x1: left, y1: H - bottom, x2: W - right, y2: H - bottom, class: 'axis' }));
  g.append(svg('line', { x1: left, y1: top, x2: left, y2: H - bottom, class: 'axis' }));
  g.append(svg('text', { x: left, y: H - bottom + 16 }, fmtNum(x0, 3)));
  g.append(svg('text', { x: W - right, y: H - bottom + 16, 'text-anchor': 'end' }, fmtNum(x1, 3)));
  g.append(svg('text', { x: (left + W - right) / 2, y: H - 6, 'text-anchor': 'middle' }, label));
  g.append(svg('text', { x: left - 6, y: top + 10, 'text-anchor': 'end' }, fmtNum(y1, 3)));
  g.append(svg('text', { x: left - 6, y: H - bottom, 'text-anchor': 'end' }, fmtNum(y0, 3)));
  g.append(svg('text', { x: 12, y: (top + H - bottom) / 2, transform: `rotate(-90 12 ${(top + H - bottom) / 2})`,
                         'text-anchor': 'middle' }, 'NDCG@10'));
  g.append(svg('polyline', { class: 'curve', points: pts.map((p) => X(p[xKey]) + ',' + Y(p['ndcg@10'])).join(' ') }));
  for (const p of pts) {
    const tip = report.sweep_knob + ' = ' + p.value + '\n' +
                METRICS.map(([k, l]) => l + ' ' + fmtNum(p[k])).join('\n');
    g.append(svg('circle', { cx: X(p[xKey]), cy: Y(p['ndcg@10']), r: 5, class: 'point',
                             'data-value': p.value }, svg('title', {}, tip)));
    g.append(svg('text', { x: X(p[xKey]) + 7, y: Y(p['ndcg@10']) - 7, class: 'point-label' }, String(p.value)));
  }
  return g;
}

function sweepPanel(report) {
  if (!report.sweep || !report.sweep.length) return null;
  const box = el('div', {});
  const select = el('select', { id: 'sweep-x' }, METRICS.filter(([k]) => k !== 'ndcg@10').map(([k, l]) =>
    el('option', { value: k, selected: k === (SWEEP_X[report.sweep_knob] || 'ild@10') }, l)));
  const draw = () => box.replaceChildren(sweepChart(report, select.value));
  select.addEventListener('change', draw);
  draw();
  return el('div', { class: 'panel' },
    el('h2', {}, 'Care sweep: ' + report.sweep_knob + ' (fused list re-ranked)'),
    el('p', { class: 'muted' }, 'Each point is one value of the knob: NDCG@10 up, the chosen metric ' +
       'across. Hover a point for all its metrics. x axis: '), select, box,
    el('table', { class: 'metrics', 'data-testid': 'sweep-table' },
      el('tr', {}, el('th', {}, report.sweep_knob), METRICS.map(([, l]) => el('th', {}, l))),
      report.sweep.map((p) => el('tr', {}, el('td', {}, String(p.value)),
        METRICS.map(([k]) => el('td', { class: 'num' }, fmtNum(p[k])))))));
}

function evalStatusPanel(st) {
  if (st.state === 'idle') return el('p', { class: 'muted', 'data-testid': 'eval-state' }, 'No eval run yet.');
  const share = st.steps_total ? st.steps_done / st.steps_total : 0;
  const parts = [el('p', { 'data-testid': 'eval-state', 'data-state': st.state },
    'Job ' + st.job + ': ' + st.state + ', ' + fmtNum(st.seconds, 1) + ' s',
    st.state === 'running' ? ' — ' + (st.step || '') + ' (' + st.steps_done + ' of ' +
                             (st.steps_total || '?') + ' steps)' : '')];
  if (st.state === 'running') {
    parts.push(el('progress', { max: 1, value: share, 'data-testid': 'eval-progress' }));
  }
  if (st.state === 'running' && st.cancelling) {
    parts.push(el('p', { class: 'muted', 'data-testid': 'eval-cancelling' },
      'Cancelling: the evaluation stops before its next step.'));
  }
  if (st.state === 'failed') parts.push(el('p', { class: 'error' }, st.error.code + ': ' + st.error.message));
  if (st.state === 'cancelled') {
    parts.push(el('p', { class: 'muted', 'data-testid': 'eval-cancelled' },
      'Cancelled after ' + st.steps_done + ' of ' + (st.steps_total || '?') + ' steps (' + st.error.message + ').'));
  }
  parts.push(el('p', { class: 'muted' }, 'Request: ' + JSON.stringify(st.request)));
  return el('div', {}, parts);
}

let qualityGeneration = 0;  // a poll stops when the page is left or redrawn

async function renderQuality() {
  const mine = ++qualityGeneration;
  const recs = el('input', { type: 'text', id: 'eval-recommenders', size: 40,
                             placeholder: 'all (or e.g. mostpop,itemknn,ials)' });
  const knob = el('select', { id: 'eval-knob' }, el('option', { value: '' }, 'no sweep'),
    KNOBS.map(([k, l]) => el('option', { value: k, selected: k === 'diversity' }, l)));
  const num = (id, v) => el('input', { type: 'number', id, value: v, step: 'any', min: 0, max: 1, class: 'num' });
  const from = num('eval-from', 0), to = num('eval-to', 1), step = num('eval-step', 0.25);
  const status = el('div', { class: 'panel', id: 'eval-status' });
  const results = el('div', { id: 'eval-results' });
  const runButton = el('button', { type: 'button', class: 'primary', id: 'run-eval' }, 'Run eval');
  const runError = el('p', { class: 'error', id: 'eval-error' });
  // POST /v1/eval/cancel with the job's number, so a late click cannot stop a newer job.
  const cancelButton = el('button', { type: 'button', id: 'cancel-eval', hidden: true }, 'Cancel eval');
  let runningJob = null;

  const drawStatus = (st) => {
    status.replaceChildren(el('h2', {}, 'Status'), evalStatusPanel(st));
    runButton.disabled = st.state === 'running';
    runningJob = st.state === 'running' ? st.job : null;
    cancelButton.hidden = st.state !== 'running';
    cancelButton.disabled = !!st.cancelling;
    if (st.state === 'done') {
      results.replaceChildren(
        el('div', { class: 'panel' }, el('h2', {}, 'Accuracy and beyond-accuracy, per recommender'),
          el('p', { class: 'muted' }, fmtInt(st.report.users) + ' users, ' + fmtInt(st.report.items) +
             ' items, ' + fmtInt(st.report.test_users) + ' test users (per-user temporal 80/20 split).'),
          evalTable(st.report),
          Object.keys(st.report.fused_weights || {}).length
            ? el('p', { class: 'muted' }, 'Fusion weights learned on the training part: ' +
                 Object.entries(st.report.fused_weights).map(([k, w]) => k + ' ' + fmtNum(w, 3)).join(', '))
            : null),
        sweepPanel(st.report));
    } else if (st.state !== 'running') {
      results.replaceChildren();
    }
  };
  const poll = async () => {
    if (mine !== qualityGeneration) return;
    let st;
    try { st = await api('/v1/eval'); } catch (e) {
      if (e.status !== 401 && mine === qualityGeneration) status.replaceChildren(errorPanel(e));
      return;
    }
    if (mine !== qualityGeneration) return;
    drawStatus(st);
    if (st.state === 'running') setTimeout(poll, 500);
  };
  cancelButton.addEventListener('click', async () => {
    runError.textContent = '';
    if (runningJob === null) return;
    cancelButton.disabled = true;
    try {
      drawStatus(await api('/v1/eval/cancel', { method: 'POST', body: { job: runningJob } }));
    } catch (e) {
      // 409: it finished (or another job runs) meanwhile; the poll shows which.
      if (e.status !== 401) runError.textContent = e.message;
    }
  });
    runButton.addEventListener('click', async () => {
    runError.textContent = '';
    const body = {};
    const names = recs.value.split(',').map((s) => s.trim()).filter(Boolean);
    if (names.length) body.recommenders = names;
    if (knob.value) {
      body.sweep = { knob: knob.value, from: Number(from.value), to: Number(to.value), step: Number(step.value) };
    }
    try {
      drawStatus(await api('/v1/eval', { method: 'POST', body }));
      setTimeout(poll, 500);
    } catch (e) { if (e.status !== 401) runError.textContent = e.message; }
  });

  show(el('h1', {}, 'Quality'),
    el('div', { class: 'panel' }, el('h2', {}, 'Run an offline evaluation'),
      el('p', { class: 'muted' }, 'POST /v1/eval runs `recdb eval` in the background (one at a time; ' +
         'the server keeps answering); this page polls GET /v1/eval. The sweep re-ranks the fused list ' +
         'with one care knob from → to by step, as `recdb eval --sweep KNOB=FROM:TO:STEP`.'),
      el('div', { class: 'form-grid' },
        el('label', { for: 'eval-recommenders' }, 'Recommenders'), recs,
        el('label', { for: 'eval-knob' }, 'Sweep'), el('span', {}, knob, ' from ', from, ' to ', to, ' step ', step)),
      runButton, ' ', cancelButton, runError),
    status, results);
  await poll();
}

// ---- privacy and backups ---------------------------------------------------

function auditTable(doc) {
  const entries = doc.entries.slice().reverse();  // newest first
  if (!entries.length) return el('p', { class: 'muted', 'data-testid': 'audit' }, 'The audit log is empty.');
  return el('table', { 'data-testid': 'audit' },
    el('tr', {}, ['#', 'when', 'operation', 'subject (keyed hash)', 'counts'].map((h) => el('th', {}, h))),
    entries.map((e) => el('tr', { 'data-operation': e.operation },
      el('td', {}, e.sequence), el('td', {}, fmtTime(e.timestamp)), el('td', {}, e.operation),
      el('td', { class: 'mono', title: e.subject }, e.subject ? e.subject.slice(0, 16) + '…' : '—'),
      el('td', {}, Object.entries(e.counts || {}).map(([k, v]) => k + '=' + v).join(' ')))));
}

function snapshotRow(s, onVerify) {
  const result = el('td', { class: 'verify-result' }, s.problem ? el('span', { class: 'error' }, s.problem) : '');
  const verify = el('button', { type: 'button', class: 'verify', 'data-snapshot': s.name }, 'Verify');
  verify.addEventListener('click', async () => {
    verify.disabled = true;
    result.replaceChildren('verifying…');
    try {
      const v = await api('/v1/snapshots/' + enc(s.name) + '/verify', { method: 'POST' });
      result.replaceChildren(v.ok
        ? el('span', { class: 'ok', 'data-testid': 'verify-ok' }, '✓ ' + fmtInt(v.files) + ' files, ' +
             fmtBytes(v.bytes_read) + ' re-read, all checksums match')
        : el('span', { class: 'error', 'data-testid': 'verify-bad' },
             '✗ ' + v.problems.map((p) => p.file + ': ' + p.message).join('; ')));
    } catch (e) { if (e.status !== 401) result.replaceChildren(errorPanel(e)); }
    verify.disabled = false;
    if (onVerify) onVerify();
  });
  return el('tr', { 'data-snapshot': s.name }, el('td', {}, s.name),
    el('td', {}, fmtTime(Math.floor(s.created_unix_micros / 1e6))), el('td', {}, fmtInt(s.sequence_number)),
    el('td', {}, fmtInt(s.files)), el('td', {}, fmtBytes(s.bytes)), el('td', {}, fmtBytes(s.unique_bytes)),
    el('td', {}, verify), result);
}

async function renderPrivacy() {
  const audit = await api('/v1/audit?limit=200');
  const backups = el('div', { id: 'backups' });
  const loadBackups = async () => {
    let doc;
    try { doc = await api('/v1/snapshots'); } catch (e) {
      if (e.status === 401) throw e;
      backups.replaceChildren(el('p', { class: 'muted', 'data-testid': 'backups-off' }, e.message));
      return;
    }
    const create = el('button', { type: 'button', class: 'primary', id: 'create-backup' }, 'Create a backup now');
    const createMsg = el('span', { class: 'muted', id: 'create-result' });
    create.addEventListener('click', async () => {
      create.disabled = true;
      createMsg.textContent = ' creating…';
      try {
        const s = await api('/v1/snapshots', { method: 'POST' });
        await loadBackups();
        document.getElementById('create-result').textContent = ' created ' + s.name + ' in ' +
          fmtNum(s.seconds, 2) + ' s (' + fmtBytes(s.unique_bytes) + ' new).';
      } catch (e) {
        if (e.status !== 401) { createMsg.textContent = ' ' + e.message; create.disabled = false; }
      }
    });
    backups.replaceChildren(
      el('p', { class: 'muted' }, 'Backup directory: ', el('span', { class: 'mono' }, doc.backup_dir)),
      doc.snapshots.length
        ? el('table', { 'data-testid': 'snapshots' },
            el('tr', {}, ['snapshot', 'created', 'sequence', 'files', 'bytes', 'new bytes', '', 'verify']
              .map((h) => el('th', {}, h))),
            doc.snapshots.slice().reverse().map((s) => snapshotRow(s)))
        : el('p', { class: 'muted', 'data-testid': 'snapshots' }, 'No snapshots yet.'),
      el('p', {}, create, createMsg));
  };
  show(el('h1', {}, 'Privacy and backups'),
    el('div', { class: 'panel' }, el('h2', {}, 'Audit log ',
        el('span', { class: 'muted' }, audit.total + ' entries' + (audit.total > 200 ? ' (latest 200 shown)' : ''))),
      el('p', { class: 'muted' }, 'Every privacy operation (forget, unforget, export, consent change, ' +
         'retention sweep, key rotation), newest first. The subject is a keyed hash, never an id.'),
      el('div', { class: 'timeline' }, auditTable(audit))),
    el('div', { class: 'panel' }, el('h2', {}, 'Backups'),
      el('p', { class: 'muted' }, 'Snapshots of the database (GET /v1/snapshots). Verify re-reads every ' +
         'file of a snapshot and compares its size and CRC-32C with the manifest.'), backups));
  await loadBackups();
}

// ---- start -----------------------------------------------------------------

document.getElementById('logout').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  itemCache.clear();
  toLogin('Logged out.');
});
window.addEventListener('hashchange', route);
route();
