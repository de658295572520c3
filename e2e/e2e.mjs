// End-to-end tests: the release build, served on 127.0.0.1, in headless Debian Chromium.
// Usage: BASE_URL=http://127.0.0.1:8080/ SHOTS=../target/e2e node e2e.mjs
// Prints one line per test and a summary line `e2e: N passed, M failed`; exit 1 on failure.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const BASE_URL = process.env.BASE_URL ?? 'http://127.0.0.1:8080/';
const SHOTS = process.env.SHOTS ?? 'screenshots';
mkdirSync(SHOTS, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--no-first-run'],
});

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

async function openApp(viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', e => errors.push(String(e)));
  page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('dialog', d => { errors.push(`unexpected dialog: ${d.message()}`); d.dismiss(); });
  const t0 = Date.now();
  await page.goto(BASE_URL);
  await page.locator('#summary').waitFor({ timeout: 20000 });   // wasm loaded, Yew rendered
  const loadMs = Date.now() - t0;
  return { context, page, errors, loadMs };
}

async function setEditor(page, text) {
  await page.locator('#yaml').fill(text);
}

test('default scenario is drawn', async () => {
  const { context, page, errors, loadMs } = await openApp();
  const summary = await page.textContent('#summary');
  assert.match(summary, /np-test-1/);
  assert.match(summary, /np-test-2\/deny-all-ingress-using-networkpolicy/);
  assert.match(summary, /Workloads \(2\)/);
  await page.screenshot({ path: join(SHOTS, '01-default-scenario.png'), fullPage: true });
  assert.deepEqual(errors, []);
  console.log(`   navigation to drawn scenario: ${loadMs} ms`);
  await context.close();
});

test('typing in the editor re-analyses', async () => {
  const { context, page, errors } = await openApp();
  const editor = page.locator('#yaml');
  await editor.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: typed-in-e2e\n');
  await page.waitForFunction(() => document.querySelector('#summary')?.textContent.includes('typed-in-e2e'));
  assert.match(await page.textContent('#summary'), /Namespaces \(3\)/);
  await page.screenshot({ path: join(SHOTS, '02-typed.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test('broken YAML shows the error at its line', async () => {
  const { context, page, errors } = await openApp();
  await setEditor(page, 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ok\n---\nkind: Namespace\nmetadata: {name: [\n');
  await page.locator('#diagnostics .diag.error').first().waitFor();
  const pos = await page.locator('#diagnostics .diag.error .pos').first().textContent();
  const line = Number(pos.split(':')[0]);
  assert.ok(line >= 7, `error reported at ${pos}`);
  // The first, valid document is still analysed.
  assert.match(await page.textContent('#summary'), /Namespaces \(1\)/);
  assert.equal(await page.locator('.gutter .ln.error').count() > 0, true);
  await page.screenshot({ path: join(SHOTS, '03-broken-yaml.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test('hostile label renders as text', async () => {
  const { context, page, errors } = await openApp();
  await setEditor(page, 'kind: Namespace\nmetadata:\n  name: x\n  labels:\n    evil: "<img src=x onerror=alert(1)>"\n');
  await page.waitForFunction(() => document.querySelector('#summary')?.textContent.includes('<img src=x onerror=alert(1)>'));
  assert.equal(await page.locator('#summary img').count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

let failed = 0;
for (const { name, fn } of tests) {
  try { await fn(); console.log(`ok   ${name}`); }
  catch (e) { failed++; console.log(`FAIL ${name}\n${e.stack ?? e}`); }
}
await browser.close();
console.log(`e2e: ${tests.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
