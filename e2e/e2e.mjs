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

async function openApp(viewport = { width: 1280, height: 800 }, url = BASE_URL, options = {}) {
  const context = await browser.newContext({ viewport, ...options });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', e => errors.push(String(e)));
  page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('dialog', d => { errors.push(`unexpected dialog: ${d.message()}`); d.dismiss(); });
  const t0 = Date.now();
  await page.goto(url);
  await page.locator('#topology').waitFor({ timeout: 20000 });   // wasm loaded, Yew rendered
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
  assert.equal(await page.locator('img').count(), 0);
  assert.match(await page.textContent('.overlay'), /<img src=x onerror=alert\(1\)>/);
  await page.click('#tab-model');
  await page.screenshot({ path: join(SHOTS, '03b-hostile-label.png') });
  assert.deepEqual(errors, []);
  await context.close();
});


async function editorValue(page) {
  return page.locator('#yaml').inputValue();
}

test('scenario switch shows its explanation, topology and expectations', async () => {
  const { context, page, errors } = await openApp();
  await page.selectOption('#scenario', 'ambient-15008');
  await page.waitForFunction(() => document.querySelector('#scenario-title')?.textContent.includes('15008'));
  assert.match(await editorValue(page), /istio\.io\/dataplane-mode: ambient/);
  assert.match(await page.textContent('#topology-svg'), /ambient/);
  await page.click('#tab-expectations');
  assert.match(await page.textContent('#expectations'), /demo\/client -> demo\/svc\/my-app:80/);
  await page.screenshot({ path: join(SHOTS, '04-scenario-expectations.png') });
  await page.click('#tab-scenario');
  await page.screenshot({ path: join(SHOTS, '05-scenario-library.png') });
  // Undo goes back to the previous scenario.
  await page.click('#undo');
  await page.waitForFunction(() => document.querySelector('#yaml')?.value.includes('np-test-1'));
  assert.deepEqual(errors, []);
  await context.close();
});

test('select a flow: trace and highlighted rule', async () => {
  const { context, page, errors } = await openApp();
  await page.locator('#matrix button.cell.deny').first().click();
  await page.locator('#trace .rule-ref').first().waitFor();
  assert.match(await page.textContent('#trace'), /np-ingress/);
  await page.locator('#trace .rule-ref').first().click();
  const selected = await page.evaluate(() => {
    const a = document.querySelector('#yaml');
    return a.value.substring(a.selectionStart, a.selectionEnd);
  });
  assert.match(selected, /deny-all-ingress-using-networkpolicy/);
  assert.ok(await page.locator('.overlay .line.focus').count() > 0);
  await page.screenshot({ path: join(SHOTS, '06-flow-trace.png') });
  // The topology edge of the selected flow is emphasised; clicking a card selects it.
  await page.locator('#topology-svg g.node').first().click();
  assert.equal(await page.locator('#topology-svg g.node.selected').count(), 1);
  assert.deepEqual(errors, []);
  await context.close();
});

test('typing in the middle keeps the caret', async () => {
  const { context, page, errors } = await openApp();
  const pos = await page.evaluate(() => {
    const a = document.querySelector('#yaml');
    const i = a.value.indexOf('np-test-1');
    a.focus(); a.setSelectionRange(i, i);
    return i;
  });
  await page.keyboard.type('xy');
  await page.waitForFunction(() => document.querySelector('#yaml').value.includes('xynp-test-1'));
  const caret = await page.evaluate(() => document.querySelector('#yaml').selectionStart);
  assert.equal(caret, pos + 2);
  assert.deepEqual(errors, []);
  await context.close();
});

