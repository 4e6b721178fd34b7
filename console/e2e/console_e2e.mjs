// End-to-end test of the recdb web console in a real headless browser
// (Debian's chromium driven by playwright-core; no browser download).
//
//   node console_e2e.mjs RECDB_BINARY OUT_DIR
//
// Builds a database (ml-100k from ../shared/data/ml-100k or $RECDB_ML100K
// when present, else a small generated one), trains it, starts `recdb serve`
// on a random loopback port, and checks: the API answers 401 without or with a
// wrong token and the console then shows only its login page; logging in
// shows the overview with the server's counts; a user's page shows history,
// recommendations with contribution bars and explanations; moving the
// diversity slider changes the list and highlights the change; an item's page
// shows its record, similar items and its neighbours per embedding space;
// the user's timeline pages newest first as the API does; an item's "who
// interacts" panel shows the API's counts by type and day and its users;
// forgetting a user shows a receipt and the user is gone (the page and the API
// say so); the overview's events-per-day chart, last training run and
// retention policy (with the last sweep) match the API; the quality
// page cancels a long eval from its button, then runs an eval in the background (the server answers and refuses a second
// one meanwhile) and shows its table and sweep chart; the privacy page shows
// the audit log and creates and verifies a backup; every request the page
// makes goes to the server's loopback address; no Content-Security-Policy
// violation and no script error. Screenshots go to OUT_DIR. The server is
// stopped by its pid at the end. Exit 0: all passed; 1: a check failed.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const [recdb, outDir] = process.argv.slice(2);
if (!recdb || !outDir) {
  console.error('usage: console_e2e.mjs RECDB_BINARY OUT_DIR');
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'recdb-console-e2e-'));
const dbDir = path.join(work, 'db');
let failures = 0;
let server = null;

function check(cond, what) {
  console.log((cond ? 'ok   ' : 'FAIL ') + what);
  if (!cond) failures++;
}

