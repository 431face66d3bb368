// End-to-end tests of the dashboard: Debian's chromium, driven by playwright-core (from
// web/ui/node_modules; it never downloads a browser), against `tracermon run` on simulated
// controllers. Run: node --test tests/e2e/
// Environment: TRACERMON_BIN (default build/tracermon), E2E_ARTIFACTS (screenshots; default
// build/e2e-artifacts), E2E_CHROMIUM (default /usr/bin/chromium).

import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

import { Daemon, repo, waitFor } from './daemon.mjs';

const require = createRequire(path.join(repo, 'web/ui/package.json'));
const { chromium } = require('playwright-core');

const artifacts = process.env.E2E_ARTIFACTS || path.join(repo, 'build/e2e-artifacts');
const chromiumPath = process.env.E2E_CHROMIUM || '/usr/bin/chromium';
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

let daemon;
let browser;
const pageErrors = [];
const contexts = new Set(); // open browser contexts: closed after each test, even a failed one

before(async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  daemon = await Daemon.start({ days: 2 });
  // Ready when both working controllers have values and the missing one was found silent.
  await waitFor(async () => {
    const latest = await daemon.api('api/v1/latest');
    const d = latest.devices;
    return d.east?.fields?.load_power && d.west?.fields?.load_power && d.roof?.fields?.load_power
      && d.shed?.health === 'offline' && latest.sites.garage?.values?.load_power;
  }, 'the simulated controllers to be polled', 60000);
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterEach(async () => {
  for (const context of contexts) await context.close();
});

after(async () => {
  await browser?.close();
  if (daemon) {
    await daemon.stop();
    fs.copyFileSync(daemon.logPath, path.join(artifacts, 'daemon.log'));
    daemon.remove();
  }
});

// `quiet`: failed requests are expected (the daemon is stopped), only script errors count.
async function openPage(viewport, hash = '', colorScheme = 'light', { quiet = false } = {}) {
  const context = await browser.newContext({ viewport, colorScheme, acceptDownloads: true });
  contexts.add(context);
  context.on('close', () => contexts.delete(context));
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${hash}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !quiet) pageErrors.push(`${hash}: console: ${m.text()}`);
  });
  await page.goto(new URL(hash, daemon.url).href);
  await page.waitForSelector('html[data-ready]');
  return page;
}

// The page agrees with the API when what it shows equals what the API said just before or just
// after reading it (values change every poll cycle); `read` returns {key: number|null}.
async function agreesWithApi(page, read, fromApi, what) {
  let last;
  await waitFor(async () => {
    const before = fromApi(await daemon.api('api/v1/latest'));
    const shown = await read(page);
    const after = fromApi(await daemon.api('api/v1/latest'));
    last = { before, shown, after };
    return Object.keys(before).every((k) => shown[k] === before[k] || shown[k] === after[k]);
  }, `${what}: page and API to agree`, 10000).catch((e) => {
    throw new Error(`${e.message}\nlast: ${JSON.stringify(last)}`);
  });
  return last.shown;
}

const numberOrNull = (text) => (text == null || text === '' ? null : Number(text));

// {key: the number in data-value of `${scope} ${selector(key)}`, or null}
function shownValues(page, scope, keys, selector = (k) => `[data-k="${k}"]`) {
  const selectors = Object.fromEntries(keys.map((k) => [k, `${scope} ${selector(k)}`]));
  return page.evaluate((sels) => Object.fromEntries(Object.entries(sels).map(([k, sel]) => {
    const value = document.querySelector(sel)?.dataset.value;
    return [k, value == null ? null : Number(value)];
  })), selectors);
}

test('the daemon serves the dashboard files of web/ui', async () => {
  const files = {
    '': ['index.html', 'text/html'],
    'app.js': ['app.js', 'javascript'],
    'style.css': ['style.css', 'text/css'],
    'uplot.js': ['node_modules/uplot/dist/uPlot.iife.min.js', 'javascript'],
    'uplot.css': ['node_modules/uplot/dist/uPlot.min.css', 'text/css'],
  };
  for (const [urlPath, [file, type]] of Object.entries(files)) {
    const r = await fetch(new URL(urlPath, daemon.url));
    assert.equal(r.status, 200, `/${urlPath}`);
    assert.match(r.headers.get('content-type'), new RegExp(type), `/${urlPath} content type`);
    const served = Buffer.from(await r.arrayBuffer());
    const onDisk = fs.readFileSync(path.join(repo, 'web/ui', file));
    assert.ok(served.equals(onDisk), `/${urlPath} differs from web/ui/${file}: rebuild tracermon `
      + '(the files are embedded) or set TRACERMON_WEB_DIR');
  }
});

