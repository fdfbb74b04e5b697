// What the browser tests share: building and starting a throwaway demo,
// logging its people in, watching pages for Content Security Policy
// violations, and the screenshots for docs/walkthrough.md.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
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

/** Build the server once (a no-op when it is up to date). */
export function build() {
  try {
    execFileSync('cargo', ['build', '--locked', '--quiet'], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
  } catch (e) {
    throw new Error(`cargo build --locked failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  const binary = path.join(REPO, 'target', 'debug', 'safehouse');
  assert.ok(existsSync(binary), 'cargo build made no target/debug/safehouse');
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

/** Click a submit button and wait for the page the form leads to. */
export async function submit(page, button) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
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

/**
 * Log a demo user in with password and a fresh TOTP code from the login
 * page the browser is on (or `/login` when `open`); lands on `/`.
 */
export async function logIn(page, u, { open = true } = {}) {
  await freshStep(u.totp_secret);
  if (open) await page.goto('/login');
  await page.fill('#username', u.username);
  await page.fill('#password', u.password);
  await page.fill('#code', totp(u.totp_secret));
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
