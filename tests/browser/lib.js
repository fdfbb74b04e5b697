// What the browser tests share: building and starting a throwaway demo,
// logging its people in, watching pages for Content Security Policy
// violations, checking every page with axe-core (docs/accessibility.md),
// and the screenshots for docs/walkthrough.md.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCREENSHOTS = path.join(REPO, 'docs', 'screenshots');
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];
export const DESKTOP = { width: 1200, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** A TOTP code from oathtool: an implementation independent of the server's. */
export function totp(secret) {
  return execFileSync('oathtool', ['--totp', '-b', secret], { encoding: 'utf8' }).trim();
}

/**
 * Build the server as the test suite builds it (a no-op after a test run):
 * `cargo build` alone resolves the dependencies' features without the
 * dev-dependencies, so it would rebuild most of them, and the next test
 * run would rebuild them back.
 */
export function build() {
  try {
    execFileSync('cargo', ['test', '--locked', '--no-run', '--quiet'], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
  } catch (e) {
    throw new Error(`cargo test --locked --no-run failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  const binary = path.join(REPO, 'target', 'debug', 'safehouse');
  assert.ok(existsSync(binary), 'cargo test --no-run made no target/debug/safehouse');
  return binary;
}

/**
 * Start `safehouse demo --json` (and `extraArgs`, such as `--lang ja`) on a
 * free loopback port, with no other SAFEHOUSE_* setting from our
 * environment, and read its first stdout line.
 */
export async function startDemo(binary, extraArgs = []) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SAFEHOUSE_')));
  env.SAFEHOUSE_LISTEN = '127.0.0.1:0';
  const child = spawn(binary, ['demo', '--json', ...extraArgs], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const lines = createInterface({ input: child.stdout });
  const first = new Promise((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code, signal) =>
      reject(new Error(`safehouse demo exited (${code ?? signal}) before printing its logins:\n${stderr}`)),
    );
  });
  // Keep reading stdout so the server never blocks on a full pipe.
  lines.on('line', () => {});
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`safehouse demo printed nothing for 60 s:\n${stderr}`)), 60_000);
  });
  try {
    const line = await Promise.race([first, timeout]);
    return { child, exited, info: JSON.parse(line), stderr: () => stderr };
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** Stop the demo: SIGTERM (it then removes its directory), SIGKILL after 15 s. */
export async function stopDemo(demo) {
  const running = () => demo.child.exitCode === null && demo.child.signalCode === null;
  if (!running()) return 'already stopped';
  demo.child.kill('SIGTERM');
  let timer;
  const result = await Promise.race([
    demo.exited.then(() => 'terminated'),
    new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), 15_000);
    }),
  ]);
  clearTimeout(timer);
  if (result === 'timeout') {
    demo.child.kill('SIGKILL');
    await demo.exited;
  }
  return result;
}

/** Remove the demo's throwaway directory, which only a SIGKILL leaves behind. */
export function removeDemoDir(demo) {
  const dir = demo.info.data_dir;
  if (path.dirname(dir) === os.tmpdir() && path.basename(dir).startsWith('safehouse-demo-')) {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A demo user (username, password, totp_secret) by name. */
export function demoUser(demo, username) {
  const u = demo.info.users.find((x) => x.username === username);
  assert.ok(u, `the demo has no user ${username}`);
  return u;
}

/** Open a page and check it (`checkPage`); returns the response. */
export async function visit(page, url) {
  const response = await page.goto(url);
  await checkPage(page);
  return response;
}

/**
 * Click a submit button (or a link) and wait for the page it leads to,
 * then check that page (`checkPage`): a page that answers a POST, such as
 * a form sent back with its error, is checked like any other.
 */
export async function submit(page, button) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
  await checkPage(page);
}

/** The path of the page's current URL. */
export function pathOf(page) {
  return new URL(page.url()).pathname;
}

// Screenshots for the docs are refreshed only on request
// (UPDATE_SCREENSHOTS=1 scripts/browser-test), so a test run leaves the tree clean.
export async function screenshot(page, name) {
  if (process.env.UPDATE_SCREENSHOTS !== '1') return;
  await page.screenshot({ path: path.join(SCREENSHOTS, name), fullPage: true });
}

/**
 * Every console message and page error of the pages it watches: the final
 * check of each test holds them to no CSP violation and no error.
 */
export function pageWatch() {
  const consoleLog = [];
  const pageErrors = [];
  return {
    consoleLog,
    pageErrors,
    watch(page) {
      page.on('console', (m) => consoleLog.push({ url: page.url(), type: m.type(), text: m.text() }));
      page.on('pageerror', (e) => pageErrors.push({ url: page.url(), text: String(e) }));
    },
    violations() {
      return consoleLog.filter((m) => /Content Security Policy|Refused to/i.test(m.text));
    },
  };
}

// A code is accepted once per account and 30-second step (replays are
// refused), so a second login of the same account waits for the next step.
// Keyed by secret: the same username in another demo is another account.
const lastStep = new Map();
async function freshStep(secret) {
  const step = () => Math.floor(Date.now() / 30_000);
  if (lastStep.get(secret) === step()) {
    await new Promise((resolve) => setTimeout(resolve, (step() + 1) * 30_000 - Date.now() + 500));
  }
  lastStep.set(secret, step());
}

/** A TOTP code of a step no earlier login or enrolment of `secret` used. */
export async function freshCode(secret) {
  await freshStep(secret);
  return totp(secret);
}

/**
 * Log a demo user in with password and a fresh TOTP code from the login
 * page the browser is on (or `/login` when `open`); lands on `/`.
 */
export async function logIn(page, u, { open = true } = {}) {
  if (open) await visit(page, '/login');
  await page.fill('#username', u.username);
  await page.fill('#password', u.password);
  await page.fill('#code', await freshCode(u.totp_secret));
  await submit(page, page.locator('main form button[type=submit]'));
  assert.equal(pathOf(page), '/', `${u.username} should land on the start page`);
  await page.locator('main h1', { hasText: 'Safehouse' }).waitFor();
}

/**
 * Steps that share state and run in order: after a failure the rest are
 * skipped, except the final checks marked `always`.
 */
export function steps() {
  let broken = false;
  const step = (title, fn, { always = false } = {}) =>
    test(title, { timeout: 90_000 }, async (c) => {
      if (broken && !always) {
        c.skip('an earlier step failed');
        return;
      }
      try {
        await fn(c);
      } catch (e) {
        broken = true;
        throw e;
      }
    });
  /** Whether a step has failed (the server's log is then worth printing). */
  step.failed = () => broken;
  return step;
}

// ---------------------------------------------------------------------------
// Accessibility: axe-core on every page, at both widths
// ---------------------------------------------------------------------------

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BLOCKING = new Set(['serious', 'critical']);

/**
 * Every check `checkPage` made in this test file: the URL, the width, how
 * many axe rules passed and every violation (of any impact). The final
 * step of each test reads it to show that axe really ran on each page.
 */
export const accessibilityLog = [];

/**
 * Run axe-core on the page as it is. Its source goes in through the
 * DevTools protocol (page.evaluate), which the page's CSP does not govern,
 * so no <script> tag is added and the policy is never relaxed.
 */
export async function runAxe(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    // Also WCAG 2.2's target size (2.5.8, AA), which axe leaves off by
    // default: these pages are used on phones.
    const result = await window.axe.run(document, {
      resultTypes: ['violations'],
      rules: { 'target-size': { enabled: true } },
    });
    return {
      version: window.axe.version,
      passes: result.passes.length,
      // What axe could not decide by itself (such as the contrast of text
      // drawn over an SVG shape), for the summary: it fails nothing.
      incomplete: result.incomplete.map((v) => v.id),
      violations: result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        targets: v.nodes.map((n) => n.target.join(' ')),
      })),
    };
  });
}

/**
 * Every chart (an <svg class="chart"> in main) sits in a <figure> with a
 * captioned table of the same figures; any other svg in main is the
 * enrolment QR code, whose secret is written out beside it.
 */
async function chartsHaveTables(page) {
  return page.evaluate(() => {
    const problems = [];
    for (const svg of document.querySelectorAll('main svg')) {
      if (svg.closest('.qr')) continue;
      if (!svg.classList.contains('chart')) {
        problems.push(`an svg that is neither a chart nor the QR code: ${svg.outerHTML.slice(0, 80)}`);
        continue;
      }
      const table = svg.closest('figure')?.querySelector('table');
      const caption = table?.querySelector('caption')?.textContent.trim();
      if (!table || !caption || table.querySelectorAll('tbody tr').length === 0) {
        problems.push(`a chart without its captioned table: ${svg.outerHTML.slice(0, 80)}`);
      }
    }
    return problems;
  });
}

/**
 * Check the page at its own width and at the other one (a phone's if it
 * is on a desktop, and the other way round), then put the width back:
 * no serious or critical axe violation, every chart with its table, and
 * on a phone nothing scrolling sideways.
 */
export async function checkPage(page) {
  const own = page.viewportSize() ?? DESKTOP;
  const other = own.width <= PHONE.width ? DESKTOP : PHONE;
  for (const size of [own, other]) {
    if (size !== own) await page.setViewportSize(size);
    const url = page.url();
    const result = await runAxe(page);
    accessibilityLog.push({
      url,
      width: size.width,
      passes: result.passes,
      incomplete: result.incomplete,
      violations: result.violations,
    });
    const blocking = result.violations.filter((v) => BLOCKING.has(v.impact));
    assert.equal(
      blocking.length,
      0,
      `axe-core at ${size.width} px on ${url}:\n` +
        blocking.map((v) => `  ${v.id} (${v.impact}): ${v.help}\n    ${v.targets.join('\n    ')}`).join('\n'),
    );
    assert.deepEqual(await chartsHaveTables(page), [], `charts on ${url}`);
    if (size.width <= PHONE.width) {
      const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
      assert.equal(wide, false, `${url} scrolls sideways on a phone (${size.width} px)`);
    }
  }
  await page.setViewportSize(own);
}

/**
 * Press Tab `presses` times from the top of the page: each element that
 * takes the focus must show it (an outline or a box shadow). Returns what
 * was focused, for the caller to check it reached links and buttons.
 */
export async function focusIsVisible(page, presses) {
  await page.evaluate(() => {
    document.activeElement?.blur();
    window.scrollTo(0, 0);
  });
  const focused = [];
  for (let i = 0; i < presses; i++) {
    await page.keyboard.press('Tab');
    const f = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      const style = getComputedStyle(el);
      return {
        tag: el.tagName.toLowerCase(),
        text: (el.textContent || el.getAttribute('name') || '').trim().slice(0, 40),
        outline: style.outlineStyle === 'none' || parseFloat(style.outlineWidth) === 0 ? 'none' : style.outlineStyle,
        shadow: style.boxShadow,
      };
    });
    assert.ok(f, `Tab ${i + 1} on ${page.url()} focused nothing`);
    assert.ok(
      f.outline !== 'none' || f.shadow !== 'none',
      `the focus on ${f.tag} "${f.text}" (${page.url()}) is not visible: no outline, no box shadow`,
    );
    focused.push(f);
  }
  return focused;
}

/**
 * The accessibility log in short: pages checked, widths, violations of
 * lesser impact and what axe left for a person to review, by rule.
 */
export function accessibilitySummary() {
  const pages = new Set(accessibilityLog.map((e) => new URL(e.url).pathname));
  const widths = new Set(accessibilityLog.map((e) => e.width));
  const lesser = new Map();
  const review = new Map();
  const count = (map, key) => map.set(key, (map.get(key) ?? 0) + 1);
  for (const e of accessibilityLog) {
    for (const v of e.violations) count(lesser, `${v.id} (${v.impact})`);
    for (const id of e.incomplete) count(review, id);
  }
  return { checks: accessibilityLog.length, pages, widths, lesser, review };
}