test('first load: size and time to first values', async () => {
  const page = await openPage(DESKTOP);
  const m = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const files = performance.getEntriesByType('resource').filter((r) => !r.name.includes('/api/'));
    const mark = performance.getEntriesByName('tracermon:first-values')[0];
    const paint = performance.getEntriesByName('first-contentful-paint')[0];
    return {
      transferred: nav.transferSize + files.reduce((n, r) => n + r.transferSize, 0),
      decoded: nav.decodedBodySize + files.reduce((n, r) => n + r.decodedBodySize, 0),
      files: [nav, ...files].map((r) => `${new URL(r.name).pathname} ${r.transferSize}`),
      firstPaintMs: paint ? Math.round(paint.startTime) : null,
      firstValuesMs: mark ? Math.round(mark.startTime) : null,
    };
  });
  console.log(`first load: ${m.transferred} bytes transferred (${m.decoded} decoded) in `
    + `${m.files.length} files [${m.files.join(', ')}]; first paint ${m.firstPaintMs} ms, `
    + `first values ${m.firstValuesMs} ms after navigation start`);
  assert.equal(m.files.length, 5, 'index, app.js, style.css, uplot.js, uplot.css and nothing else');
  assert.ok(m.transferred < 150 * 1024, `first load ${m.transferred} bytes: the budget is 150 KB`);
  assert.ok(m.firstValuesMs != null, 'the page marks when it first showed values');
});

test('the overview shows the simulated values and follows them as they change', async () => {
  const page = await openPage(DESKTOP);
  const site = 'section.site[data-site="garage"]';
  await page.waitForSelector(`${site} [data-k="load_power"][data-value]`);
  const keys = ['pv_power', 'load_power', 'battery_voltage', 'battery_soc', 'battery_current_net',
    'generated_energy_today', 'consumed_energy_today'];
  const read = (p) => shownValues(p, site, keys);
  const fromApi = (latest) =>
    Object.fromEntries(keys.map((k) => [k, latest.sites.garage.values[k]?.value ?? null]));
  const first = await agreesWithApi(page, read, fromApi, 'garage site values');
  for (const k of keys) assert.notEqual(first[k], null, `${k} is shown`);
  assert.match(await page.textContent(`${site} [data-k="load_power"]`), /\d (k?W)$/);
  assert.match(await page.textContent(`${site} [data-k="battery_voltage"]`), /\d V$/);

  // The simulator's load changes every cycle: the page follows without a reload.
  await page.waitForFunction(([sel, v]) => {
    const e = document.querySelector(`${sel} [data-k="load_power"]`);
    return e && Number(e.dataset.value) !== v;
  }, [site, first.load_power], { timeout: 15000 });
  await agreesWithApi(page, read, fromApi, 'garage site values after a change');

  // Each member of the cabin site with its own PV power.
  const members = ['east', 'west'];
  await agreesWithApi(page,
    (p) => shownValues(p, 'section.site[data-site="cabin"]', members, (n) => `li[data-device="${n}"] .num`),
    (l) => Object.fromEntries(members.map((n) => [n, l.devices[n].fields.pv_power.value])),
    'member PV power');
});

test('a controller card shows live values, status, rated data and communication health', async () => {
  const page = await openPage(DESKTOP, '#controllers');
  const card = 'article.card[data-device="east"]';
  await page.waitForSelector(`${card} [data-k="load_power"][data-value]`);
  const keys = ['pv_voltage', 'battery_voltage', 'load_current', 'load_power', 'device_temperature'];
  await agreesWithApi(page, (p) => shownValues(p, card, keys),
    (l) => Object.fromEntries(keys.map((k) => [k, l.devices.east.fields[k].value])), 'east card');
  const latest = await daemon.api('api/v1/latest');
  const text = await page.textContent(card);
  const mode = latest.devices.east.fields.charging_mode.text; // "2 (MPPT)"
  const modeShown = await page.textContent(`${card} [data-k="charging_mode"]`);
  assert.equal(modeShown, mode.replace(/^\d+ \((.*)\)$/, '$1'), 'charging mode in words');
  // Communication health from /api/v1/status.
  await page.waitForFunction(
    (sel) => /\d+ \/ \d+/.test(document.querySelector(`${sel} [data-k="=requests"]`)?.textContent), card);
  assert.match(await page.textContent(`${card} [data-k="=latency"]`), /ms/);
  assert.match(text, /Tracer3210AN/, 'model from the device identification');
});

