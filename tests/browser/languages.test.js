// Safehouse in Japanese and in Korean, in a real browser: for each, a demo
// whose people chose that language (`safehouse demo --lang`), a browser that
// asks for English, and one whole flow: the login page through its language
// link, a caseworker's new case (refused once, then saved), a milestone, a
// search of the case list, then the coordinator's dashboard on a desktop
// and on a phone. Every expected word comes from locales/<lang>.ftl. Every
// page is checked by axe-core at both widths, as in the walkthrough.
//
// Run with `scripts/browser-test` (or `node --test tests/browser/`).

import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { chromium } from 'playwright-core';

import {
  CHROMIUM,
  CHROMIUM_ARGS,
  DESKTOP,
  PHONE,
  REPO,
  SCREENSHOTS,
  accessibilityLog,
  build,
  checkPage,
  demoUser,
  logIn,
  pageWatch,
  pathOf,
  removeDemoDir,
  screenshot,
  startDemo,
  steps,
  stopDemo,
  submit,
  visit,
} from './lib.js';

/**
 * The single-line messages of a Fluent catalogue (`id = value`), by id.
 * Multi-line messages (selects) and comments are left out: the test reads
 * only plain texts.
 */
function catalogue(lang) {
  const text = readFileSync(path.join(REPO, 'locales', `${lang}.ftl`), 'utf8');
  const messages = new Map();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z][\w-]*) = (.+)$/.exec(line);
    if (m && !m[2].trimEnd().endsWith('->')) messages.set(m[1], m[2].trim());
  }
  return {
    get(id) {
      const value = messages.get(id);
      assert.ok(value, `locales/${lang}.ftl has no single-line message ${id}`);
      return value;
    },
  };
}

// A Fluent placeable left unfilled in the page's text, such as `{ $n }`.
const PLACEHOLDER = /\{\s*\$?[A-Za-z_][\w-]*\s*\}/;

const LANGUAGES = [
  {
    lang: 'ja',
    name: 'Japanese',
    alias: 'キム・ミナ',
    // The katakana part in half-width katakana: width-folded, it is キム.
    search: 'ｷﾑ',
    searchAs: 'half-width katakana',
    day: '2024年3月15日',
  },
  {
    lang: 'ko',
    name: 'Korean',
    alias: '김민아',
    // The same alias as decomposed jamo (NFD), as some keyboards send it.
    search: '김민아'.normalize('NFD'),
    searchAs: 'decomposed jamo',
    day: '2024년 3월 15일',
  },
];

