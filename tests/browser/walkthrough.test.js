// A real-browser walkthrough of Safehouse: one throwaway demo instance and
// the people who use it, each in their own browser, each step checked by
// what the page shows. An administrator creates a caseworker's account;
// the newcomer activates it, is certified, logs in again and works a case
// (a refused form, milestones, an edit conflict with a colleague); the
// coordinator certifies, assigns, reads the dashboard, approves a story and
// the annual report; communications staff export them and reach no case;
// the coordinator locks down and every other browser is logged out; the
// lockdown is lifted at the command line; the auditor, last, finds all of it
// in the trail and verifies the chain.
//
// Every page is checked by axe-core at desktop and at phone width, and for
// charts without tables and sideways scrolling on a phone (`checkPage` in
// lib.js, docs/accessibility.md); the console is watched for Content
// Security Policy violations throughout.
//
// Run with `scripts/browser-test` (or `node --test tests/browser/`). Needs
// Chromium at /usr/bin/chromium, oathtool and a Rust toolchain. The
// screenshots for docs/walkthrough.md are written to docs/screenshots/.

import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  accessibilitySummary,
  build,
  checkPage,
  demoUser,
  focusIsVisible,
  freshCode,
  logIn as logInAs,
  pageWatch,
  pathOf,
  removeDemoDir,
  runAxe,
  screenshot,
  startDemo,
  steps,
  stopDemo,
  submit,
  visit,
} from './lib.js';

// ---------------------------------------------------------------------------
// The walkthrough
// ---------------------------------------------------------------------------