test('a controller that does not answer shows as offline', async () => {
  const page = await openPage(DESKTOP);
  const cabin = 'section.site[data-site="cabin"]';
  await page.waitForSelector(`${cabin} li[data-device="shed"][data-state="offline"]`);
  assert.match(await page.textContent(`${cabin} li[data-device="shed"]`), /offline/);
  assert.equal(await page.getAttribute(`${cabin} li[data-device="east"]`, 'data-state'), 'online');
  const alerts = await page.textContent(`${cabin} [data-k="alerts"]`);
  assert.match(alerts, /shed: not answering/);
  assert.match(alerts, /Totals are of east, west only: shed gave no fresh values/);
  // The daemon leaves the incomplete totals out; the page sums the members that answer, marked.
  const keys = ['pv_power', 'load_power'];
  const sum = (l, f) =>
    Math.round((l.devices.east.fields[f].value + l.devices.west.fields[f].value) * 1000) / 1000;
  await agreesWithApi(page, (p) => shownValues(p, cabin, keys, (k) => `[data-k="${k}"].partial`),
    (l) => Object.fromEntries(keys.map((k) => [k, sum(l, k)])), 'cabin partial totals');
  assert.equal(await page.getAttribute(`${cabin} [data-k="state"]`, 'data-state'), 'degraded');
  // The garage site has no problem.
  const garageAlerts = await page.textContent('section.site[data-site="garage"] [data-k="alerts"]');
  assert.match(garageAlerts, /No faults or warnings/);

  await page.click('nav a[data-tab="controllers"]');
  const shed = 'article.card[data-device="shed"]';
  await page.waitForSelector(`${shed}[data-state="offline"]`);
  assert.equal((await page.textContent(`${shed} [data-k="state"]`)).trim(), 'offline');
  await page.waitForFunction(
    (sel) => /timeout|no reply/.test(document.querySelector(`${sel} [data-k="=last_error"]`)?.textContent),
    shed);
});

test('a history chart has the points /api/v1/history gives for its range, and exports them', async () => {
  const page = await openPage(DESKTOP, '#history');
  const charts = '#history-charts';
  await page.waitForSelector(`${charts}[data-points]:not([aria-busy])`);
  await page.selectOption('#history-source', 'east');
  await page.waitForSelector(`${charts}[data-source="east"]:not([aria-busy])`);
  // 6 h, then half a span earlier: a range wholly in the demo history, which no longer changes.
  await page.click('button[data-range="6h"]');
  await page.waitForFunction((sel) => {
    const b = document.querySelector(sel).dataset;
    return b.source === 'east' && Number(b.to) - Number(b.from) === 6 * 3600e3;
  }, charts);
  const latestTo = Number(await page.getAttribute(charts, 'data-to'));
  await page.click('button[data-move="-1"]');
  await page.waitForFunction(
    ([sel, to]) => Number(document.querySelector(sel).dataset.to) < to - 3600e3, [charts, latestTo]);
  const shown = await page.evaluate((sel) => {
    const box = document.querySelector(sel);
    return {
      ...box.dataset,
      boxes: [...box.querySelectorAll('.chart-box')].map((c) => ({ ...c.dataset })),
    };
  }, charts);
  const h = await daemon.api(`api/v1/history?device=east&fields=${shown.fields}`
    + `&from=${shown.from}&to=${shown.to}&points=${shown.requested}`);
  assert.equal(Number(shown.points), h.time.length, 'points on the page = buckets from the API');
  assert.ok(h.time.length > 100, `a useful number of points (${h.time.length})`);
  assert.ok(shown.boxes.length >= 2, 'one chart per unit');
  for (const box of shown.boxes) {
    assert.equal(Number(box.points), h.time.length, `chart ${box.unit}`);
    const values = box.fields.split(',').flatMap((f) => h.fields[f]).filter((v) => v != null);
    assert.equal(Number(box.values), values.length, `values drawn in chart ${box.unit}`);
  }

  // CSV of exactly what is shown: a row per bucket, empty cells for gaps.
  const [download] = await Promise.all(
    [page.waitForEvent('download'), page.click('#history-export')]);
  const csv = fs.readFileSync(await download.path(), 'utf8').trim().split(/\r?\n/);
  fs.writeFileSync(path.join(artifacts, download.suggestedFilename()), csv.join('\n'));
  const fields = shown.fields.split(',');
  assert.deepEqual(csv[0].split(',').map((c) => c.replace(/ \(.*\)$/, '')), ['time', ...fields]);
  assert.equal(csv.length - 1, h.time.length);
  csv.slice(1).forEach((line, i) => {
    const cells = line.split(',');
    assert.equal(Date.parse(cells[0]), h.time[i], `row ${i} time`);
    fields.forEach((f, j) =>
      assert.equal(numberOrNull(cells[j + 1]), h.fields[f][i], `row ${i} ${f}`));
  });

  // Zoom in by keyboard: half the span, more detail.
  await page.focus('button[data-zoom="0.5"]');
  await page.keyboard.press('Enter');
  await page.waitForFunction(([sel, span]) => {
    const b = document.querySelector(sel).dataset;
    return Math.abs(Number(b.to) - Number(b.from) - span / 2) < 1000;
  }, [charts, Number(shown.to) - Number(shown.from)]);
});

