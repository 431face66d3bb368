// The dashboard's control tab (docs/control.md): hidden while [control] is off; with it on, the
// tab asks for the token once (kept in sessionStorage, sent as a Bearer header, no cookie),
// switches a load, and previews a setting with its rule violations. Run: node --test tests/e2e/
// Environment as dashboard.test.mjs.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createRequire } from 'node:module';

import { Daemon, repo, waitFor } from './daemon.mjs';

const require = createRequire(path.join(repo, 'web/ui/package.json'));
const { chromium } = require('playwright-core');

const chromiumPath = process.env.E2E_CHROMIUM || '/usr/bin/chromium';
const TOKEN = 'e2e-control-token-0123456789abcdef';

let browser;
const daemons = [];

before(async () => {
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  for (const d of daemons) {
    await d.stop();
    d.remove();
  }
});

async function start(options) {
  const d = await Daemon.start({ days: 1, ...options });
  daemons.push(d);
  await waitFor(async () => {
    const s = await d.api('api/v1/status');
    return s.buses[0].devices.find((x) => x.name === 'east')?.health === 'online';
  }, 'east to be polled', 60000);
  return d;
}

async function open(daemon, hash) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(new URL(hash, daemon.url).href);
  await page.waitForSelector('html[data-ready]');
  return { context, page, errors };
}

test('the control tab stays hidden while control is off', async () => {
  const daemon = await start({});
  const { context, page, errors } = await open(daemon, '#control');
  // Shown once the status (control: false) was read: the tab was left hidden by then.
  await page.waitForSelector('#control-msg:has-text("Control is off")');
  assert.equal(await page.locator('#control-tab').isHidden(), true);
  assert.equal(await page.locator('#control-login').isHidden(), true);
  assert.equal(await page.locator('#control-devices article').count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
  await daemon.stop();
});

test('with control on: token once, switch a load, preview a rule violation', async () => {
  const daemon = await start({ control: TOKEN });
  const { context, page, errors } = await open(daemon, '#overview');
  await page.waitForSelector('#control-tab:not([hidden])');
  await page.click('#control-tab');
  // Asks for the token; a wrong one is refused and asked for again.
  await page.fill('#control-token', 'wrong-token');
  await page.click('#control-login button');
  await page.waitForSelector('#control-msg:has-text("Bearer")');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('tracermon.control.token')), null);
  await page.fill('#control-token', TOKEN);
  await page.click('#control-login button');
  const card = page.locator('#control-devices article[data-device="east"]');
  await card.waitFor();
  assert.equal(await page.locator('#control-login').isHidden(), true);

  // Load on: written, and the controller says so.
  await card.locator('button[data-load="on"]').click();
  await card.locator('[data-k="result"] .ok').waitFor({ timeout: 30000 });
  const exported = await fetch(new URL('api/v1/control/export?device=east', daemon.url),
    { headers: { Authorization: `Bearer ${TOKEN}` } }).then((r) => r.json());
  assert.equal(exported.settings.load_control_mode, '0');
  assert.equal(exported.settings.manual_load_control, 'on');

  // The clock line shows the drift from the status.
  await waitFor(async () => /\d+ s/.test(await card.locator('[data-k="drift"]').textContent()),
    'the clock drift', 30000);

  // A voltage on a preset battery type: the preview shows the rule, apply stays off.
  await card.locator('select[data-k="setting"]').selectOption('boost_charging_voltage');
  await card.locator('input[data-k="value"]').fill('14.2');
  await card.locator('button[data-k="preview"]').click();
  await card.locator('[data-k="result"] .bad').first().waitFor({ timeout: 30000 });
  assert.match(await card.locator('[data-k="result"]').textContent(), /battery_type/);
  assert.equal(await card.locator('button[data-k="apply"]').isDisabled(), true);

  // No cookie was ever set; the token stays in this tab's sessionStorage.
  assert.deepEqual(await context.cookies(), []);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('tracermon.control.token')),
    TOKEN);
  const log = await fetch(new URL('api/v1/control/log', daemon.url),
    { headers: { Authorization: `Bearer ${TOKEN}` } }).then((r) => r.json());
  assert.ok(log.records.some((r) => r.source === 'http' && r.setting === 'manual_load_control'));
  assert.deepEqual(errors, []);
  await context.close();
});