function run(args) {
  const r = spawnSync(recdb, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`recdb ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

// ---- the database ----------------------------------------------------------

const ml = process.env.RECDB_ML100K ||
  path.resolve(here, '../../../shared/data/ml-100k');
let usingMl = fs.existsSync(path.join(ml, 'u.data'));
if (usingMl) {
  run(['import', dbDir, '--create', '--movielens', ml]);
} else {
  // 40 items in 4 categories, 30 users, each with 12 events on 2 favourite
  // categories: enough for every recommender and for diversity to matter.
  const cats = ['Comedy', 'Drama', 'Horror', 'Sci-Fi'];
  const itemsF = path.join(work, 'items.jsonl');
  const usersF = path.join(work, 'users.jsonl');
  const eventsF = path.join(work, 'events.jsonl');
  let rnd = 12345;
  const next = () => (rnd = (rnd * 1103515245 + 12345) % 2147483648) / 2147483648;
  fs.writeFileSync(itemsF, Array.from({ length: 40 }, (_, i) => JSON.stringify(
    { id: 'i' + i, title: 'Item ' + i, categories: [cats[i % 4]] })).join('\n') + '\n');
  fs.writeFileSync(usersF, Array.from({ length: 30 }, (_, u) => JSON.stringify(
    { id: String(u + 1) })).join('\n') + '\n');
  const ev = [];
  for (let u = 0; u < 30; u++) {
    for (let e = 0; e < 12; e++) {
      const cat = (u + (e % 2)) % 4;
      const item = cat + 4 * Math.floor(next() * 10);
      ev.push(JSON.stringify({ user: String(u + 1), item: 'i' + item, type: 'view',
                               ts: 1700000000 + u * 1000 + e * 60 }));
    }
  }
  fs.writeFileSync(eventsF, ev.join('\n') + '\n');
  run(['import', dbDir, '--create', '--items', itemsF, '--users', usersF, '--events', eventsF]);
}
// An embedding space (the built-in text model: no download) for the item
// page's per-space neighbours.
run(['embed', dbDir, '--space', 'text', '--builtin', '--fields', 'title,categories']);
run(['train', dbDir]);
// A retention policy for the server (through the options file, as an
// application would set it) that deletes nothing here (neither dataset has
// clicks), and one sweep before it starts, for the overview's retention panel.
const optionsFile = path.join(work, 'options.json');
fs.writeFileSync(optionsFile, JSON.stringify({ retention: {
  ttl_seconds_by_type: { click: 30 * 86400 }, max_events_per_user: 5000,
  sweep_interval_seconds: 86400 } }));
const withOptions = { ...process.env, RECDB_OPTIONS_FILE: optionsFile };
const swept = spawnSync(recdb, ['retention', dbDir, 'sweep', '--json'], { encoding: 'utf8', env: withOptions });
if (swept.status !== 0) throw new Error('recdb retention sweep failed: ' + swept.stderr);
console.log(`database: ${usingMl ? 'ml-100k' : 'generated'} in ${dbDir}`);

// ---- the server ------------------------------------------------------------

const token = crypto.randomBytes(16).toString('hex');
const tokenFile = path.join(work, 'token');
fs.writeFileSync(tokenFile, token + '\n', { mode: 0o600 });
server = spawn(recdb, ['serve', dbDir, '--port', '0', '--token-file', tokenFile,
                      '--backup-dir', path.join(work, 'backups')],
               { stdio: ['ignore', 'pipe', 'inherit'], env: withOptions });
const ready = await new Promise((resolve, reject) => {
  const rl = readline.createInterface({ input: server.stdout });
  rl.once('line', (line) => resolve(JSON.parse(line)));
  server.once('exit', (code) => reject(new Error('recdb serve exited with ' + code)));
  setTimeout(() => reject(new Error('recdb serve did not start in 120 s')), 120000);
});
const origin = `http://127.0.0.1:${ready.port}`;
console.log(`server: ${origin} pid ${ready.pid}`);

async function apiStatus(p, tok) {
  const res = await fetch(origin + p, tok ? { headers: { Authorization: 'Bearer ' + tok } } : {});
  return { status: res.status, body: await res.json().catch(() => null) };
}

let browser = null;
try {
  // ---- the API's own answer to a missing or wrong token ----
  check((await apiStatus('/v1/stats')).status === 401, 'API: no token is 401');
  check((await apiStatus('/v1/stats', 'wrong')).status === 401, 'API: wrong token is 401');
  const stats = (await apiStatus('/v1/stats', token)).body;
  check(stats && stats.users > 0, 'API: stats with the token');
  const consoleRes = await fetch(origin + '/console/');
  const csp = consoleRes.headers.get('content-security-policy') || '';
  check(consoleRes.status === 200 && /default-src 'self'/.test(csp) && !/unsafe-inline/.test(csp),
        'console: served without a token, with a strict CSP');
  check(consoleRes.headers.get('content-type').startsWith('text/html'), 'console: text/html');
  const js = await fetch(origin + '/console/app.js');
  check(js.headers.get('content-type').startsWith('text/javascript'), 'console: app.js is text/javascript');

  browser = await chromium.launch({
    executablePath: process.env.RECDB_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const requests = [];
  const problems = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push('console: ' + m.text());
  });
  const shot = async (name) => page.screenshot({ path: path.join(outDir, name + '.png'), fullPage: true });

  // ---- no token: login page only ----
  await page.goto(origin + '/console/#/overview');
  await page.waitForSelector('#login-form');
  check(await page.locator('[data-testid=users]').count() === 0, 'no token: login page, no data');
  await page.fill('#token', 'not-the-token');
  await page.click('input[type=submit]');
  await page.waitForFunction(() => document.querySelector('#login-error').textContent.includes('Wrong'));
  check(await page.locator('[data-testid=users]').count() === 0, 'wrong token: stays on login, no data');
  await shot('login-wrong-token');
  // A stale token in the session: the first 401 returns to the login page.
  await page.evaluate(() => sessionStorage.setItem('recdb.token', 'stale'));
  await page.goto(origin + '/console/#/user/1');
  await page.waitForSelector('#login-form');
  check(await page.locator('[data-testid=history]').count() === 0 &&
        await page.evaluate(() => sessionStorage.getItem('recdb.token')) === null,
        'stale token: 401 clears it and shows the login page, no data');

  // ---- log in: overview ----
  await page.fill('#token', token);
  await page.click('input[type=submit]');
  await page.waitForSelector('[data-testid=users]');
  const shownUsers = await page.textContent('[data-testid=users]');
  check(shownUsers === stats.users.toLocaleString('en-US'), `overview: users ${shownUsers}`);
  check(await page.textContent('[data-testid=events]') === stats.events.toLocaleString('en-US'),
        'overview: events match /v1/stats');
  check(!page.url().includes(token), 'the token is not in the URL');
  const daily = (await apiStatus('/v1/stats/events_per_day', token)).body;
  await page.waitForSelector('[data-testid=events-per-day] svg rect.day');
  check(await page.locator('[data-testid=events-per-day] svg rect.day').count() === daily.days.length &&
        daily.days.length > 0 &&
        await page.getAttribute('[data-testid=events-per-day]', 'data-total') === String(daily.total),
        `overview: events-per-day chart has a bar for each of the ${daily.days.length} days of the API`);
  check(daily.total === stats.events, `events per day sum to the events of /v1/stats (${daily.total})`);
  // The time-range picker: a sub-range of the days redraws the chart with
  // exactly the days of GET /v1/stats/events_per_day?from=&to=; a reversed
  // range shows the API's 400 message and leaves the chart; "All time" restores it.
  {
    const a = daily.days[Math.min(10, daily.days.length - 1)], b = daily.days[Math.min(40, daily.days.length - 1)];
    const from = Date.UTC(...a.date.split('-').map((x, i) => Number(x) - (i === 1 ? 1 : 0))) / 1000;
    const to = Date.UTC(...b.date.split('-').map((x, i) => Number(x) - (i === 1 ? 1 : 0))) / 1000 + 86400;
    const sub = (await apiStatus(`/v1/stats/events_per_day?from=${from}&to=${to}`, token)).body;
    await page.fill('#daily-from', a.date);
    await page.fill('#daily-to', b.date);
    await page.click('#daily-apply');
    await page.waitForFunction((t) => document.querySelector('[data-testid=events-per-day]')
      .getAttribute('data-total') === t, String(sub.total));
    check(await page.locator('[data-testid=events-per-day] svg rect.day').count() === sub.days.length &&
          sub.days.length > 0 && sub.days[0].date === a.date && sub.days[sub.days.length - 1].date === b.date &&
          sub.total < daily.total,
          `overview: the range ${a.date} to ${b.date} shows the API's ${sub.days.length} days, ${sub.total} events`);
    await shot('overview-range');
    await page.fill('#daily-from', b.date);
    await page.fill('#daily-to', a.date);
    await page.click('#daily-apply');
    await page.waitForFunction(() => document.querySelector('[data-testid=daily-range-error]').textContent !== '');
    const bad = await apiStatus(`/v1/stats/events_per_day?from=${to - 86400}&to=${from + 86400}`, token);
    check(bad.status === 400 && (await page.textContent('[data-testid=daily-range-error]')).includes('from: must be before to') &&
          await page.locator('[data-testid=events-per-day] svg rect.day').count() === sub.days.length,
          'overview: a reversed range shows the API\'s 400 message and keeps the chart');
    await page.click('#daily-all');
    await page.waitForFunction((t) => document.querySelector('[data-testid=events-per-day]')
      .getAttribute('data-total') === t, String(daily.total));
    check(await page.textContent('[data-testid=daily-range-error]') === '' &&
          await page.locator('[data-testid=events-per-day] svg rect.day').count() === daily.days.length,
          'overview: "All time" shows every day again');
  }
  check((await page.textContent('[data-testid=spaces]')).includes('text'), 'overview: the embedding space is listed');
  // The last training run: what GET /v1/model says, component by component.
  const model = (await apiStatus('/v1/model', token)).body;
  const lastTrain = '[data-testid=last-train]';
  check(model.model_version > 0 && model.model_version === stats.model_version &&
        await page.getAttribute(lastTrain, 'data-version') === String(model.model_version) &&
        await page.getAttribute(lastTrain, 'data-trained-at') === String(model.trained_at) &&
        model.trained_at > 1600000000,
        `overview: last training run is model ${model.model_version}, trained at ${model.trained_at}`);
  const isoMinute = new Date(model.trained_at * 1000).toISOString().replace('T', ' ').slice(0, 16);
  check((await page.textContent('[data-testid=trained-at]')).startsWith(isoMinute),
        `overview: trained at ${isoMinute} UTC`);
  check(model.validation_ndcg > 0 &&
        await page.textContent('[data-testid=validation-ndcg]') === model.validation_ndcg.toFixed(4),
        `overview: validation NDCG@10 ${model.validation_ndcg.toFixed(4)} (the stored weights' learning run)`);
  const comps = await page.$$eval(`${lastTrain} tr[data-component]`, (rows) => rows.map((r) => ({
    name: r.dataset.component,
    seconds: r.querySelector('[data-field=seconds]').textContent,
    weight: r.querySelector('[data-field=weight]').textContent })));
  const apiNames = [...new Set([...Object.keys(model.weights), ...Object.keys(model.seconds_by_recommender)])];
  check(comps.length === apiNames.length && apiNames.length > 2 &&
        Object.keys(model.seconds_by_recommender).includes('blend') &&
        comps.every((c) => (c.name in model.weights ? model.weights[c.name].toFixed(3) : '—') === c.weight &&
                           (c.name in model.seconds_by_recommender
                             ? model.seconds_by_recommender[c.name].toFixed(2) : '—') === c.seconds),
        `overview: ${comps.length} components with the fit seconds and fusion weights of /v1/model`);
  // Retention: the server's policy and the sweep run before it started.
  check(stats.retention && stats.retention.ttl_seconds_by_type.click === 30 * 86400 &&
        stats.retention.max_events_per_user === 5000 && stats.last_retention_sweep > 1600000000,
        `API: /v1/stats has the options file's retention policy and the last sweep (${stats.last_retention_sweep})`);
  const rule = async (r) => page.textContent(`[data-testid=retention] tr[data-rule="${r}"] [data-field=value]`);
  check(await rule('ttl:click') === '30 days' && await rule('max_events_per_user') === 'the newest 5,000' &&
        await rule('sweep_interval_seconds') === 'every 1 day' &&
        await rule('delete_inactive_users_after_days') === 'never',
        'overview: the retention rules as /v1/stats reports them');
  check(await page.getAttribute('[data-testid=last-sweep]', 'data-at') === String(stats.last_retention_sweep) &&
        (await page.textContent('[data-testid=last-sweep]')).startsWith(
          new Date(stats.last_retention_sweep * 1000).toISOString().replace('T', ' ').slice(0, 16)),
        'overview: the last sweep time of /v1/stats');
  await shot('overview');

  // ---- a user: history, recommendations, diversity slider ----
  const user = '1';
  await page.fill('#open-user input[name=user]', user);
  await page.click('#open-user input[type=submit]');
  await page.waitForSelector('[data-testid=before] li[data-item]');
  const hist = (await apiStatus(`/v1/users/${user}/history`, token)).body;
  check((await page.textContent('[data-testid=history-count]')).startsWith(hist.count + ' events'),
        `user: history shows ${hist.count} events`);
  // The timeline: the API's newest-first page, entry for entry, then the next
  // page after "Show more".
  const tlEntries = () => page.$$eval('[data-testid=history] li.tl-event',
    (l) => l.map((x) => `${x.dataset.item}@${x.dataset.ts}:${x.dataset.type}`));
  const asEntries = (doc) => doc.events.map((e) => `${e.item}@${e.ts}:${e.type}`);
  const page1 = (await apiStatus(`/v1/users/${user}/history?order=newest&limit=50`, token)).body;
  const shownTl = await tlEntries();
  check(shownTl.length === Math.min(50, hist.count) && shownTl.join() === asEntries(page1).join(),
        `timeline: the ${shownTl.length} newest events, as GET .../history?order=newest&limit=50`);
  const tlTimes = shownTl.map((x) => Number(x.split('@')[1].split(':')[0]));
  check(tlTimes.every((t, i) => i === 0 || tlTimes[i - 1] >= t), 'timeline: newest first');
  check(await page.locator('[data-testid=history] li.tl-day').count() > 0 &&
        await page.locator('[data-testid=history] li.tl-event svg.dot circle').count() === shownTl.length,
        'timeline: day headings and a type dot per event');
  if (page1.next_offset !== undefined) {
    await page.click('#history-more');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=history] li.tl-event').length > n,
                               shownTl.length);
    const page2 = (await apiStatus(`/v1/users/${user}/history?order=newest&limit=50&offset=${page1.next_offset}`,
                                   token)).body;
    const both = await tlEntries();
    check(both.join() === asEntries(page1).concat(asEntries(page2)).join(),
          `timeline: "Show more" appends the next ${page2.count} events (offset ${page1.next_offset})`);
    check(await page.isHidden('#history-more') === (page2.next_offset === undefined),
          'timeline: "Show more" stays only while more events follow');
  } else {
    console.log(`note: user ${user} has ${hist.count} events, one page; "Show more" not exercised`);
  }
  await page.locator('.panel', { has: page.locator('[data-testid=history]') })
    .screenshot({ path: path.join(outDir, 'user-timeline.png') });
  // The timeline's range picker: the day of the user's newest event, as
  // GET .../history?order=newest&from=&to= pages it; a reversed range is the API's 400.
  {
    const day = new Date(page1.events[0].ts * 1000).toISOString().slice(0, 10);
    const from = Date.UTC(...day.split('-').map((x, i) => Number(x) - (i === 1 ? 1 : 0))) / 1000;
    const ranged = (await apiStatus(`/v1/users/${user}/history?order=newest&limit=50&from=${from}&to=${from + 86400}`,
                                    token)).body;
    await page.fill('#history-from', day);
    await page.fill('#history-to', day);
    await page.click('#history-apply');
    await page.waitForFunction((n) => document.querySelector('[data-testid=history-count]').textContent ===
                                      n + ' events in the range', ranged.total);
    const inRange = await tlEntries();
    check(inRange.join() === asEntries(ranged).join() && ranged.total > 0 && ranged.total < hist.count &&
          await page.locator('[data-testid=history] li.tl-day').count() === 1,
          `timeline: the range ${day} shows the API's ${ranged.total} events of that day`);
    await page.locator('.panel', { has: page.locator('[data-testid=history]') })
      .screenshot({ path: path.join(outDir, 'user-timeline-range.png') });
    await page.fill('#history-from', '2030-01-02');
    await page.fill('#history-to', '2030-01-01');
    await page.click('#history-apply');
    await page.waitForFunction(() => document.querySelector('[data-testid=history-range-error]').textContent !== '');
    check((await page.textContent('[data-testid=history-range-error]')).includes('from: must be before to') &&
          (await tlEntries()).join() === inRange.join(),
          'timeline: a reversed range shows the API\'s 400 message and keeps the list');
    await page.click('#history-all');
    await page.waitForFunction((n) => document.querySelector('[data-testid=history-count]').textContent === n + ' events',
                               hist.count);
    check((await tlEntries()).join() === asEntries(page1).join(), 'timeline: "All time" shows the newest 50 again');
  }
  check(await page.locator('[data-testid=before] svg.bars rect').count() > 0,
        'user: contribution bars drawn');
  check((await page.locator('[data-testid=before] .sentence').count()) > 0,
        'user: explanation sentences shown');
  const before = await page.$$eval('[data-testid=before] li[data-item]', (l) => l.map((x) => x.dataset.item));
  const zero = '&calibration=0&fair_share=0&exploration=0';
  await page.focus('#diversity');
  // Native key presses on the slider (input + change events, as a user's).
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
  await page.waitForSelector('#recs[data-diversity="0.3"]');
  const mid = await page.$$eval('[data-testid=after] li[data-item]', (l) => l.map((x) => x.dataset.item));
  const apiMid = (await apiStatus(`/v1/recommend?user=${user}&k=10&diversity=0.3${zero}`, token)).body;
  check(mid.length > 0 && apiMid.items.map((r) => r.id).join() === mid.join(),
        'slider at 0.3: the list equals the API with diversity=0.3');
  await shot('user-diversity-0.3');
  await page.keyboard.press('End');  // the slider to 1.0
  await page.waitForSelector('#recs[data-diversity="1.0"]');
  const after = await page.$$eval('[data-testid=after] li[data-item]', (l) => l.map((x) => x.dataset.item));
  check(before.length > 0 && after.length > 0 && before.join() !== after.join(),
        `slider: the list changed (${before.length} -> ${after.length} items)`);
  const highlighted = await page.locator('[data-testid=after] li.new, [data-testid=after] .tag.moved').count();
  check(highlighted > 0, `slider: ${highlighted} changes highlighted`);
  const apiAfter = (await apiStatus(`/v1/recommend?user=${user}&k=10&diversity=1${zero}`, token)).body;
  check(apiAfter.items.map((r) => r.id).join() === after.join(), 'slider: list equals the API with diversity=1');
  await shot('user');
  // Another knob: diversity back to 0, calibration to 1.
  await page.keyboard.press('Home');
  await page.waitForSelector('#recs[data-diversity="0.0"]');
  await page.focus('#calibration');
  await page.keyboard.press('End');
  await page.waitForSelector('#recs[data-calibration="1.0"]');
  const calibrated = await page.$$eval('[data-testid=after] li[data-item]', (l) => l.map((x) => x.dataset.item));
  const apiCal = (await apiStatus(
    `/v1/recommend?user=${user}&k=10&diversity=0&calibration=1&fair_share=0&exploration=0`, token)).body;
  check(calibrated.length > 0 && apiCal.items.map((r) => r.id).join() === calibrated.join(),
        `calibration slider: the list equals the API with calibration=1 (${
          calibrated.filter((id) => !before.includes(id)).length} of ${calibrated.length} items new)`);
  await shot('user-calibration-1.0');

  // ---- an item: record and similar items ----
  const itemId = before[0];
  await page.click(`[data-testid=before] li[data-item="${itemId}"] a`);
  await page.waitForSelector('[data-testid=record]');
  await page.waitForSelector('[data-testid=similar] li');
  check(await page.textContent('[data-testid=item-id]') === itemId, `item: page of ${itemId}`);
  check(await page.locator('[data-testid=similar] li[data-item]').count() > 0, 'item: similar items listed');
  await page.waitForSelector('[data-testid=neighbors-text] li[data-item]');
  const shownNn = await page.$$eval('[data-testid=neighbors-text] li[data-item]', (l) => l.map((x) => x.dataset.item));
  const apiNn = (await apiStatus(`/v1/spaces/text/neighbors?item=${encodeURIComponent(itemId)}&k=10`, token)).body;
  check(shownNn.length > 0 && apiNn.items.map((r) => r.id).join() === shownNn.join(),
        `item: ${shownNn.length} nearest neighbours in space "text", as GET /v1/spaces/text/neighbors`);
  // Who interacts: the counts of GET /v1/items/{id}/interactions and, as this
  // server has no aggregate privacy, its latest users.
  const who = (await apiStatus(`/v1/items/${encodeURIComponent(itemId)}/interactions?users=20`, token)).body;
  await page.waitForSelector('[data-testid=who]');
  check(await page.textContent('[data-testid=item-total]') === who.total.toLocaleString('en-US') && who.total > 0,
        `item: who interacts, ${who.total} events as the API says`);
  const shownTypes = await page.$$eval('[data-testid=who-types] rect',
                                       (l) => l.map((x) => `${x.dataset.type}=${x.dataset.count}`).sort());
  check(shownTypes.length > 0 &&
        shownTypes.join() === Object.entries(who.by_type).map(([t, n]) => `${t}=${n}`).sort().join(),
        `item: a bar per event type (${shownTypes.join(' ')})`);
  check(await page.locator('[data-testid=who-per-day] rect.day').count() === who.by_day.length,
        `item: a bar per day with events (${who.by_day.length})`);
  const whoUsers = await page.$$eval('[data-testid=who-users] tr[data-user]', (l) => l.map((x) => x.dataset.user));
  check(who.aggregate_privacy === false && whoUsers.length > 0 &&
        whoUsers.join() === who.users.map((u) => u.user).join() &&
        await page.textContent('[data-testid=who-distinct]') === who.distinct_users.toLocaleString('en-US'),
        `item: ${whoUsers.length} latest of ${who.distinct_users} users listed (no aggregate privacy here)`);
  check(who.scan_complete === true && who.scanned_events === stats.events &&
        await page.getAttribute('[data-testid=who-scan]', 'data-complete') === 'true',
        `item: the users come from a scan of all ${who.scanned_events} events (under the default bound)`);
  await shot('item');

  // ---- how long a page takes, against one API call of the same run ----
  const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const timeIt = async (fn) => { const t = performance.now(); await fn(); return performance.now() - t; };
  const anchor = [], userMs = [], itemMs = [], overviewMs = [];
  for (const [n, u] of ['5', '6', '7'].entries()) {
    anchor.push(await timeIt(() => apiStatus(`/v1/recommend?user=${u}&k=10&explain=true`, token)));
    userMs.push(await timeIt(async () => {
      await page.evaluate((h) => { location.hash = h; }, '#/user/' + u);
      await page.waitForSelector(`[data-testid=user-id]:text-is("${u}")`);
      await page.waitForSelector('[data-testid=before] li[data-item]');
    }));
    const it = before[(n + 1) % before.length];
    itemMs.push(await timeIt(async () => {
      await page.evaluate((h) => { location.hash = h; }, '#/item/' + it);
      await page.waitForSelector(`[data-testid=item-id]:text-is("${it}")`);
      await page.waitForSelector('[data-testid=similar] li[data-item]');
    }));
    overviewMs.push(await timeIt(async () => {
      await page.evaluate(() => { location.hash = '#/overview'; });
      await page.waitForSelector('[data-testid=users]');
    }));
  }
  const a = median(anchor);
  console.log(`timing (median of 3): one GET /v1/recommend ${a.toFixed(0)} ms; ` +
              `user page ${median(userMs).toFixed(0)} ms (${(median(userMs) / a).toFixed(1)}x), ` +
              `item page ${median(itemMs).toFixed(0)} ms (${(median(itemMs) / a).toFixed(1)}x), ` +
              `overview ${median(overviewMs).toFixed(0)} ms (${(median(overviewMs) / a).toFixed(1)}x)`);
  // A loose bound (the machine is shared): a page that takes seconds fails.
  check(Math.max(median(userMs), median(itemMs), median(overviewMs)) < 3000,
        'every page renders in under 3 s (median of 3)');

  // ---- forget a user ----
  const victim = '2';
  await page.goto(origin + `/console/#/user/${victim}`);
  await page.waitForSelector('[data-testid=history]');
  check((await page.textContent('[data-testid=consent]')).includes('personalization'),
        'user: consent shown');
  await page.click('#export');
  await page.waitForSelector('[data-testid=export]');
  check((await page.textContent('[data-testid=export]')).includes('"events"'), 'user: export shown');
  await page.click('#forget');
  await page.waitForSelector('#forget-confirm');
  await shot('forget-confirm');
  await page.click('#forget-yes');
  await page.waitForSelector('[data-testid=receipt]');
  const receipt = await page.textContent('[data-testid=receipt]');
  check(receipt.includes('events_removed') && receipt.includes('ledger_hash'), 'forget: receipt shown');
  await shot('forget-receipt');
  await page.click('#reload-user');
  await page.waitForSelector('[data-testid=error]');
  check(/no user/.test(await page.textContent('[data-testid=error]')), 'forget: the page says the user is gone');
  check((await apiStatus(`/v1/users/${victim}/history`, token)).status === 404,
        'forget: the API says the user is gone');
  await shot('forgotten');

  // ---- quality: an eval in the background, its table and sweep chart ----
  // A quick eval: three recommenders (fused is added by the sweep) and a
  // 3-point diversity sweep, instead of every recommender.
  await page.goto(origin + '/console/#/quality');
  await page.waitForSelector('#run-eval');
  // First a long eval (every recommender, no sweep) cancelled from its button:
  // the job stops at its next checkpoint and reports "cancelled".
  await page.fill('#eval-recommenders', '');
  await page.selectOption('#eval-knob', '');
  await page.click('#run-eval');
  await page.waitForSelector('[data-testid=eval-state][data-state=running], [data-testid=eval-state][data-state=done]');
  // Cancel once the first step has begun, so the stop is mid-run, not before it.
  for (let i = 0; i < 600; i++) {
    const st = (await apiStatus('/v1/eval', token)).body;
    if (st.state !== 'running' || st.steps_total > 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (await page.locator('#cancel-eval:visible').count() === 1) {
    const tCancel = performance.now();
    await page.click('#cancel-eval');
    await page.waitForSelector('[data-testid=eval-state][data-state=cancelled], [data-testid=eval-state][data-state=done]',
                               { timeout: 120000 });
    const cancelled = (await apiStatus('/v1/eval', token)).body;
    check(cancelled.state === 'cancelled' && cancelled.error.code === 'aborted' &&
          cancelled.steps_done < cancelled.steps_total &&
          await page.locator('[data-testid=eval-cancelled]').count() === 1 &&
          await page.locator('#cancel-eval:visible').count() === 0,
          `quality: Cancel stopped job ${cancelled.job} after ${cancelled.steps_done} of ` +
          `${cancelled.steps_total} steps, ${((performance.now() - tCancel) / 1000).toFixed(1)} s after the click`);
    await shot('quality-cancelled');
  } else {
    console.log('note: the eval finished before Cancel could be clicked');
  }
  await page.fill('#eval-recommenders', 'mostpop,itemknn,ials');
  await page.selectOption('#eval-knob', 'diversity');
  await page.fill('#eval-step', '0.5');
  const evalStart = performance.now();
  await page.click('#run-eval');
  await page.waitForSelector('[data-testid=eval-state][data-state=running], [data-testid=eval-state][data-state=done]');
  const during = (await apiStatus('/v1/eval', token)).body;
  if (during.state === 'running') {
    const t0 = performance.now();
    const statsWhile = await apiStatus('/v1/stats', token);
    const again = await fetch(origin + '/v1/eval', { method: 'POST', body: '{}',
      headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' } });
    check(statsWhile.status === 200 && again.status === 409,
          `eval running (${during.step}, ${during.steps_done} of ${during.steps_total} steps): ` +
          `GET /v1/stats answers in ${(performance.now() - t0).toFixed(0)} ms and a second eval is 409`);
    await shot('quality-running');
  } else {
    console.log('note: the eval finished before the 409 check could run');
  }
  await page.waitForSelector('[data-testid=eval-table] tr[data-recommender]', { timeout: 300000 });
  const evalDoc = (await apiStatus('/v1/eval', token)).body;
  console.log(`eval took ${((performance.now() - evalStart) / 1000).toFixed(1)} s (server: ${evalDoc.seconds.toFixed(1)} s)`);
  const shownRecs = await page.$$eval('[data-testid=eval-table] tr[data-recommender]', (l) => l.map((x) => x.dataset.recommender));
  check(evalDoc.state === 'done' && shownRecs.join() === Object.keys(evalDoc.report.recommenders).join() &&
        ['mostpop', 'itemknn', 'ials', 'fused'].every((r) => shownRecs.includes(r)),
        `quality: the table shows ${shownRecs.join(', ')}`);
  const ndcgShown = await page.textContent('[data-testid=eval-table] tr[data-recommender=mostpop] td:nth-child(2)');
  check(ndcgShown === evalDoc.report.recommenders.mostpop['ndcg@10'].toFixed(4),
        `quality: mostpop NDCG@10 ${ndcgShown} as GET /v1/eval reports`);
  check(await page.locator('[data-testid=sweep-chart] circle.point').count() === evalDoc.report.sweep.length &&
        evalDoc.report.sweep.length === 3,
        'quality: the sweep chart has a point per diversity value (0, 0.5, 1)');
  await page.selectOption('#sweep-x', 'coverage@10');
  check((await page.getAttribute('[data-testid=sweep-chart]', 'aria-label')).includes('Coverage@10'),
        'quality: the sweep chart redraws against another metric');
  await page.selectOption('#sweep-x', 'ild@10');
  await shot('quality');

  // ---- privacy and backups ----
  await page.goto(origin + '/console/#/privacy');
  await page.waitForSelector('[data-testid=audit]');
  const audit = (await apiStatus('/v1/audit', token)).body;
  const ops = await page.$$eval('[data-testid=audit] tr[data-operation]', (l) => l.map((x) => x.dataset.operation));
  check(ops.length === audit.entries.length && ops.includes('forget') && ops.includes('export'),
        `privacy: the audit log shows ${ops.length} entries (${[...new Set(ops)].join(', ')})`);
  await page.waitForSelector('#create-backup');
  await page.click('#create-backup');
  await page.waitForSelector('[data-testid=snapshots] tr[data-snapshot]');
  const snaps = (await apiStatus('/v1/snapshots', token)).body.snapshots;
  check(snaps.length === 1 && await page.locator('[data-testid=snapshots] tr[data-snapshot]').count() === 1,
        `backups: created ${snaps.length ? snaps[0].name : 'nothing'} and listed it`);
  await page.click('[data-testid=snapshots] button.verify');
  await page.waitForSelector('[data-testid=verify-ok], [data-testid=verify-bad], [data-testid=snapshots] .error');
  check(await page.locator('[data-testid=verify-ok]').count() === 1, 'backups: the new snapshot verifies');
  await shot('privacy');

  // ---- log out ----
  await page.click('#logout');
  await page.waitForSelector('#login-form');
  check(await page.evaluate(() => sessionStorage.getItem('recdb.token')) === null, 'logout: token dropped');

  const foreign = requests.filter((u) => !u.startsWith(origin + '/'));
  check(requests.length > 10 && foreign.length === 0,
        `all ${requests.length} requests went to ${origin}` + (foreign.length ? ': ' + foreign.join(' ') : ''));
  check(problems.length === 0, 'no CSP violation or script error' + (problems.length ? ': ' + problems.join('; ') : ''));
  check(requests.every((u) => !u.includes(token)), 'no request URL carries the token');
} catch (e) {
  console.log('FAIL ' + (e.stack || e));
  failures++;
} finally {
  if (browser) await browser.close();
  // Stop the server by its pid (SIGTERM: graceful) and wait for it.
  const exited = new Promise((resolve) => server.once('exit', resolve));
  process.kill(ready.pid, 'SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 30000))]);
  fs.rmSync(work, { recursive: true, force: true });
}
console.log(failures ? `${failures} check(s) failed` : 'all console checks passed');
console.log(`screenshots: ${outDir}`);
process.exit(failures ? 1 : 0);