for (const { lang, name, alias, search, searchAs, day } of LANGUAGES) {
  describe(`Safehouse in ${name} in a real browser`, () => {
    const t = catalogue(lang);
    let demo;
    let browser;
    let base;
    const pages = pageWatch();
    const contexts = [];
    const step = steps();

    /**
     * A fresh browser context that asks for English: what is seen after
     * login is the user's own language, not the browser's.
     */
    async function newContext(viewport = DESKTOP) {
      const context = await browser.newContext({ viewport, baseURL: base, locale: 'en-US' });
      context.setDefaultTimeout(15_000);
      context.on('page', (page) => pages.watch(page));
      contexts.push(context);
      return context;
    }

    /** The page is in the language, with every placeable filled. */
    async function inLanguage(page) {
      assert.equal(await page.locator('html').getAttribute('lang'), lang, `${page.url()} is in ${lang}`);
      const text = await page.locator('body').innerText();
      const left = PLACEHOLDER.exec(text);
      assert.equal(left, null, `${page.url()} shows an unfilled placeable: ${left?.[0]}`);
    }

    let river; // case.river's page
    let caseId;

    before(async () => {
      mkdirSync(SCREENSHOTS, { recursive: true });
      const binary = build();
      demo = await startDemo(binary, ['--lang', lang]);
      base = demo.info.url.replace(/\/$/, '');
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    });

    after(async () => {
      await browser?.close();
      if (!demo) return;
      await stopDemo(demo);
      removeDemoDir(demo);
      if (step.failed() && demo.stderr().trim()) {
        process.stderr.write(`--- safehouse demo stderr (tail) ---\n${demo.stderr().slice(-4000)}\n`);
      }
    });

    step(`the login page in ${name} through its language link; the caseworker's home in ${name}`, async () => {
      const context = await newContext();
      river = await context.newPage();
      await visit(river, '/login');
      // The browser asks for English, so the link is what changes the page.
      assert.equal(await river.locator('html').getAttribute('lang'), 'en');
      await submit(river, river.locator(`a[hreflang="${lang}"]`));
      assert.equal(new URL(river.url()).search, `?lang=${lang}`);
      await inLanguage(river);
      assert.equal(await river.locator('h1').textContent(), t.get('login_title'));
      const u = demoUser(demo, 'case.river');
      await river.fill('#username', u.username);
      await screenshot(river, `${lang}-login.png`);

      await logIn(river, u, { open: false });
      await inLanguage(river);
      const nav = river.locator('nav').first();
      assert.equal(await nav.getByRole('link', { name: t.get('nav_cases'), exact: true }).count(), 1);
    });

    step(`a new case with a ${name} alias is refused once, in ${name}, keeping what was typed`, async () => {
      const page = river;
      await visit(page, '/cases/new');
      await inLanguage(page);
      const dated = `${alias} 1990`;
      await page.fill('#alias_0', dated);
      await page.selectOption('#age_0', '30-44');
      await page.selectOption('#stage', 'assessment');
      await submit(page, page.getByRole('button', { name: t.get('save'), exact: true }));

      assert.equal(pathOf(page), '/cases', 'the form comes back, not a case page');
      await inLanguage(page);
      const error = page.locator('#alias_0 + p.field-error');
      assert.equal(await error.textContent(), t.get('check-an-alias-must-not-contain-a-date'));
      assert.equal(await page.inputValue('#alias_0'), dated);
      assert.equal(await page.inputValue('#age_0'), '30-44');
      assert.equal(await page.inputValue('#stage'), 'assessment');
      await screenshot(page, `${lang}-case-error.png`);

      await page.fill('#alias_0', alias);
      await submit(page, page.getByRole('button', { name: t.get('save'), exact: true }));
      const match = /^\/cases\/([0-9a-f-]{36})$/.exec(pathOf(page));
      assert.ok(match, `a saved case opens its page, got ${page.url()}`);
      caseId = match[1];
      await inLanguage(page);
      assert.match(await page.locator('h1').innerText(), new RegExp(`^${alias}`));
      assert.equal(await page.locator('table tbody tr td').first().textContent(), alias);
      assert.equal(await page.locator('table tbody tr td').nth(1).textContent(), t.get('age_bands-30-to-44'));
    });

    step(`a milestone's day reads in ${name} on the case page`, async () => {
      const page = river;
      const form = page.locator('form[action$="/milestones"]');
      await form.locator('#kind').selectOption('crossed_border');
      await form.locator('#date').fill('2024-03-15');
      await form.locator('#country').fill('KR');
      await submit(page, form.getByRole('button', { name: t.get('milestone_add'), exact: true }));

      assert.equal(pathOf(page), `/cases/${caseId}`);
      await inLanguage(page);
      const entry = page.locator('ol.timeline li', { hasText: t.get('milestone_kinds-crossed-a-border') });
      assert.equal(await entry.count(), 1);
      assert.equal(await entry.locator('strong').textContent(), day);
      await screenshot(page, `${lang}-case.png`);
    });

    step(`the case list finds ${alias} searched as ${searchAs} (${search})`, async () => {
      const page = river;
      await visit(page, '/cases');
      await inLanguage(page);
      await page.locator('details.filters summary').click();
      await page.fill('#q', search);
      await submit(page, page.getByRole('button', { name: t.get('filter'), exact: true }));
      assert.equal(pathOf(page), '/cases');
      await inLanguage(page);
      const found = page.locator('table tbody tr td a');
      assert.deepEqual(await found.allTextContents(), [alias], `searching ${search} finds ${alias} alone`);
      assert.equal(await found.getAttribute('href'), `/cases/${caseId}`);
    });

    step(`the coordinator's dashboard in ${name}, on a desktop and on a phone`, async () => {
      const context = await newContext();
      const page = await context.newPage();
      await logIn(page, demoUser(demo, 'coord.amber'));
      await inLanguage(page);
      const main = page.locator('main');
      assert.equal(await main.locator('h2#dash-cases').textContent(), t.get('dash_coordinator_heading'));
      assert.equal(await main.locator('h3#dash-pipeline').textContent(), t.get('dash_pipeline'));
      assert.ok((await main.locator('svg').count()) >= 1, 'charts drawn on the server');
      await screenshot(page, `${lang}-dashboard.png`);

      await page.setViewportSize(PHONE);
      await page.reload();
      await checkPage(page);
      await inLanguage(page);
      const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
      assert.equal(wide, false, `the dashboard in ${name} fits a phone without sideways scrolling`);
      await screenshot(page, `${lang}-dashboard-phone.png`);
    });

    step(`axe-core checked every page in ${name}, at both widths`, async () => {
      const mine = accessibilityLog.filter((e) => e.url.startsWith(base));
      assert.ok(mine.length >= 12, `axe checks in ${name}: ${mine.length}`);
      assert.ok(mine.every((e) => e.passes > 10), 'every axe run passed its rules');
      for (const p of ['/login', '/', '/cases/new', '/cases']) {
        assert.ok(mine.some((e) => new URL(e.url).pathname === p && e.width === PHONE.width), `${p} checked on a phone`);
        assert.ok(mine.some((e) => new URL(e.url).pathname === p && e.width === DESKTOP.width), `${p} checked on a desktop`);
      }
    });

    step(
      'no page visited broke its Content Security Policy or threw an error',
      async () => {
        assert.deepEqual(pages.violations(), [], 'CSP violations in the console');
        assert.deepEqual(pages.pageErrors, [], 'uncaught page errors');
      },
      { always: true },
    );

    step(
      'the demo stops on SIGTERM',
      async () => {
        for (const context of contexts) await context.close();
        assert.equal(await stopDemo(demo), 'terminated', 'the demo should stop within 15 s of SIGTERM');
      },
      { always: true },
    );
  });
}