test('energy bars match /api/v1/energy per day and per month', async () => {
  const page = await openPage(DESKTOP, '#energy');
  await page.selectOption('#energy-source', 'cabin');
  const energy = async (period) =>
    (await daemon.api(`api/v1/energy?period=${period}&device=cabin`))[period].cabin;
  for (const period of ['day', 'month']) {
    await page.click(`button[data-period="${period}"]`);
    const chart = `#energy-chart[data-period="${period}"][data-source="cabin"]`;
    await page.waitForSelector(chart);
    // Today's (and this month's) energy grows while the test reads: the bar lies between the
    // API's values before and after.
    const before = await energy(period);
    const bars = await page.$$eval(`${chart} g.bar`, (gs) => gs.map((g) => ({
      period: g.dataset.period, generated: g.dataset.generated, consumed: g.dataset.consumed,
    })));
    const after = await energy(period);
    assert.ok(after.length >= 1, `the demo history has ${period} energy`);
    for (const row of after.filter((r) => r.period >= bars[0].period)) {
      const bar = bars.find((b) => b.period === row.period);
      assert.ok(bar, `a bar for ${row.period}`);
      const old = before.find((r) => r.period === row.period);
      for (const k of ['generated', 'consumed']) {
        const [lo, hi, v] = [old ? old[`${k}_kwh`] : 0, row[`${k}_kwh`], Number(bar[k])];
        assert.ok(v >= lo && v <= hi, `${period} ${row.period} ${k}: bar ${v}, API ${lo}..${hi}`);
      }
    }
    for (const bar of bars.filter((b) => b.generated !== '')) {
      assert.ok(after.some((r) => r.period === bar.period), `bar ${bar.period} comes from the API`);
    }
  }
});

test('keyboard: the sections are reachable with Tab and Enter', async () => {
  const page = await openPage(DESKTOP);
  let found = false;
  for (let i = 0; i < 10 && !found; i++) {
    await page.keyboard.press('Tab');
    found = await page.evaluate(() => document.activeElement?.dataset?.tab === 'energy');
  }
  assert.ok(found, 'the Energy tab takes the focus');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#energy:not([hidden])');
  assert.equal(await page.getAttribute('nav a[data-tab="energy"]', 'aria-current'), 'page');
});

test('screenshots at phone and desktop size; nothing wider than a phone', async () => {
  const views = {
    overview: 'section.site .uplot',
    controllers: 'article.card [data-k="=requests"]',
    history: '#history-charts[data-points]:not([aria-busy]) .uplot',
    energy: '#energy-chart g.bar',
  };
  for (const [name, viewport, scheme] of [['phone', PHONE, 'dark'], ['desktop', DESKTOP, 'light']]) {
    for (const [view, ready] of Object.entries(views)) {
      const page = await openPage(viewport, `#${view}`, scheme);
      await page.waitForSelector(ready);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= viewport.width, `${name} ${view}: page is ${width} px wide`);
      await page.screenshot({ path: path.join(artifacts, `${name}-${view}.png`), fullPage: true });
      await page.context().close();
    }
  }
});

// Last: it stops the daemon.
test('when the daemon stops, the page says so and shows its values as stale', async () => {
  const page = await openPage(DESKTOP, '', 'light', { quiet: true });
  const value = 'section.site[data-site="garage"] [data-k="load_power"]';
  await page.waitForSelector(`${value}[data-value]:not(.stale)`);
  await page.waitForSelector('#conn[data-state="live"]');
  const exit = await daemon.stop();
  assert.deepEqual(exit, { code: 0, signal: null }, 'the daemon stops cleanly on SIGTERM');
  await page.waitForSelector('#conn[data-state="lost"]');
  await page.waitForSelector(`${value}.stale`);
  await page.waitForSelector('section.site[data-site="garage"] [data-k="state"][data-state="stale"]');
  const alerts = await page.textContent('section.site[data-site="garage"] [data-k="alerts"]');
  assert.match(alerts, /No connection to tracermon/);
  await page.screenshot({ path: path.join(artifacts, 'desktop-daemon-stopped.png'), fullPage: true });
});

test('no script errors on any page', () => {
  assert.deepEqual(pageErrors, []);
});