describe('Safehouse in a real browser', () => {
  let demo;
  let binary;
  let browser;
  let base;
  /** Every console message and page error, from every page of every context. */
  const pages = pageWatch();
  /** Every person's browser of the walkthrough, with whose it is. */
  const contexts = [];
  const step = steps();

  const user = (username) => demoUser(demo, username);

  /** A fresh browser context (its own cookie jar: one person's browser). */
  async function newContext(owner, viewport = DESKTOP) {
    const context = await browser.newContext({ viewport, baseURL: base });
    context.setDefaultTimeout(15_000);
    context.on('page', (page) => pages.watch(page));
    contexts.push({ owner, context });
    return context;
  }

  /** A new browser for `username`, logged in; its first page. */
  async function browserOf(username, viewport = DESKTOP) {
    const context = await newContext(username, viewport);
    const page = await context.newPage();
    await logInAs(page, user(username));
    return page;
  }

  /** Log in on a phone-sized page, check the home's section for the role, picture it. */
  async function homeOnPhone(username, heading, picture) {
    const page = await browserOf(username, PHONE);
    await page.locator('main h2', { hasText: heading }).waitFor();
    await screenshot(page, picture);
    return page;
  }

  /**
   * Whether axe checked the page as it is now, at both widths, since the
   * log had `since` entries: proof that a page answering a POST (a form
   * sent back with its error, a conflict) was checked, not only GET pages.
   */
  function checkedSince(since, page) {
    const widths = accessibilityLog.slice(since).filter((e) => e.url === page.url()).map((e) => e.width);
    assert.deepEqual(widths.sort((a, b) => a - b), [PHONE.width, DESKTOP.width], `axe checked ${page.url()} after the POST`);
  }

  /** The main text, for checks that a page names (or does not name) something. */
  const mainText = (page) => page.locator('main').innerText();

  // Shared between steps, in the order they appear.
  let riverPage; // case.river's browser, a caseworker the case is assigned to later
  let activationCode;
  const NEWBIE = 'case.newbie';
  const NEWBIE_PASSWORD = 'lantern orchard quietly seventeen ferries';
  let newbie; // { username, password, totp_secret } once enrolled
  let newbiePage;
  let fingerprint;
  let coordPage; // coord.amber's desktop browser
  let caseId;
  const ALIAS = 'Kestrel';
  let coordinatorPhone; // coord.amber's phone, from the homes step
  let draftId; // the story draft the coordinator approved
  let commsPage; // comms.wren's browser

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    binary = build();
    demo = await startDemo(binary);
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

  step('the console listener sees a Content Security Policy violation (self-check)', async () => {
    // Proves the final CSP assertion can fail: a page with a strict policy
    // and an inline style, served by the browser itself.
    const context = await browser.newContext();
    const page = await context.newPage();
    const seen = [];
    page.on('console', (m) => seen.push(m.text()));
    await page.route('http://csp-check.invalid/', (route) =>
      route.fulfill({
        status: 200,
        contentType: 'text/html',
        headers: { 'content-security-policy': "default-src 'none'" },
        body: '<!doctype html><p style="color:red">inline style</p>',
      }),
    );
    await page.goto('http://csp-check.invalid/');
    await page.waitForTimeout(200);
    await context.close();
    assert.ok(
      seen.some((t) => t.includes('Content Security Policy')),
      `expected a CSP console message, got: ${JSON.stringify(seen)}`,
    );
  });

  step('axe-core runs under our policy without breaking it, and finds planted faults (self-check)', async () => {
    // The server's own policy, a page with an unlabelled field and a
    // nameless button: axe must name both, and the console must show no
    // CSP violation from axe being put into the page.
    const policy = (await fetch(`${base}/login`)).headers.get('content-security-policy');
    assert.match(policy ?? '', /default-src 'none'/);
    const context = await browser.newContext();
    const page = await context.newPage();
    const seen = [];
    page.on('console', (m) => seen.push(m.text()));
    await page.route('http://axe-check.invalid/', (route) =>
      route.fulfill({
        status: 200,
        contentType: 'text/html',
        headers: { 'content-security-policy': policy },
        body: '<!doctype html><html lang="en"><title>t</title><main><input id="x"><button></button></main></html>',
      }),
    );
    await page.goto('http://axe-check.invalid/');
    const result = await runAxe(page);
    await page.waitForTimeout(200);
    await context.close();
    const found = new Set(result.violations.map((v) => v.id));
    assert.ok(found.has('label'), `axe missed the unlabelled input: ${[...found].join(', ')}`);
    assert.ok(found.has('button-name'), `axe missed the nameless button: ${[...found].join(', ')}`);
    assert.ok(result.passes > 0, 'axe passed no rule at all');
    assert.deepEqual(
      seen.filter((t) => /Content Security Policy|Refused to/i.test(t)),
      [],
      'putting axe into the page broke the CSP',
    );
  });

  step('the chart, phone-width and focus checks fail on planted faults (self-check)', async () => {
    // Pages axe itself passes, each with one fault only our own checks see.
    const policy = (await fetch(`${base}/login`)).headers.get('content-security-policy');
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    const planted = {
      '/chart': '<svg class="chart" aria-hidden="true" viewBox="0 0 10 10"></svg>',
      '/wide': '<p class="wide">wider than a phone</p>',
      '/focus': '<p><a href="#here" id="here">a link that hides its focus</a></p>',
    };
    await page.route('http://a11y-check.invalid/**', (route) => {
      const url = new URL(route.request().url());
      if (url.pathname === '/s.css') {
        return route.fulfill({
          status: 200,
          contentType: 'text/css',
          body: '.wide { width: 600px; } a:focus, a:focus-visible { outline: none; }',
        });
      }
      return route.fulfill({
        status: 200,
        contentType: 'text/html',
        headers: { 'content-security-policy': policy },
        body: `<!doctype html><html lang="en"><title>t</title><link rel="stylesheet" href="/s.css"><main><h1>t</h1>${planted[url.pathname]}</main></html>`,
      });
    });
    await page.goto('http://a11y-check.invalid/chart');
    await assert.rejects(checkPage(page), /a chart without its captioned table/);
    await page.goto('http://a11y-check.invalid/wide');
    await assert.rejects(checkPage(page), /scrolls sideways on a phone/);
    await page.setViewportSize(DESKTOP);
    await page.goto('http://a11y-check.invalid/focus');
    await checkPage(page);
    await assert.rejects(focusIsVisible(page, 1), /is not visible: no outline, no box shadow/);
    await context.close();
    // Only the walkthrough's own pages count in the final summary.
    accessibilityLog.splice(0, accessibilityLog.length);
  });

  step('a caseworker logs in with password and authenticator code', async () => {
    const context = await newContext('case.river');
    riverPage = await context.newPage();
    await riverPage.setViewportSize(PHONE);
    const response = await visit(riverPage, '/login');
    // The policy the final CSP check holds every page to.
    assert.match(response.headers()['content-security-policy'] ?? '', /default-src 'none'/);
    assert.equal(await riverPage.locator('h1').textContent(), 'Log in');
    await riverPage.fill('#username', 'case.river');
    await screenshot(riverPage, 'login.png');
    await riverPage.setViewportSize(DESKTOP);
    await logInAs(riverPage, user('case.river'), { open: false });
    // A caseworker's menu offers cases, not the coordinator's pages.
    const nav = riverPage.locator('nav[aria-label="Main menu"]');
    assert.equal(await nav.getByRole('link', { name: 'Cases' }).count(), 1);
    assert.equal(await nav.getByRole('link', { name: 'Certify keys' }).count(), 0);
  });

  step('the administrator creates a caseworker account and reads its activation code', async () => {
    const page = await browserOf('admin.slate');
    await visit(page, '/admin/users');
    assert.equal(await page.locator('h1').textContent(), 'Accounts');
    const form = page.locator('form[action="/admin/users"]');
    await form.locator('#username').fill(NEWBIE);
    await form.getByLabel('Caseworker').check();
    await submit(page, form.getByRole('button', { name: 'Create an account' }));

    const code = page.locator('p.notice code.secret');
    assert.equal(await code.count(), 1, `no activation code shown; page says: ${await mainText(page)}`);
    activationCode = (await code.textContent()).trim();
    assert.ok(activationCode.length >= 16, `activation code looks too short: ${activationCode}`);
    const row = page.locator('tbody tr', { hasText: NEWBIE });
    assert.match(await row.textContent(), /Caseworker/);
    assert.match(await row.textContent(), /waiting for activation/);
    await screenshot(page, 'accounts.png');
  });

  step('the new caseworker activates, keeps recovery codes, enrols and reads the fingerprint', async () => {
    const context = await newContext(NEWBIE);
    newbiePage = await context.newPage();
    const page = newbiePage;
    await visit(page, '/activate');
    await page.fill('#token', activationCode);
    await page.fill('#password', NEWBIE_PASSWORD);
    await page.fill('#confirm', NEWBIE_PASSWORD);
    await submit(page, page.getByRole('button', { name: 'Activate' }));

    assert.equal(await page.locator('h1').textContent(), 'Your recovery codes');
    const codes = await page.locator('ol.codes li code').allTextContents();
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10, 'the ten recovery codes differ');

    await submit(page, page.getByRole('link', { name: 'I have written them down' }));
    assert.equal(pathOf(page), '/enrol');
    const secret = (await page.locator('code.secret').textContent()).trim();
    assert.match(secret, /^[A-Z2-7]+=*$/, 'the secret is base32');
    newbie = { username: NEWBIE, password: NEWBIE_PASSWORD, totp_secret: secret };
    await page.fill('#code', await freshCode(secret));
    await screenshot(page, 'enrol.png');
    await submit(page, page.getByRole('button', { name: 'Confirm' }));

    assert.equal(pathOf(page), '/account');
    fingerprint = (await page.locator('p.fingerprint code').textContent()).trim();
    assert.match(fingerprint, /^\d{5}( \d{5}){4}$/, `fingerprint: ${fingerprint}`);
    assert.match(await mainText(page), /Your key is not certified yet/);
  });

  step('the coordinator certifies the new key', async () => {
    coordPage = await browserOf('coord.amber');
    const page = coordPage;
    await visit(page, '/certify');
    assert.equal(pathOf(page), '/certify');
    const section = page.locator('section.waiting', { has: page.locator('h2', { hasText: NEWBIE }) });
    assert.equal(await section.count(), 1, `${NEWBIE} waits for certification`);
    await section.getByLabel('Fingerprint').fill(fingerprint);
    await screenshot(page, 'certify.png');
    await submit(page, section.getByRole('button', { name: 'Certify' }));
    assert.match(await page.locator('p.notice[role=status]').textContent(), /^Certified\./);
    assert.equal(await page.locator('section.waiting', { hasText: NEWBIE }).count(), 0);
  });

  step('the newcomer logs out, then in again with password and an oathtool code', async () => {
    const page = newbiePage;
    await submit(page, page.locator('form.logout button'));
    assert.equal(pathOf(page), '/login');
    await visit(page, '/account');
    assert.equal(pathOf(page), '/login', 'logged out: /account leads to the login page');
    // The code comes from oathtool and the secret read off the enrolment page.
    await logInAs(page, newbie);
    await visit(page, '/account');
    assert.match(await mainText(page), /Your key is certified\./);
    const nav = page.locator('nav[aria-label="Main menu"]');
    assert.equal(await nav.getByRole('link', { name: 'Cases' }).count(), 1);
  });

  step('the newcomer\'s new case is refused once, keeping what was typed, then saved', async () => {
    const page = newbiePage;
    await visit(page, '/cases/new');
    assert.equal(await page.locator('main form[action="/cases"]').count(), 1, 'the new-case form');
    const notes = 'Met through helper JRL-01. Needs a medical check before moving.';
    await page.fill('#alias_0', `${ALIAS} 1990`);
    await page.selectOption('#age_0', '30-44');
    await page.selectOption('#gender_0', 'female');
    await page.selectOption('#stage', 'assessment');
    await page.fill('#notes', notes);
    const since = accessibilityLog.length;
    await submit(page, page.getByRole('button', { name: 'Save' }));

    assert.equal(pathOf(page), '/cases', 'the form comes back, not a case page');
    checkedSince(since, page);
    const error = page.locator('#alias_0 + p.field-error');
    assert.match(await error.textContent(), /must not contain a date/);
    assert.equal(await page.inputValue('#alias_0'), `${ALIAS} 1990`);
    assert.equal(await page.inputValue('#age_0'), '30-44');
    assert.equal(await page.inputValue('#gender_0'), 'female');
    assert.equal(await page.inputValue('#stage'), 'assessment');
    assert.equal(await page.inputValue('#notes'), notes);
    await screenshot(page, 'case-form-error.png');

    await page.fill('#alias_0', ALIAS);
    await submit(page, page.getByRole('button', { name: 'Save' }));
    const match = /^\/cases\/([0-9a-f-]{36})$/.exec(pathOf(page));
    assert.ok(match, `a saved case opens its page, got ${page.url()}`);
    caseId = match[1];
    assert.match((await page.locator('h1').innerText()).replace(/\s+/g, ' '), /^Kestrel ref [0-9a-f]{8}$/);
    assert.equal(await page.locator('table tbody tr td').first().textContent(), ALIAS);
    assert.equal(await page.locator('dt:text-is("Stage") + dd').textContent(), 'Assessment');
    assert.equal(await page.locator('pre.notes').textContent(), notes);
  });

  step('milestones added on the case page appear in the timeline', async () => {
    const page = newbiePage;
    const added = [
      { kind: 'contact_made', words: 'First contact', date: '2024-01', country: 'CN', note: 'Contact through the helper.' },
      { kind: 'crossed_border', words: 'Crossed a border', date: '2024-03', country: 'KR', note: 'Reached the consulate with the helper.' },
    ];
    for (const m of added) {
      const form = page.locator('form[action$="/milestones"]');
      await form.locator('#kind').selectOption(m.kind);
      await form.locator('#date').fill(m.date);
      await form.locator('#country').fill(m.country);
      await form.locator('#note').fill(m.note);
      await submit(page, form.getByRole('button', { name: 'Add a milestone' }));
      assert.equal(pathOf(page), `/cases/${caseId}`);
    }
    for (const m of added) {
      const entry = page.locator('ol.timeline li', { hasText: m.note });
      assert.equal(await entry.count(), 1, `the timeline shows ${m.note}`);
      const text = await entry.textContent();
      assert.match(text, new RegExp(m.date));
      assert.match(text, new RegExp(m.country));
    }
    await screenshot(page, 'case-page.png');
  });

  step('the coordinator assigns the case to a colleague, who opens it', async () => {
    const page = coordPage;
    await visit(page, `/cases/${caseId}`);
    const assign = page.locator(`form[action="/cases/${caseId}/assign"]`);
    await assign.locator('#assignee').selectOption({ label: 'case.river' });
    await submit(page, assign.getByRole('button', { name: 'Assign' }));
    assert.equal(pathOf(page), `/cases/${caseId}`);
    const holders = await page.locator('h2:text-is("Assigned caseworkers") + ul').textContent();
    assert.match(holders, /case\.newbie/, 'the newcomer holds the case they created');
    assert.match(holders, /case\.river/);
    await screenshot(page, 'assign.png');

    const response = await visit(riverPage, `/cases/${caseId}`);
    assert.equal(response.status(), 200);
    assert.equal(await riverPage.locator('table tbody tr td').first().textContent(), ALIAS);
  });

  step('an edit conflict: the colleague saves first; the newcomer sees their version and keeps the typed notes', async () => {
    const mine = newbiePage;
    const theirs = riverPage;
    await visit(mine, `/cases/${caseId}/edit`);
    await visit(theirs, `/cases/${caseId}/edit`);

    await theirs.selectOption('#stage', 'sheltered');
    await theirs.fill('#notes', 'Moved to shelter JRL-01. Medical check done.');
    await submit(theirs, theirs.getByRole('button', { name: 'Save' }));
    assert.equal(pathOf(theirs), `/cases/${caseId}`);

    const typed = 'The doctor asks for a follow-up visit.';
    await mine.fill('#notes', typed);
    const since = accessibilityLog.length;
    await submit(mine, mine.getByRole('button', { name: 'Save' }));
    checkedSince(since, mine);
    const alert = mine.locator('p.error[role=alert]');
    assert.match(await alert.textContent(), /Someone else saved this case/);
    const other = mine.locator('section.theirs');
    assert.match(await other.textContent(), /Moved to shelter JRL-01\. Medical check done\./);
    assert.match(await other.textContent(), /Stage: sheltered/i);
    assert.equal(await mine.inputValue('#notes'), typed);
    await screenshot(mine, 'conflict.png');

    // Merging by hand and saving again goes through.
    await mine.selectOption('#stage', 'sheltered');
    await mine.fill('#notes', `Moved to shelter JRL-01. Medical check done. ${typed}`);
    await submit(mine, mine.getByRole('button', { name: 'Save' }));
    assert.equal(pathOf(mine), `/cases/${caseId}`);
    assert.match(await mine.locator('pre.notes').textContent(), /follow-up visit/);
    assert.equal(await mine.locator('dt:text-is("Stage") + dd').textContent(), 'Sheltered');
  });

  step('the coordinator\'s team page and a freeze waiting for confirmation, on a phone', async () => {
    const page = coordPage;
    await page.setViewportSize(PHONE);
    await visit(page, '/team');
    assert.equal(pathOf(page), '/team');
    await screenshot(page, 'team.png');
    const row = page.locator('tr', { has: page.locator('td', { hasText: NEWBIE }) });
    await submit(page, row.getByRole('link', { name: 'Freeze' }));
    // Not confirmed: it names the person and what will happen.
    assert.match(await mainText(page), /case\.newbie/);
    await screenshot(page, 'freeze-confirm.png');
    await page.setViewportSize(DESKTOP);
  });

  step('each role lands on its own home, which fits a phone', async () => {
    coordinatorPhone = await homeOnPhone('coord.amber', 'Cases and people', 'home-coordinator.png');
    const main = coordinatorPhone.locator('main');
    // The pipeline names all eleven stages, each figure a link to the list.
    for (const stage of ['Intake', 'In transit', 'Arrived', 'Follow-up']) {
      assert.match(await main.textContent(), new RegExp(stage));
    }
    assert.ok((await main.locator('svg.chart').count()) >= 4, 'charts drawn on the server');
    const link = main.locator('a[href^="/cases?stage="]').first();
    await submit(coordinatorPhone, link);
    assert.equal(pathOf(coordinatorPhone), '/cases');
    assert.match(await coordinatorPhone.locator('.list-count').textContent(), /\d+ cases?|1 case|No case/);

    const pine = await homeOnPhone('case.pine', 'Your cases needing action', 'home-caseworker.png');
    assert.ok((await pine.locator('main a[href^="/cases/"]').count()) >= 1, 'the caseworker home lists own cases');
    await homeOnPhone('audit.fern', 'The audit chain', 'home-auditor.png');
    await homeOnPhone('admin.slate', 'Accounts', 'home-admin.png');
    commsPage = await homeOnPhone('comms.wren', 'Stories', 'home-communications.png');
    await commsPage.setViewportSize(DESKTOP);
  });

  step('the coordinator pages through the case list on a phone', async () => {
    const page = coordinatorPhone;
    await visit(page, '/cases');
    const count = await page.locator('.list-count').textContent();
    assert.match(count, /^\d+ cases, 1–50 shown/);
    assert.equal(await page.locator('table.case-list tbody tr').count(), 50);
    await screenshot(page, 'case-list-phone.png');
    await submit(page, page.getByRole('link', { name: /Next/ }));
    assert.match(await page.locator('.list-count').textContent(), /51–100 shown/);
    // A bad filter value is named beside its field, the rest kept.
    await visit(page, '/cases?stale_days=abc&stage=in_transit');
    assert.match(await mainText(page), /whole number/);
    assert.equal(await page.locator('#stage').inputValue(), 'in_transit');
  });

  step('a coordinator reviews a caseworker\'s story draft beside its gates and approves it', async () => {
    const page = coordPage;
    await visit(page, '/stories/drafts');
    assert.equal(await page.locator('h1').textContent(), 'Stories to review');
    await submit(page, page.getByRole('link', { name: 'Review' }).first());
    draftId = /^\/stories\/drafts\/([0-9a-f-]+)$/.exec(pathOf(page))?.[1];
    assert.ok(draftId, `a draft's own page, got ${page.url()}`);
    const main = page.locator('main');
    // Every gate is shown with its decision; the text names no alias.
    for (const gate of ['Consent', 'Out of danger', 'Embargo', 'Cannot be traced to one case']) {
      assert.match(await main.textContent(), new RegExp(gate));
    }
    const text = await page.locator('.story-text').first().textContent();
    assert.doesNotMatch(text, /Lark|Moss|Brook|Clover|Finch|Robin|China|Laos|Thailand|\d{4}-\d{2}-\d{2}/);
    await screenshot(page, 'story-review.png');
    await submit(page, page.getByRole('button', { name: 'Approve' }));
    assert.equal(pathOf(page), '/stories/drafts');
    assert.match(await page.locator('p.notice[role=status]').textContent(), /approved/i);
    assert.match(await mainText(page), /No drafts wait|no draft/i);
  });

  step('communications staff read and export stories and figures', async () => {
    const page = commsPage;
    const nav = page.locator('nav[aria-label="Main menu"]');
    assert.equal(await nav.getByRole('link', { name: 'Cases' }).count(), 0);
    await submit(page, nav.getByRole('link', { name: 'Stories' }));
    assert.equal(pathOf(page), '/stories');
    const stories = page.locator('main ul.stories li');
    assert.ok((await stories.count()) >= 6, 'the demo\'s approved stories and the one just approved');
    await screenshot(page, 'stories.png');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('main li', { hasText: 'Markdown' }).getByRole('link', { name: 'English' }).click(),
    ]);
    const markdown = readFileSync(await download.path(), 'utf8');
    assert.match(markdown, /^## /, 'a newsletter section');
    assert.doesNotMatch(markdown, /Lark|Moss|China|Laos|Thailand|\d{4}-\d{2}-\d{2}/);

    await submit(page, nav.getByRole('link', { name: 'Figures' }));
    assert.equal(pathOf(page), '/figures');
    await submit(page, page.locator('main table a').first());
    assert.match(pathOf(page), /^\/figures\/[0-9a-f-]+$/);
    assert.match(await mainText(page), /fewer than 10/);
    await screenshot(page, 'figures.png');
  });

  step('communications staff typing a case\'s URL, the case list, a draft, the trail or the accounts get nothing', async () => {
    const page = commsPage;
    for (const url of ['/cases', `/cases/${caseId}`, `/cases/${caseId}/edit`, `/stories/drafts/${draftId}`, '/audit', '/admin/users']) {
      const response = await visit(page, url);
      assert.ok([403, 404].includes(response.status()), `${url} answers communications staff ${response.status()}`);
      const text = await mainText(page);
      assert.match(text, /You are not allowed to open this page\.|This page does not exist\./, `${url} says why`);
      assert.doesNotMatch(text, new RegExp(ALIAS), `${url} names no alias`);
      assert.doesNotMatch(await page.content(), new RegExp(ALIAS), `${url} carries no alias anywhere in its HTML`);
    }
  });

  step('a coordinator reads a shelter\'s aid log and records a distribution', async () => {
    const page = coordPage;
    await visit(page, '/shelters');
    await submit(page, page.getByRole('link', { name: 'Aid log' }).first());
    assert.match(pathOf(page), /^\/shelters\/[0-9a-f-]+\/aid$/);
    const heading = await page.locator('h1').textContent();
    assert.match(heading, /^Aid log: [A-Z]{2,6}-\d{1,3}$/);
    assert.ok((await page.locator('main table tbody tr').count()) > 10, 'the demo\'s year of entries');
    const month = await page.locator('#month').getAttribute('max');
    await page.fill('#month', month);
    await page.selectOption('#kind', 'first_aid_kits');
    await page.fill('#quantity', '12');
    await page.fill('#people_served', '12');
    await page.fill('#note', 'Kits from the spring collection');
    await submit(page, page.getByRole('button', { name: 'Record' }));
    const notice = await page.locator('p.notice[role=status]').textContent();
    assert.match(notice, new RegExp(`Recorded for ${heading.replace('Aid log: ', '')}: First-aid kits`));
    await screenshot(page, 'aid-log.png');
  });

  step('a coordinator reviews the annual report of the last fiscal year and approves it', async () => {
    const page = coordPage;
    await visit(page, '/reports/new');
    await submit(page, page.locator('main ul.actions a').first());
    const main = page.locator('main');
    for (const section of ['Shelters run', 'helped to safety', 'Food', 'fewer than 10']) {
      assert.match(await main.textContent(), new RegExp(section, 'i'));
    }
    assert.doesNotMatch(await page.locator('.figures-preview').textContent(), /[A-Z]{2,6}-\d{1,3}|Lark|Moss|Brook/);
    await screenshot(page, 'report-review.png');
    await submit(page, page.getByRole('button', { name: 'Approve this report' }));
    assert.equal(pathOf(page), '/reports');
    assert.match(await page.locator('p.notice[role=status]').textContent(), /was approved/);
  });

  step('communications staff read and export the annual report', async () => {
    const page = commsPage;
    const nav = page.locator('nav[aria-label="Main menu"]');
    await submit(page, nav.getByRole('link', { name: 'Annual report' }));
    assert.equal(pathOf(page), '/reports');
    assert.equal(await page.getByRole('link', { name: /Prepare/ }).count(), 0, 'only coordinators prepare');
    await submit(page, page.locator('main table a').first());
    assert.match(pathOf(page), /^\/reports\/[0-9a-f-]+$/);
    await screenshot(page, 'report.png');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('main li', { hasText: 'Markdown' }).getByRole('link', { name: 'English' }).click(),
    ]);
    const markdown = readFileSync(await download.path(), 'utf8');
    assert.match(markdown, /^## /, 'a newsletter section');
    assert.doesNotMatch(markdown, /[A-Z]{2,6}-\d{1,3}|Lark|Moss|SP-\d|\d{4}-\d{2}-\d{2}/);
    if (process.env.UPDATE_SCREENSHOTS === '1') {
      // docs/programmes.md carries this export as its example.
      const guide = path.join(REPO, 'docs', 'programmes.md');
      const [before, rest] = readFileSync(guide, 'utf8').split('<!-- demo report (begin) -->\n');
      const after = rest.slice(rest.indexOf('<!-- demo report (end) -->'));
      const example = '````markdown\n' + markdown.trimEnd() + '\n````\n';
      writeFileSync(guide, `${before}<!-- demo report (begin) -->\n${example}${after}`);
    }
    assert.equal((await visit(page, '/reports/new')).status(), 403);
  });

  step('the rest of the coordinator\'s menu passes the same checks', async () => {
    // Pages no flow above opens, checked all the same: each answers 200.
    const page = coordPage;
    for (const url of ['/audit/flags', '/purge', '/figures/new', '/account']) {
      assert.equal((await visit(page, url)).status(), 200, url);
    }
    await visit(page, '/shelters');
    await submit(page, page.locator('main a[href$="/edit"]').first());
    assert.match(pathOf(page), /^\/shelters\/[0-9a-f-]+\/edit$/);
  });

  step('the focus shows on every link, button and field Tab reaches', async () => {
    // The login page in a browser of no one (not one the lockdown must log out).
    const nobody = await browser.newContext({ viewport: DESKTOP, baseURL: base });
    nobody.on('page', (page) => pages.watch(page));
    const checked = [
      [await nobody.newPage(), '/login', 10],
      [newbiePage, `/cases/${caseId}/edit`, 14],
      [coordPage, '/', 14],
      [commsPage, '/stories', 10],
    ];
    const tags = new Set();
    for (const [page, url, presses] of checked) {
      await visit(page, url);
      for (const f of await focusIsVisible(page, presses)) tags.add(f.tag);
    }
    await nobody.close();
    for (const tag of ['a', 'button', 'input']) assert.ok(tags.has(tag), `Tab reached no ${tag}: ${[...tags].join(', ')}`);
  });

  step('the coordinator locks down: every other open browser is logged out', async () => {
    // Every browser of the walkthrough is logged in before.
    const others = contexts.filter((c) => c.context !== coordPage.context());
    assert.ok(others.length >= 8, `the other browsers: ${others.map((c) => c.owner).join(', ')}`);
    for (const { owner, context } of others) {
      const page = await context.newPage();
      await page.goto('/');
      assert.equal(pathOf(page), '/', `${owner}'s browser is logged in before the lockdown`);
      await page.close();
    }

    const page = coordPage;
    await visit(page, '/lockdown');
    if (pathOf(page) === '/reauth') {
      // Lockdown asks for the password again after five minutes.
      await page.fill('#password', user('coord.amber').password);
      await submit(page, page.locator('main form button[type=submit]'));
    }
    assert.equal(pathOf(page), '/lockdown');
    await screenshot(page, 'lockdown.png');
    await page.getByLabel(/I understand/).check();
    await submit(page, page.getByRole('button', { name: 'Lock down now' }));
    assert.equal(pathOf(page), '/login');
    assert.match(await mainText(page), /locked down|Lockdown engaged/i);

    for (const { owner, context } of others) {
      const other = await context.newPage();
      await visit(other, '/');
      assert.equal(pathOf(other), '/login', `${owner}'s browser is logged out by the lockdown`);
      await other.close();
    }
    assert.equal(pathOf(await visit(page, '/')), '/login', 'the coordinator\'s own browser is logged out too');

    // No one logs in during a lockdown, with the right password and code.
    const pine = user('case.pine');
    await page.fill('#username', pine.username);
    await page.fill('#password', pine.password);
    await page.fill('#code', await freshCode(pine.totp_secret));
    await submit(page, page.locator('main form button[type=submit]'));
    assert.equal(pathOf(page), '/login');
    assert.match(await mainText(page), /Safehouse is locked down/);
  });

  step('the operator lifts the lockdown at the command line (safehouse lockdown --lift)', async () => {
    // The demo's data and secrets are under the directory it printed.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SAFEHOUSE_')));
    env.SAFEHOUSE_DATA_DIR = path.join(demo.info.data_dir, 'data');
    env.SAFEHOUSE_SECRETS_DIR = path.join(demo.info.data_dir, 'secrets');
    const out = execFileSync(binary, ['lockdown', '--lift'], { cwd: REPO, env, encoding: 'utf8' });
    assert.match(out, /Lockdown lifted/);
  });

  step('the auditor, last, finds all of the above in the trail and verifies the chain', async () => {
    const page = await browserOf('audit.fern');
    await visit(page, '/audit');
    assert.equal(await page.locator('h1').textContent(), 'Audit trail');

    /** The rows the trail's filters give, each as its cells' words. */
    async function trail({ actor = '', action = '', target = '' }) {
      await page.fill('#actor', actor);
      await page.selectOption('#action', action);
      await page.fill('#target', target);
      await submit(page, page.getByRole('button', { name: 'Filter' }));
      return page.locator('tbody tr').evaluateAll((rows) =>
        rows.map((r) => {
          const cells = [...r.querySelectorAll('td')].map((td) => td.innerText.trim());
          return { actor: cells[2], action: cells[4], target: cells[5], outcome: cells[6] };
        }),
      );
    }
    const has = (rows, what, pred) => assert.ok(rows.some(pred), `the trail shows ${what}: ${JSON.stringify(rows.slice(0, 8))}`);

    const newbieLine = (r) => r.target.includes(NEWBIE) || r.actor.includes(NEWBIE);
    has(await trail({ actor: 'admin.slate', action: 'user.create' }), 'the account created', (r) => r.target.includes(NEWBIE) && r.outcome === 'Done');
    has(await trail({ action: 'user.activate' }), 'the account activated', newbieLine);
    has(await trail({ action: 'totp.enrol' }), 'the two-factor enrolment', newbieLine);
    has(await trail({ actor: 'coord.amber', action: 'key.certify' }), 'the key certified', (r) => r.target.includes(NEWBIE));
    has(await trail({ actor: NEWBIE, action: 'login.ok' }), 'the newcomer\'s login', (r) => r.outcome === 'Done');

    const ofCase = await trail({ target: caseId });
    has(ofCase, 'the case created by the newcomer', (r) => r.action === 'Created a case' && r.actor.includes(NEWBIE));
    assert.ok(ofCase.filter((r) => r.action === 'Added a milestone' && r.actor.includes(NEWBIE)).length >= 2, 'two milestones');
    has(ofCase, 'the assignment to case.river', (r) => r.action === 'Assigned a case' && r.actor.includes('coord.amber'));
    has(ofCase, 'the colleague\'s change', (r) => r.action === 'Changed a case' && r.actor.includes('case.river') && r.outcome === 'Done');
    has(ofCase, 'the edit conflict', (r) => r.action === 'Changed a case' && r.actor.includes(NEWBIE) && r.outcome === 'Changed by someone else first');
    await page.selectOption('#action', 'case.update');
    await submit(page, page.getByRole('button', { name: 'Filter' }));
    await screenshot(page, 'audit.png');

    has(await trail({ actor: 'coord.amber', action: 'story.approve' }), 'the story approved', (r) => r.outcome === 'Done');
    has(await trail({ actor: 'coord.amber', action: 'report.approve' }), 'the report approved', (r) => r.outcome === 'Done');
    const exports = await trail({ actor: 'comms.wren', action: 'export' });
    assert.ok(exports.filter((r) => r.outcome === 'Done').length >= 2, `the stories and the report exported: ${JSON.stringify(exports)}`);
    const refused = await trail({ actor: 'comms.wren', action: 'route.denied' });
    for (const route of ['/cases', '/cases/{id}', '/cases/{id}/edit', '/stories/drafts/{id}', '/audit', '/admin/users']) {
      has(refused, `communications refused ${route}`, (r) => r.target === route && r.outcome === 'Refused');
    }
    // The pattern, never the id typed: the trail names no case for this role.
    assert.ok(refused.every((r) => !r.target.includes(caseId)), 'a refused route is recorded by its pattern');
    const lockdown = await trail({ action: 'lockdown' });
    has(lockdown, 'the lockdown engaged by the coordinator', (r) => r.target.includes('engage') && r.actor.includes('coord.amber'));
    has(lockdown, 'the lockdown lifted at the command line', (r) => r.target.includes('lift'));
    await screenshot(page, 'audit-lockdown.png');

    await submit(page, page.getByRole('button', { name: 'Verify the whole chain now' }));
    assert.match(
      await page.locator('p.notice[role=status]').textContent(),
      /^Verified .* entries up to #\d+ \(MAC [0-9a-f]{8}…\), no break\.$/,
    );
  });

  step('axe-core checked every page of the walkthrough at both widths', async (t) => {
    const summary = accessibilitySummary();
    const widths = [...summary.widths].sort((a, b) => a - b);
    assert.deepEqual(widths, [PHONE.width, DESKTOP.width], 'checked at phone and desktop width');
    // Each check ran axe's rules for real: none passed nothing.
    assert.ok(accessibilityLog.every((e) => e.passes > 10), 'every axe run passed its rules');
    for (const p of ['/login', '/activate', '/enrol', '/account', '/cases/new', '/cases', '/certify', '/team', '/', '/audit', '/lockdown', '/stories', '/figures', '/reports', '/admin/users', `/cases/${caseId}`, `/cases/${caseId}/edit`]) {
      assert.ok(summary.pages.has(p), `axe checked ${p}`);
    }
    const byUrlWidth = new Set(accessibilityLog.map((e) => `${e.width} ${e.url}`));
    for (const e of accessibilityLog) {
      for (const w of widths) assert.ok(byUrlWidth.has(`${w} ${e.url}`), `${e.url} checked at ${w} px`);
    }
    t.diagnostic(`axe-core: ${summary.checks} checks of ${summary.pages.size} paths at ${widths.join(' and ')} px`);
    for (const [rule, n] of summary.lesser) t.diagnostic(`axe-core, below serious: ${rule} on ${n} checks`);
    for (const [rule, n] of summary.review) t.diagnostic(`axe-core, left for review: ${rule} on ${n} checks`);
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
    'the demo stops on SIGTERM and removes its temporary directory',
    async () => {
      for (const { context } of contexts) await context.close();
      assert.equal(await stopDemo(demo), 'terminated', 'the demo should stop within 15 s of SIGTERM');
      assert.equal(existsSync(demo.info.data_dir), false, 'the demo left its directory behind');
    },
    { always: true },
  );
});