test('share link round trip in a fresh browser context', async () => {
  const { context, page, errors } = await openApp();
  await page.selectOption('#scenario', 'stray-dash');
  await page.click('#tab-settings');
  await page.selectOption('#cni-profile', 'cilium');
  await page.click('#tab-expectations');
  await page.fill('#expectations-text', 'fe/web -> be/db:5432 allow\n# mine ü\n');
  await page.click('#tab-flows');
  await page.locator('#matrix button.cell').nth(1).click();
  const flow = await page.locator('#matrix button.cell.selected').getAttribute('data-flow');
  await page.locator('#yaml').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('\n# shared édit 🚀\n');
  await page.click('#copy-link');
  const link = await page.locator('#share-output').inputValue();
  assert.match(link, /#v1\.[A-Za-z0-9_-]+$/);
  const yaml = await editorValue(page);
  await page.screenshot({ path: join(SHOTS, '07-share-link.png') });
  assert.deepEqual(errors, []);
  await context.close();

  const fresh = await openApp(undefined, link);
  assert.equal(await editorValue(fresh.page), yaml);
  assert.equal(await fresh.page.locator('#scenario').inputValue(), 'stray-dash');
  assert.equal(await fresh.page.locator('#cni-profile').inputValue(), 'cilium');
  assert.equal(await fresh.page.locator('#expectations-text').inputValue(), 'fe/web -> be/db:5432 allow\n# mine ü\n');
  assert.equal(await fresh.page.locator('#matrix button.cell.selected').getAttribute('data-flow'), flow);
  // The fragment is dropped after opening, so a reload shows later edits (autosave).
  assert.equal(new URL(fresh.page.url()).hash, '');
  await fresh.page.screenshot({ path: join(SHOTS, '08-share-link-opened.png') });
  assert.deepEqual(fresh.errors, []);
  await fresh.context.close();

  const broken = await openApp(undefined, BASE_URL + '#v1.AAAA!!garbage');
  assert.match(await broken.page.textContent('#notice'), /could not be opened/);
  assert.deepEqual(broken.errors, []);
  await broken.context.close();
});

test('embed mode stores nothing and can be read-only', async () => {
  const first = await openApp();
  await first.page.selectOption('#scenario', 'ambient-15008');
  await first.page.click('#copy-link');
  const fragment = new URL(await first.page.locator('#share-output').inputValue()).hash;
  await first.context.close();

  const url = `${BASE_URL}?embed=1&panes=editor,topology,matrix&readonly=1${fragment}`;
  const { context, page, errors } = await openApp({ width: 900, height: 560 }, url);
  assert.equal(await page.locator('.topbar').count(), 0);
  assert.match(await editorValue(page), /dataplane-mode: ambient/);
  assert.equal(await page.locator('#yaml').evaluate(a => a.readOnly), true);
  await page.locator('#yaml').click();
  await page.keyboard.type('typed');
  assert.ok(!(await editorValue(page)).includes('typed'));
  await page.locator('#matrix button.cell').first().click();
  const storage = await page.evaluate(() => [localStorage.length, sessionStorage.length]);
  assert.deepEqual(storage, [0, 0]);
  assert.equal(await page.locator('#settings').count(), 0);
  await page.screenshot({ path: join(SHOTS, '09-embed-readonly.png') });
  assert.deepEqual(errors, []);
  await context.close();

  // The docs example embeds a scenario through an iframe with a share fragment.
  const docs = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const docPage = await docs.newPage();
  const docErrors = [];
  docPage.on('pageerror', e => docErrors.push(String(e)));
  await docPage.goto(BASE_URL + 'static/embed-example.html');
  const frame = docPage.frameLocator('#playground');
  await frame.locator('#topology').waitFor({ timeout: 20000 });
  assert.match(await frame.locator('.embed-title').textContent(), /15008/);
  const frameStorage = await docPage.frames()[1].evaluate(() => localStorage.length);
  assert.equal(frameStorage, 0);
  await docPage.screenshot({ path: join(SHOTS, '10-embed-example-page.png'), fullPage: true });
  assert.deepEqual(docErrors, []);
  await docs.close();
});

test('autosave survives reload; reset returns to the scenario; file load', async () => {
  const { context, page, errors } = await openApp();
  await page.locator('#yaml').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: autosaved-ns\n');
  await page.waitForFunction(() => document.querySelector('#summary')?.textContent.includes('autosaved-ns'));
  await page.reload();
  await page.locator('#topology').waitFor();
  assert.match(await editorValue(page), /autosaved-ns/);
  assert.match(await page.textContent('#topology-svg'), /autosaved-ns/);
  await page.click('#reset');
  await page.waitForFunction(() => !document.querySelector('#yaml').value.includes('autosaved-ns'));
  await page.setInputFiles('#file-input', {
    name: 'mine.yaml', mimeType: 'text/yaml',
    buffer: Buffer.from('apiVersion: v1\r\nkind: Namespace\r\nmetadata:\r\n  name: from-file\r\n'),
  });
  await page.waitForFunction(() => document.querySelector('#yaml').value.includes('from-file'));
  assert.equal(await editorValue(page), 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: from-file\n');
  assert.equal(await page.locator('#scenario').inputValue(), '');
  await page.click('#undo');
  await page.waitForFunction(() => document.querySelector('#yaml').value.includes('np-test-1'));
  assert.deepEqual(errors, []);
  await context.close();
});

test('narrow laptop and dark mode', async () => {
  const { context, page, errors } = await openApp({ width: 1280, height: 720 }, BASE_URL, { colorScheme: 'dark' });
  await page.locator('#matrix button.cell.deny').first().click();
  await page.screenshot({ path: join(SHOTS, '11-dark-1280x720.png') });
  // Keyboard: a topology card is focusable and Enter selects it.
  await page.locator('#topology-svg g.node').first().focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('#topology-svg g.node.selected').count(), 1);
  assert.deepEqual(errors, []);
  await context.close();
  const light = await openApp({ width: 1280, height: 720 });
  await light.page.screenshot({ path: join(SHOTS, '12-light-1280x720.png') });
  await light.context.close();
});


// ---- Lints, settings, compare (issue 5 acceptance) ----

const OLD_LINK_BEFORE_MESH = 'v1.pVXNjtMwEL7nKUbKATgkbZalLUZCWhYJrYSqSl1xQRzcZNpYdWwrdretxJkH4Hm48SY8CePEbdMfYNH21Hhmvvnmx5-3vJIsG2VDFsNNNROoHCxXM5TowNR6hhYeLHAocM5X0iUFqi0ItajRWhijW-t6OdFS5Ft4bhEL2-v3-y9SuFPAA1ylCwRXYhSD8n-n45t7e5rEacgGr9OrV9fpMM2uhm9gXSIF1ae5TZvMOiElEID10BVhu7LWq0VJ3gZVYUErb4Hb8R08n6JzRNrCr2_fmxPKOhcSPVFC0s8sFDpfVUQXC5iLDQgLua7CgV45SsBdA0jgDFYqWEE44KqANXd52dibgmAu9TqNuBGfsLZCKwYPWbQUPnbMK7SG5xhV6HjBHWcRgKJTBrbUhj4kp-ZYfwzEhAimQve8p5FcYeI7ynb9jZIkOUrEjbG9fbb3aKTeeqoX0lXbhLzDZ8MpULAGc-9maUa503VLpfJFfuxwA58s9aOsFTq0nuYJssOKSDsMCB0K_iePwB4BR5QCNf_LtXJcKKp8d5KEynbeTQcrvqCjRZnXHhE3nChhr8VkWdrfexpduw6bHVjp3AGtk3VC7gxG_dEBoUZekMnaiV8D1onyIB_QdY8oIXclg56P2h4bGuijxFI84EVkl5upzpdn2Ad2T1iReU3V0s4_cUmOgP57J46iH7sCa5ydroBaCLWhiV8N_zzys-medU-1skeCki5HzZIe7nZXES9000tYEuTzLx01upg--ea1Snm_NdjEJKTJbd4YfEUkaP-qKYZLVcWdicVwqbKES5K_JEh8UiKXrmyFfh_RLTsOE43hpPQYzoqPH6cU3i2waWMSv0LVLj4BYd5JujQHQFolUdTs-BnqvbyKIpuj4rXQLLtmQXSTUE14R9iA5UKKVRV53WcD8jPmq68tqMznwx370jxCjW231F0rG_V797eTCDfUEscGGdu9lMlb6CAyf7GbrvuHSZn9VsWgZUFioZbw80cU_QY';

const AMBIENT_FLOW = 'app|demo/client[Deployment] → demo/my-app[Deployment]:9090/TCP';
const cellOf = (page, key) => page.locator(`#matrix button.cell[data-flow="${key}"]`);
async function cellVerdict(page, key) {
  const cls = await cellOf(page, key).getAttribute('class');
  return ['allow', 'deny', 'unknown'].find(v => cls.split(/\s+/).includes(v));
}
async function waitVerdict(page, key, verdict) {
  await page.waitForFunction(([k, v]) => {
    const c = [...document.querySelectorAll('#matrix button.cell')].find(b => b.dataset.flow === k);
    return c && c.classList.contains(v);
  }, [key, verdict], { timeout: 10000 });
}

test('ambient 15008: editing the NetworkPolicy flips the mesh flow to allow', async () => {
  const { context, page, errors } = await openApp();
  await page.selectOption('#scenario', 'ambient-15008');
  await cellOf(page, AMBIENT_FLOW).waitFor();
  assert.equal(await cellVerdict(page, AMBIENT_FLOW), 'deny');
  assert.match(await cellOf(page, AMBIENT_FLOW).getAttribute('title'), /deny at np-ingress/);
  await cellOf(page, AMBIENT_FLOW).click();
  assert.match(await page.textContent('#trace'), /15008/);
  await page.screenshot({ path: join(SHOTS, '20-ambient-15008-denied.png') });
  // Type the fix at the end of the NetworkPolicy (the last document), as a user would.
  const yaml = await editorValue(page);
  assert.ok(yaml.endsWith('      protocol: TCP\n'), 'the policy ends the file');
  await page.locator('#yaml').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('    - port: 15008\n      protocol: TCP\n');
  await waitVerdict(page, AMBIENT_FLOW, 'allow');
  assert.match(await page.textContent('#trace'), /allow/);
  await page.screenshot({ path: join(SHOTS, '21-ambient-15008-allowed.png') });
  assert.deepEqual(errors, []);
  await context.close();
});

test('lint fix from the lints pane: lint gone, verdict flips, Undo restores', async () => {
  const { context, page, errors } = await openApp();
  await page.selectOption('#scenario', 'ambient-15008');
  await cellOf(page, AMBIENT_FLOW).waitFor();
  assert.equal(await cellVerdict(page, AMBIENT_FLOW), 'deny');
  await page.click('#tab-lints');
  const lint = page.locator('#lints .lint[data-code="PP4001"]');
  await lint.waitFor();
  assert.match(await lint.textContent(), /15008/);
  assert.ok(await page.locator('.gutter .ln.lint[data-lint="PP4001"]').count() > 0);
  // Clicking the lint selects its span in the editor.
  await lint.locator('.lint-jump').click();
  const selected = await page.evaluate(() => {
    const a = document.querySelector('#yaml');
    return a.value.substring(a.selectionStart, a.selectionEnd);
  });
  assert.ok(selected.length > 0, 'the lint span is selected');
  await page.screenshot({ path: join(SHOTS, '22-lints-pane.png') });
  const before = await editorValue(page);
  const fix = lint.locator('.lint-fix');
  assert.match(await fix.textContent(), /^Fix: .*15008/);
  await fix.click();
  await page.waitForFunction(() => !document.querySelector('#lints .lint[data-code="PP4001"]'));
  assert.match(await editorValue(page), /port: 15008/);
  await page.screenshot({ path: join(SHOTS, '23-lint-fixed.png') });
  await page.click('#tab-flows');
  await waitVerdict(page, AMBIENT_FLOW, 'allow');
  await page.click('#undo');
  await page.waitForFunction(t => document.querySelector('#yaml').value === t, before);
  await waitVerdict(page, AMBIENT_FLOW, 'deny');
  await page.click('#tab-lints');
  await lint.waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('trace of an Istio-layer flow highlights exactly the rule lines', async () => {
  const { context, page, errors } = await openApp();
  await page.selectOption('#scenario', 'two-namespaces-authz');
  const cell = page.locator('#matrix button.cell.deny[data-flow^="app|np-test-1/"]').first();
  await cell.waitFor();
  await cell.click();
  await page.locator('#trace .rule-ref').first().waitFor();
  const trace = await page.textContent('#trace');
  assert.match(trace, /sidecar/);
  const ref = page.locator('#trace .rule-ref', { hasText: 'deny-all-ingress-using-authorizationpolicy' }).first();
  const refText = await ref.textContent();
  const m = refText.match(/:(\d+):(\d+)\)/);
  assert.ok(m, `rule position in ${refText}`);
  const refLine = Number(m[1]);
  await ref.click();
  const sel = await page.evaluate(() => {
    const a = document.querySelector('#yaml');
    const before = a.value.substring(0, a.selectionStart);
    const text = a.value.substring(a.selectionStart, a.selectionEnd);
    const first = before.split('\n').length;
    const last = first + text.replace(/\n$/, '').split('\n').length - 1;
    return { first, last, text };
  });
  assert.match(sel.text, /deny-all-ingress-using-authorizationpolicy|rules|\{\}/);
  assert.equal(sel.first, refLine, 'selection starts at the referenced line');
  const gutter = (await page.locator('.gutter .ln.focus').allTextContents()).map(Number);
  const expected = Array.from({ length: sel.last - sel.first + 1 }, (_, i) => sel.first + i);
  assert.deepEqual(gutter, expected, 'the gutter highlight covers the rule lines');
  assert.equal(await page.locator('.overlay .line.focus').count(), expected.length);
  await page.screenshot({ path: join(SHOTS, '24-istio-trace-highlight.png') });
  assert.deepEqual(errors, []);
  await context.close();
});

test('CNI profile generic → calico-iptables flips the ambient probe', async () => {
  const { context, page, errors } = await openApp();
  await page.selectOption('#scenario', 'ambient-probes');
  const probe = page.locator('#matrix button.cell[data-flow^="probe|"][data-flow*="shop/my-app"]').first();
  await probe.waitFor();
  const key = await probe.getAttribute('data-flow');
  assert.equal(await cellVerdict(page, key), 'deny');
  await page.click('#tab-settings');
  assert.equal(await page.locator('#cni-profile').inputValue(), 'generic');
  await page.selectOption('#cni-profile', 'calico-iptables');
  await page.locator('#profile-flags').waitFor();
  assert.match(await page.textContent('#profile-flags'), /probeSnatCountsAsNode/);
  assert.match(await page.textContent('#cni-profile-help'), /\S/);
  await page.screenshot({ path: join(SHOTS, '25-settings-calico.png') });
  await page.click('#tab-flows');
  await waitVerdict(page, key, 'allow');
  // Compare: the same YAML under both profiles shows the probe as the difference.
  await page.click('#tab-compare');
  await page.selectOption('#compare-a', 'generic');
  await page.selectOption('#compare-b', 'calico-iptables');
  await page.locator('#compare-profiles').waitFor();
  assert.match(await page.textContent('#compare-profiles'), /kubelet/);
  await page.screenshot({ path: join(SHOTS, '26-compare-profiles.png') });
  assert.deepEqual(errors, []);
  await context.close();
});

test('compare: baseline then edit lists exactly the changed flows', async () => {
  const { context, page, errors } = await openApp();
  await page.selectOption('#scenario', 'stray-dash');
  await page.click('#tab-compare');
  await page.click('#set-baseline');
  assert.match(await page.textContent('#compare-baseline-status'), / 0 flows changed verdict/);
  // Remove the stray dash: the surprising allows turn into denies.
  await page.click('#tab-lints');
  await page.locator('#lints .lint-fix[data-code="PP4012"]').click();
  await page.click('#tab-compare');
  await page.locator('#compare-baseline').waitFor();
  const rows = await page.locator('#compare-baseline tbody tr').count();
  assert.ok(rows > 0);
  assert.match(await page.textContent('#compare-baseline'), /fe\/other/);
  await page.screenshot({ path: join(SHOTS, '27-compare-baseline.png') });
  assert.deepEqual(errors, []);
  await context.close();
});

test('share link carries settings; a link from before mesh options still opens', async () => {
  const { context, page, errors } = await openApp();
  await page.selectOption('#scenario', 'ambient-probes');
  await page.click('#tab-settings');
  await page.selectOption('#cni-profile', 'calico-iptables');
  await page.fill('#mesh-trust-domain', 'example.org');
  await page.locator('#mesh-trust-domain').press('Enter');
  await page.locator('#mesh-trust-domain').blur();
  await page.check('#mesh-auto-allow-waypoint');
  await page.waitForFunction(() => document.querySelector('#mesh-options')?.textContent.includes('changed'));
  await page.click('#copy-link');
  const link = await page.locator('#share-output').inputValue();
  await page.screenshot({ path: join(SHOTS, '28-settings-mesh-share.png') });
  assert.deepEqual(errors, []);
  await context.close();

  const fresh = await openApp(undefined, link);
  assert.equal(await fresh.page.locator('#scenario').inputValue(), 'ambient-probes');
  assert.equal(await fresh.page.locator('#cni-profile').inputValue(), 'calico-iptables');
  assert.equal(await fresh.page.locator('#mesh-trust-domain').inputValue(), 'example.org');
  assert.equal(await fresh.page.locator('#mesh-auto-allow-waypoint').isChecked(), true);
  assert.equal(await fresh.page.locator('#mesh-sending-hbone').isChecked(), true);
  assert.deepEqual(fresh.errors, []);
  await fresh.context.close();

  const old = await openApp(undefined, BASE_URL + '#' + OLD_LINK_BEFORE_MESH);
  assert.equal(await old.page.locator('#scenario').inputValue(), 'ambient-probes');
  assert.equal(await old.page.locator('#cni-profile').inputValue(), 'cilium');
  assert.equal(await old.page.locator('#mesh-trust-domain').inputValue(), 'cluster.local');
  assert.equal(await old.page.locator('#mesh-root-namespace').inputValue(), 'istio-system');
  assert.equal(await old.page.locator('#mesh-auto-allow-waypoint').isChecked(), false);
  assert.equal(await old.page.locator('#expectations-text').inputValue(), 'kubelet -> shop/my-app:8080 deny at np-ingress\n# old link ü\n');
  assert.equal(await old.page.locator('#matrix button.cell.selected').getAttribute('data-flow'),
    'app|shop/my-app[Deployment] → shop/frontend[Deployment]:80/TCP');
  assert.equal(await old.page.locator('#notice').count(), 0);
  assert.deepEqual(old.errors, []);
  await old.context.close();
});

test('new panes in dark and light', async () => {
  for (const colorScheme of ['dark', 'light']) {
    const { context, page, errors } = await openApp({ width: 1280, height: 800 }, BASE_URL, { colorScheme });
    await page.selectOption('#scenario', 'ambient-15008');
    await page.click('#tab-lints');
    await page.locator('#lints .lint').first().waitFor();
    await page.screenshot({ path: join(SHOTS, `29-lints-${colorScheme}.png`) });
    await page.click('#tab-settings');
    await page.screenshot({ path: join(SHOTS, `30-settings-${colorScheme}.png`) });
    await page.locator('#mesh-options').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, `30b-mesh-options-${colorScheme}.png`) });
    await page.click('#tab-compare');
    await page.locator('#compare-profiles-status').waitFor();
    await page.screenshot({ path: join(SHOTS, `31-compare-${colorScheme}.png`) });
    assert.deepEqual(errors, []);
    await context.close();
  }
});

test('docs screenshot: topology, matrix and an Istio-layer trace at 1280x800', async () => {
  const { context, page, errors } = await openApp({ width: 1280, height: 800 });
  await page.selectOption('#scenario', 'two-namespaces-authz');
  const cell = page.locator('#matrix button.cell.deny[data-flow^="app|np-test-1/"]').first();
  await cell.click();
  await page.locator('#trace .rule-ref', { hasText: 'authorizationpolicy' }).first().click();
  // The rule is selected in the editor; show the results pane from the top (topology, matrix,
  // the trace's verdict at the sidecar).
  await page.evaluate(() => { document.querySelector('.results-pane').scrollTop = 0; });
  assert.ok(await page.locator('.overlay .line.focus').count() > 0);
  await page.screenshot({ path: join(SHOTS, '40-docs-screenshot.png') });
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
