// Every page of the route table, checked by axe-core: the walkthrough
// checks the pages its people pass through, and this test reaches the rest.
// Each demo user, in their own browser, follows every link from the start
// page (one page for each route of the table, per role), and a logged-out
// browser opens the public pages; each page is checked like the
// walkthrough's (`checkPage` in lib.js: axe-core at desktop and phone
// width, charts with their tables, no sideways scrolling on a phone). The
// last step holds the route table to it: every page route (`safehouse
// routes`, method GET, answering HTML) was checked, but for the few listed
// in `REACHED_ELSEWHERE` with the reason.
//
// Run with `scripts/browser-test` (or `node --test tests/browser/`).

import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

import { chromium } from 'playwright-core';

import {
  CHROMIUM,
  CHROMIUM_ARGS,
  DESKTOP,
  accessibilityLog,
  accessibilitySummary,
  build,
  demoUser,
  logIn,
  pageWatch,
  removeDemoDir,
  startDemo,
  steps,
  stopDemo,
  submit,
  visit,
} from './lib.js';

/** The people of the demo whose pages are crawled, one of each role. */
const PEOPLE = ['coord.amber', 'case.river', 'admin.slate', 'comms.wren', 'audit.fern'];

/**
 * Page routes this test does not reach, and where they are checked: only
 * an account that has just been activated sees the enrolment page.
 */
const REACHED_ELSEWHERE = new Map([['/enrol', 'the walkthrough (a new caseworker enrols)']]);

/** A route's path as a regular expression: `{id}` is one path segment. */
function patternOf(path) {
  return new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
}

/** The GET routes that answer an HTML page: not the exports, the stylesheet or the health check. */
function pageRoutes(binary) {
  return execFileSync(binary, ['routes'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
    .filter((r) => r.method === 'GET' && !/\/export\.|^\/static\/|^\/health$/.test(r.path))
    .map((r) => ({ ...r, pattern: patternOf(r.path) }));
}

describe('every page of the route table in a real browser', () => {
  let demo;
  let browser;
  let base;
  let routes;
  const pages = pageWatch();
  const step = steps();
  /** Route path → the URLs checked for it, with whose browser. */
  const checked = new Map();

  before(async () => {
    const binary = build();
    routes = pageRoutes(binary);
    demo = await startDemo(binary);
    base = demo.info.url.replace(/\/$/, '');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    if (demo) {
      await stopDemo(demo);
      removeDemoDir(demo);
    }
  });

  async function newPage() {
    const context = await browser.newContext({ viewport: DESKTOP, baseURL: base });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    pages.watch(page);
    return page;
  }

  /** The route a same-origin path belongs to, or none. */
  const routeOf = (path) => routes.find((r) => r.pattern.test(path));

  function record(route, url, who) {
    if (!checked.has(route.path)) checked.set(route.path, []);
    checked.get(route.path).push(`${who}: ${url}`);
  }

  /**
   * Follow every same-origin link and GET form from `start`, breadth first, opening one
   * page for each route (the first link found to it): a hundred case pages
   * are one template. Every page opened is checked by `visit`.
   */
  async function crawl(page, who, start) {
    const seen = new Set();
    const queue = [start];
    while (queue.length > 0) {
      const url = queue.shift();
      const route = routeOf(new URL(url, base).pathname);
      if (!route || seen.has(route.path)) continue;
      seen.add(route.path);
      const response = await visit(page, url);
      assert.equal(response.status(), 200, `${who} followed a link to ${url}`);
      record(route, url, who);
      // Links, and GET forms as they open (the story draft's kind of story).
      const links = await page.evaluate(() => [
        ...[...document.querySelectorAll('a[href]')].map((a) => a.href),
        ...[...document.querySelectorAll('form[method=get i]')].map((f) => {
          // getAttribute: a field named "action" (the trail's filter) shadows f.action.
          const url = new URL(f.getAttribute('action') || location.href, location.href);
          url.search = new URLSearchParams(new FormData(f)).toString();
          return url.href;
        }),
      ]);
      for (const link of links) {
        const target = new URL(link);
        if (target.origin !== new URL(base).origin) continue;
        const r = routeOf(target.pathname);
        if (r && !seen.has(r.path)) queue.push(target.pathname + target.search);
      }
    }
    return seen.size;
  }

  step('a logged-out browser: the public pages', async (t) => {
    const page = await newPage();
    const publicRoutes = routes.filter((r) => r.access === 'public');
    for (const route of publicRoutes) {
      const response = await visit(page, route.path);
      assert.equal(response.status(), 200, route.path);
      record(route, route.path, 'logged out');
    }
    t.diagnostic(`public pages: ${publicRoutes.map((r) => r.path).join(' ')}`);
  });

  step('the coordinator approves the annual report, so that it has a page', async () => {
    // The demo has every other kind of object; an approved report is made
    // the way a coordinator makes one.
    const page = await newPage();
    await logIn(page, demoUser(demo, 'coord.amber'));
    await visit(page, '/reports/new');
    await submit(page, page.locator('main ul.actions a').first());
    await submit(page, page.getByRole('button', { name: 'Approve this report' }));
    assert.match(await page.locator('p.notice[role=status]').textContent(), /was approved/);
  });

  for (const username of PEOPLE) {
    step(`${username} follows every link from the start page`, async (t) => {
      const page = await newPage();
      await logIn(page, demoUser(demo, username));
      // The page that asks for the password again comes from a redirect, not a link.
      const reached = await crawl(page, username, '/');
      await visit(page, '/reauth');
      record(routeOf('/reauth'), '/reauth', username);
      t.diagnostic(`${username}: ${reached} routes reached by links`);
    });
  }

  step('every page route of the table was checked by axe-core', async (t) => {
    const missing = routes.filter((r) => !checked.has(r.path) && !REACHED_ELSEWHERE.has(r.path)).map((r) => r.path);
    assert.deepEqual(missing, [], 'page routes no browser reached');
    for (const path of REACHED_ELSEWHERE.keys()) {
      assert.ok(routes.some((r) => r.path === path), `${path} is still a route`);
    }
    const summary = accessibilitySummary();
    assert.ok(accessibilityLog.every((e) => e.passes > 10), 'every axe run passed its rules');
    t.diagnostic(`${checked.size} of ${routes.length} page routes, ${summary.checks} axe-core checks`);
    for (const [path, urls] of checked) t.diagnostic(`${path}: ${urls.length} (${urls[0]})`);
  });

  step(
    'no page broke its Content Security Policy or threw an error',
    async () => {
      assert.deepEqual(pages.violations(), [], 'CSP violations in the console');
      assert.deepEqual(pages.pageErrors, [], 'uncaught page errors');
    },
    { always: true },
  );
});
