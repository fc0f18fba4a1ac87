// The browser journey: a real Soloist binary on a fresh data directory,
// with a local SMTP server and a local Stripe stand-in, driven through
// headless Chromium the way a person uses it. A new writer signs up,
// confirms by the mailed link, signs in, edits the profile and switches to
// the dark theme, writes, previews and publishes a post, finds it on the
// blog, buys a plan through Checkout and sees it on the billing page. An
// administrator then finds the writer's changes in the audit trail and
// exports them as CSV.
//
// Then the page checks (checks.mjs): every page a visitor, the writer and
// the administrator can reach, in the light and the dark theme, through
// axe-core, a 390 px wide viewport and the Nu HTML checker; and Lighthouse
// (lighthouse.mjs) on the home page, the blog, the post and the sign-in
// page. Any finding fails the run (SOLOIST_CHECKS_REPORT_ONLY=1 only
// prints them; SOLOIST_LIGHTHOUSE=0 skips Lighthouse).
//
// Each step saves artifacts/browser/NN-step.png. A failing step saves
// NN-step-FAILED.png, prints the step's name and exits non-zero.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { PageChecks } from './checks.mjs';
import { lighthouseScores } from './lighthouse.mjs';
import { startSmtp } from './smtp.mjs';
import { SECRET_KEY, WEBHOOK_SECRET, startStripe } from './stripe.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const artifacts = path.join(root, 'artifacts', 'browser');
const soloistBin = process.env.SOLOIST_BIN ?? path.join(root, 'target', 'debug', 'soloist');
const chromiumBin = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const JOURNEY_TIMEOUT_MS = Number(process.env.JOURNEY_TIMEOUT_MS ?? 480_000);
const LIGHTHOUSE = process.env.SOLOIST_LIGHTHOUSE !== '0';

const run = Date.now().toString(36);
const writer = {
  name: 'Wren Writer',
  email: `wren.${run}@example.com`,
  password: 'a long journey passphrase',
};
const admin = {
  name: 'Ada Admin',
  email: `ada.${run}@example.com`,
  password: 'another long admin passphrase',
};
const post = {
  title: `Notes from the journey ${run}`,
  content: '## A first section\n\nThis post has **bold words** and a [link](https://example.com/).\n\n- one\n- two\n',
};
const plan = { name: 'Pro', price: '12.00', stripePrice: 'price_journey_pro' };
const category = { name: 'Field notes', description: 'Notes written on the way.' };
// Addresses the journey finds as it goes, for the page checks.
const found = {};

// ---------------------------------------------------------------- plumbing

const cleanups = [];
let soloist = null;
let soloistLog = '';
let stepNumber = 0;
let page = null;

function fail(message) {
  throw new Error(message);
}

function expect(condition, message) {
  if (!condition) fail(message);
}

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitHealthy(url, child) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) fail(`soloist exited with ${child.exitCode}:\n${soloistLog}`);
    try {
      const answer = await fetch(`${url}/healthz`);
      if (answer.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  fail(`soloist did not answer /healthz within 60 s:\n${soloistLog}`);
}

/** The address of the first link the locator finds, as a path. */
async function hrefOf(locator) {
  const href = await locator.first().getAttribute('href');
  expect(href, 'no link found');
  const url = new URL(href, baseUrl);
  return url.pathname + url.search;
}

async function stopSoloist() {
  if (!soloist || soloist.exitCode !== null) return;
  const exited = new Promise((resolve) => soloist.once('exit', resolve));
  soloist.kill('SIGTERM');
  const timer = setTimeout(() => soloist.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Runs one step: a screenshot after it, or a failure screenshot and exit. */
async function step(name, body) {
  stepNumber += 1;
  const label = `${String(stepNumber).padStart(2, '0')}-${name}`;
  const started = Date.now();
  try {
    await body();
    if (page) await page.screenshot({ path: path.join(artifacts, `${label}.png`), fullPage: true });
    console.log(`ok   ${label} (${Date.now() - started} ms)`);
  } catch (error) {
    console.error(`FAIL ${label}: ${error.message}`);
    if (page) {
      console.error(`     at ${page.url()}`);
      await page
        .screenshot({ path: path.join(artifacts, `${label}-FAILED.png`), fullPage: true })
        .catch(() => {});
    }
    error.step = label;
    throw error;
  }
}

/** The flash message the page shows. */
async function flash() {
  const alert = page.locator('main .alert').first();
  await alert.waitFor({ timeout: 5000 });
  return (await alert.textContent()).trim();
}

async function expectFlash(text) {
  const shown = await flash();
  expect(shown.includes(text), `expected the message "${text}", the page says "${shown}"`);
}

async function expectPath(pathname, search) {
  const url = new URL(page.url());
  expect(url.pathname === pathname, `expected to be at ${pathname}, the browser is at ${page.url()}`);
  if (search) {
    expect(url.search.includes(search), `expected ${search} in the address, the browser is at ${page.url()}`);
  }
}

async function heading() {
  return (await page.locator('main h1').first().textContent()).trim();
}

async function expectHeading(text) {
  const shown = await heading();
  expect(shown === text, `expected the heading "${text}", the page shows "${shown}"`);
}

/** The page's background colour as a luminance from 0 (black) to 1. */
async function backgroundLuminance() {
  return page.evaluate(() => {
    const colour = getComputedStyle(document.body).backgroundColor;
    let [r, g, b, a] = colour.match(/[\d.]+/g).map(Number);
    if (a === 0) [r, g, b] = getComputedStyle(document.documentElement).backgroundColor.match(/[\d.]+/g).map(Number);
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
  });
}

async function signIn(who) {
  await page.goto(`${baseUrl}/sign-in`);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState();
  expect(
    !new URL(page.url()).pathname.startsWith('/sign-in'),
    `signing in as ${who.email} stayed on the sign-in page: ${await page.locator('main').innerText()}`,
  );
}

async function signOut() {
  await page.locator('.site-nav').getByRole('button', { name: /^Sign out/ }).click();
  await page.waitForURL((url) => url.pathname === '/');
  await expectFlash('You are signed out.');
}

/** Sets the signed-in user's theme on the profile page. */
async function chooseTheme(theme) {
  await page.goto(`${baseUrl}/account/profile`);
  await page.getByLabel('Theme').selectOption(theme);
  await page.getByRole('button', { name: 'Save profile' }).click();
  await expectFlash('Your profile was saved.');
  expect((await page.locator('html').getAttribute('data-theme')) === theme, `the page is not marked data-theme="${theme}"`);
}

// ---------------------------------------------------------------- page checks

let checks = null;

/** Checks the page a visitor sees now (`note`: how it came), in both schemes. */
async function checkVisitorHere(name, note = 'the answer to its form') {
  await page.emulateMedia({ colorScheme: 'light' });
  await checks.check(page, { role: 'visitor', theme: 'light', current: true, note, name: `visitor-${name}` });
  await page.emulateMedia({ colorScheme: 'dark' });
  await checks.check(page, { role: 'visitor', theme: 'dark', current: true, note, name: `visitor-${name}`, html: false, width: false });
  await page.emulateMedia({ colorScheme: 'light' });
}

/**
 * Checks `pages` ({ url, status }) in each theme. A visitor's theme is the
 * system's (prefers-color-scheme); a signed-in user's is the profile's.
 */
async function checkPages(role, pages, themes) {
  for (const [index, theme] of themes.entries()) {
    if (role === 'visitor') await page.emulateMedia({ colorScheme: theme });
    else await chooseTheme(theme);
    for (const { url, status } of pages) {
      await checks.check(page, { role, theme, url, status, html: index === 0, width: index === 0 });
    }
  }
  if (role === 'visitor') await page.emulateMedia({ colorScheme: 'light' });
}

// ---------------------------------------------------------------- the journey

let baseUrl = '';

async function journey() {
  fs.rmSync(artifacts, { recursive: true, force: true });
  fs.mkdirSync(artifacts, { recursive: true });
  expect(fs.existsSync(soloistBin), `no soloist binary at ${soloistBin} (run cargo build, or set SOLOIST_BIN)`);
  expect(fs.existsSync(chromiumBin), `no Chromium at ${chromiumBin} (apt-get install chromium)`);

  // A fresh data directory. Its parent must be enterable by the user
  // PostgreSQL runs as when this runs as root.
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'soloist-journey-'));
  fs.chmodSync(scratch, 0o755);
  cleanups.push(() => fs.rmSync(scratch, { recursive: true, force: true }));
  const dataDir = path.join(scratch, 'data');

  const smtp = await startSmtp();
  cleanups.push(() => smtp.close());
  const stripe = await startStripe();
  cleanups.push(() => stripe.close());

  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  stripe.soloistUrl = baseUrl;

  const created = spawnSync(
    soloistBin,
    ['admin', 'create', '--data-dir', dataDir, '--email', admin.email, '--name', admin.name, '--password-stdin'],
    { input: `${admin.password}\n`, encoding: 'utf8', timeout: 90_000 },
  );
  expect(created.status === 0, `soloist admin create failed (${created.status}):\n${created.stdout}${created.stderr}`);

  soloist = spawn(
    soloistBin,
    [
      'serve',
      '--data-dir', dataDir,
      '--listen', `127.0.0.1:${port}`,
      '--smtp-url', smtp.url,
      '--mail-from', 'Soloist <no-reply@example.com>',
      '--stripe-secret-key', SECRET_KEY,
      '--stripe-webhook-secret', WEBHOOK_SECRET,
      '--stripe-api-url', stripe.url,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  for (const stream of [soloist.stdout, soloist.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      soloistLog += chunk;
    });
  }
  cleanups.push(async () => {
    await stopSoloist();
    fs.writeFileSync(path.join(artifacts, 'soloist.log'), soloistLog);
  });
  await waitHealthy(baseUrl, soloist);
  checks = new PageChecks({ artifacts, baseUrl });

  const browser = await chromium.launch({
    executablePath: chromiumBin,
    headless: true,
    // Playwright gives the browser a fresh temporary profile (user data dir).
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  cleanups.push(() => browser.close());
  const newPage = async () => {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      colorScheme: 'light',
      acceptDownloads: true,
    });
    context.setDefaultTimeout(10_000);
    context.setDefaultNavigationTimeout(15_000);
    const opened = await context.newPage();
    opened.on('pageerror', (error) => console.error(`     page error: ${error.message}`));
    opened.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        console.error(`     browser console: ${message.text()}`);
      }
    });
    opened.on('response', (response) => {
      if (response.status() >= 500) console.error(`     ${response.status()} ${response.request().method()} ${response.url()}`);
    });
    return opened;
  };

  // The administrator offers a plan that can be bought online.
  page = await newPage();
  await step('admin-creates-plan', async () => {
    await signIn(admin);
    await page.locator('.site-nav').getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Plans' }).click();
    await expectHeading('Plans');
    const form = page.locator('form[action="/admin/plans"]');
    await form.getByLabel('Name').fill(plan.name);
    await form.getByLabel('Price', { exact: true }).fill(plan.price);
    await form.getByLabel('Stripe Price id').fill(plan.stripePrice);
    await form.getByLabel('Description').fill('For writers who publish every week.');
    await form.getByLabel('Features').fill('Featured posts\nPriority support');
    await form.getByRole('button', { name: 'Create plan' }).click();
    await expectFlash('The plan was created.');
    const row = page.locator('table tr', { hasText: plan.stripePrice });
    expect((await row.count()) === 1, `the plans table does not list ${plan.stripePrice}`);
  });

  await step('admin-creates-category', async () => {
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Categories' }).click();
    await expectHeading('Categories');
    const form = page.locator('form[action="/admin/categories"]');
    await form.getByLabel('Name').fill(category.name);
    await form.getByLabel('Description').fill(category.description);
    await form.getByRole('button', { name: 'Create category' }).click();
    await expectFlash('created');
    const link = page.locator('table').getByRole('link', { name: category.name });
    expect((await link.count()) === 1, `the categories table does not list ${category.name}`);
    await signOut();
  });
  await page.context().close();

  // A new writer.
  page = await newPage();
  await step('sign-up', async () => {
    await page.goto(baseUrl);
    await page.locator('.site-nav').getByRole('link', { name: 'Sign up' }).click();
    await expectHeading('Create your account');
    await page.getByLabel('Name').fill(writer.name);
    await page.getByLabel('Email').fill(writer.email);
    await page.getByLabel('Password').fill(writer.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expectHeading('Check your email');
    const text = await page.locator('main').innerText();
    expect(text.includes(writer.email), `the page does not name ${writer.email}: ${text}`);
    await checkVisitorHere('sign-up-check-email');
  });

  await step('verify-by-mailed-link', async () => {
    const mail = await smtp.waitFor(writer.email, /verify-email\?token=/);
    const link = /https?:\/\/\S*verify-email\?token=[\w-]+/.exec(mail)?.[0];
    expect(link, `no confirmation link in the mail:\n${mail}`);
    expect(link.startsWith(baseUrl), `the link ${link} does not point at ${baseUrl}`);
    await page.goto(link);
    await expectHeading('Confirm your email address');
    await checkVisitorHere('verify-email', 'from the mailed link');
    await page.getByRole('button', { name: 'Confirm my email' }).click();
    await page.waitForURL((url) => url.pathname === '/account');
    await expectFlash('Your email address is confirmed.');
  });

  await step('sign-in', async () => {
    await signOut();
    await page.locator('.site-nav').getByRole('link', { name: 'Sign in' }).click();
    await expectHeading('Sign in');
    await page.getByLabel('Email').fill(writer.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const refused = await page.getByRole('alert').textContent();
    expect(/not|wrong|incorrect|invalid/i.test(refused), `a wrong password got no refusal: ${refused}`);
    await checkVisitorHere('sign-in-refused');
    await page.getByLabel('Password').fill(writer.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => !url.pathname.startsWith('/sign-in'));
    const signOutButton = page.locator('.site-nav').getByRole('button', { name: `Sign out ${writer.name}` });
    expect(await signOutButton.isVisible(), `the header does not show ${writer.name} as signed in`);
  });

  await step('profile-and-dark-theme', async () => {
    await page.goto(`${baseUrl}/account/profile`);
    await expectHeading('Your profile');
    const before = await backgroundLuminance();
    expect(before > 0.6, `the page should start light, its background luminance is ${before.toFixed(2)}`);
    await page.getByLabel('Name', { exact: true }).fill('Wren Q. Writer');
    await page.getByLabel('About you').fill('I write about one-binary software.');
    await page.getByLabel('Location').fill('Lisbon');
    await page.getByLabel('Time zone').fill('Europe/Lisbon');
    await page.getByLabel('Theme').selectOption('dark');
    await page.getByRole('button', { name: 'Save profile' }).click();
    await expectFlash('Your profile was saved.');
    writer.name = 'Wren Q. Writer';
    expect((await page.locator('html').getAttribute('data-theme')) === 'dark', 'the page is not marked data-theme="dark"');
    const after = await backgroundLuminance();
    expect(after < 0.3, `the dark theme did not apply: background luminance ${after.toFixed(2)}`);
    await page.goto(`${baseUrl}/blog`);
    const elsewhere = await backgroundLuminance();
    expect(elsewhere < 0.3, `the dark theme does not follow to /blog: luminance ${elsewhere.toFixed(2)}`);
    await page.goto(`${baseUrl}/account/profile`);
    expect((await page.getByLabel('Location').inputValue()) === 'Lisbon', 'the saved location is not shown again');
    expect((await page.getByLabel('Theme').inputValue()) === 'dark', 'the saved theme is not selected again');
  });

  await step('write-and-preview', async () => {
    await page.locator('.site-nav').getByRole('link', { name: 'Write' }).click();
    await expectPath('/posts');
    await page.getByRole('link', { name: /new post/i }).first().click();
    await expectHeading('New post');
    await page.getByLabel('Title').fill(post.title);
    await page.getByLabel('Content').fill(post.content);
    await page.getByLabel('Tags').fill('journeys, testing');
    await page.getByLabel('Category').selectOption({ label: category.name });
    await page.getByRole('button', { name: 'Preview' }).click();
    const preview = page.locator('section.preview');
    await preview.waitFor();
    expect((await preview.locator('h1').textContent()).trim() === post.title, 'the preview does not show the title');
    const bold = await preview.locator('.prose strong').textContent();
    expect(bold === 'bold words', `the preview does not render **bold words** as bold (found "${bold}")`);
    const section = await preview.locator('.prose h2').textContent();
    expect(section === 'A first section', `the preview does not render the ## heading (found "${section}")`);
    expect(!(await preview.innerText()).includes('**'), 'the preview shows raw Markdown');
    expect((await page.getByLabel('Content').inputValue()) === post.content, 'the editor lost the content on preview');
    await checks.check(page, { role: 'member', theme: 'dark', current: true, note: 'the preview', name: 'member-post-preview' });
  });

  await step('save-and-publish', async () => {
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expectFlash('Your draft was saved.');
    found.editPost = new URL(page.url()).pathname;
    expect(/^\/posts\/[^/]+\/edit$/.test(found.editPost), `saving a draft did not lead to its editor: ${page.url()}`);
    expect((await page.locator('.badge').first().textContent()).trim() === 'draft', 'a new post is not a draft');
    await page.getByRole('button', { name: 'Publish' }).click();
    await expectFlash('The post is published.');
    expect((await page.locator('.badge').first().textContent()).trim() === 'published', 'the post is not marked published');
  });

  await step('post-on-blog', async () => {
    await page.locator('.site-nav').getByRole('link', { name: 'Blog' }).click();
    await expectPath('/blog');
    const link = page.getByRole('link', { name: post.title });
    expect((await link.count()) >= 1, `/blog does not list "${post.title}"`);
    await link.first().click();
    await page.waitForURL((url) => url.pathname.startsWith('/blog/') && url.pathname.length > 6);
    await expectHeading(post.title);
    const body = await page.locator('main').innerText();
    expect(body.includes('bold words'), 'the public post lacks its content');
    expect(body.includes('Wren Q. Writer'), 'the public post does not name its author by the new profile name');
    found.post = new URL(page.url()).pathname;
    found.author = await hrefOf(page.locator('main a[rel="author"]'));
    found.category = await hrefOf(page.locator('main .post-meta a.badge-category'));
    found.tag = await hrefOf(page.locator('main .post-footer a.tag'));
    expect(found.category.startsWith('/categories/'), `the post does not link its category: ${found.category}`);
  });

  await step('checkout', async () => {
    await page.locator('.site-nav').getByRole('link', { name: 'Pricing' }).click();
    await expectHeading('Pricing');
    const card = page.locator('article.plan-card', { hasText: plan.name });
    expect((await card.locator('.plan-price').textContent()).includes('12.00'), 'the Pro plan does not show its price');
    await card.getByRole('button', { name: `Choose ${plan.name}` }).click();
    await page.waitForURL((url) => url.href.startsWith(`${stripe.url}/pay/`));
    expect((await page.locator('#email').textContent()) === writer.email, 'Checkout is not for the writer');
    expect((await page.locator('#price').textContent()) === plan.stripePrice, 'Checkout is not for the Pro price');
  });

  await step('plan-on-billing-page', async () => {
    await page.getByRole('button', { name: 'Pay and subscribe' }).click();
    await page.waitForURL((url) => url.href.startsWith(`${baseUrl}/account/billing`));
    await expectFlash('Thank you!');
    const details = await page.locator('section[aria-labelledby="plan-title"] dl').innerText();
    expect(details.includes(`${plan.name} ·`) && details.includes('12.00'), `the billing page does not show the Pro plan:\n${details}`);
    expect(/Status\s+Active/.test(details), `the subscription is not shown as active:\n${details}`);
    expect(/Renews/.test(details), `no renewal date is shown:\n${details}`);
    const payments = await page.locator('section[aria-labelledby="payments-title"]').innerText();
    expect(payments.includes('$12.00') && payments.includes('succeeded'), `the payment is not in the history:\n${payments}`);
    await page.goto(`${baseUrl}/pricing`);
    const current = page.locator('article.plan-card', { hasText: plan.name }).getByRole('link', { name: 'Your current plan' });
    expect(await current.isVisible(), 'the pricing page does not mark Pro as the current plan');
    await current.click();
    await expectPath('/account/billing');
  });

  await step('checks-member', async () => {
    const pages = [
      '/account', '/account/profile', '/account/security', '/account/billing',
      '/posts', '/posts/new', found.editPost, found.editPost.replace(/\/edit$/, '/delete'),
      '/', '/blog', found.post, '/pricing',
    ].map((url) => ({ url, status: 200 }));
    pages.push({ url: '/admin', status: 403 }, { url: '/no-such-page', status: 404 });
    await checkPages('member', pages, ['light', 'dark']);
  });
  await page.context().close();

  // The administrator finds the writer's changes.
  page = await newPage();
  let auditUrl = '';
  await step('admin-finds-changes-in-audit', async () => {
    await signIn(admin);
    await page.goto(`${baseUrl}/admin`);
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Audit trail' }).click();
    await expectHeading('Audit trail');
    await page.getByLabel("Actor's email").fill(writer.email);
    await page.getByRole('button', { name: 'Filter' }).click();
    await expectPath('/admin/audit', 'actor=');
    auditUrl = page.url();
    const rows = page.locator('table.audit-table tbody tr');
    const count = await rows.count();
    expect(count >= 5, `only ${count} audit rows for ${writer.email}`);
    const text = await page.locator('table.audit-table tbody').innerText();
    for (const wanted of ['Post', 'User', 'Signed in', 'Created', 'Changed']) {
      expect(text.includes(wanted), `the filtered trail lacks "${wanted}":\n${text}`);
    }
    const actors = await rows.locator('td:nth-child(2)').allInnerTexts();
    expect(actors.every((actor) => actor.includes(writer.email)), `the filter let other actors through: ${actors.join(', ')}`);
    const profileRow = rows.filter({ hasText: 'theme' });
    expect((await profileRow.count()) >= 1, 'no audit row shows the theme change');
  });

  await step('admin-sees-subscription-in-audit', async () => {
    await page.goto(`${baseUrl}/admin/audit`);
    await page.getByLabel('Entity', { exact: true }).fill('subscriptions');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expectPath('/admin/audit', 'entity=subscriptions');
    const text = await page.locator('table.audit-table tbody').innerText();
    expect(text.includes('Created'), `no subscription was created in the trail:\n${text}`);
  });

  await step('admin-exports-csv', async () => {
    await page.goto(auditUrl);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Export CSV' }).click(),
    ]);
    const saved = path.join(artifacts, 'audit-export.csv');
    await download.saveAs(saved);
    const csv = fs.readFileSync(saved, 'utf8');
    const lines = csv.split('\r\n').filter((line) => line.length > 0);
    expect(
      lines[0] === 'created_at,actor_email,user_id,action,entity,entity_id,changes,ip_address,user_agent,metadata',
      `unexpected CSV header: ${lines[0]}`,
    );
    const rows = lines.slice(1);
    const shown = await page.locator('table.audit-table tbody tr').count();
    expect(rows.length === shown, `the CSV has ${rows.length} rows, the filtered page shows ${shown}`);
    expect(rows.every((row) => row.split(',')[1] === `"${writer.email}"`), 'the CSV holds rows of other actors');
    expect(rows.some((row) => row.includes('"posts"') && row.includes('published')), 'the CSV lacks the publication');
    expect(rows.some((row) => row.includes(`"user_profiles"`) && row.includes("dark")), "the CSV lacks the theme change");
    expect(rows.some((row) => row.includes('"LOGIN"')), 'the CSV lacks the sign-in');
  });

  await step('checks-admin', async () => {
    await page.goto(`${baseUrl}/admin/users`);
    const user = await hrefOf(page.locator('table tr', { hasText: writer.email }).getByRole('link'));
    await page.goto(`${baseUrl}/admin/audit`);
    const entry = await hrefOf(page.locator('table.audit-table tbody tr').first().getByRole('link'));
    await page.goto(`${baseUrl}/admin/plans`);
    const planPage = await hrefOf(page.locator('table').getByRole('link', { name: plan.name }));
    await page.goto(`${baseUrl}/admin/categories`);
    const categoryPage = await hrefOf(page.locator('table').getByRole('link', { name: category.name }));
    const pages = [
      '/admin', '/admin/users', user, '/admin/audit', entry, '/admin/plans', planPage,
      '/admin/subscriptions', '/admin/stripe-events', '/admin/categories', categoryPage,
      '/admin/outbox', '/admin/database', '/admin/backups',
    ];
    // Being added alongside these checks: checked once it is there.
    const settings = await page.request.get(`${baseUrl}/admin/settings`, { maxRedirects: 0 });
    if (settings.status() === 200) pages.push('/admin/settings');
    else console.log(`     /admin/settings answers ${settings.status()}: not checked`);
    await checkPages('admin', pages.map((url) => ({ url, status: 200 })), ['light', 'dark']);
  });
  await page.context().close();

  // What a visitor can reach, in the system's light and dark schemes.
  page = await newPage();
  await step('checks-visitor', async () => {
    const pages = [
      '/', '/blog', found.post, found.category, found.tag, found.author, '/search?q=journey',
      '/pricing', '/sign-in', '/sign-up', '/magic-link', '/reset-password',
    ].map((url) => ({ url, status: 200 }));
    pages.push(
      { url: '/no-such-page', status: 404 },
      { url: '/blog/no-such-post', status: 404 },
      { url: '/reset-password/confirm?token=used-up', status: 400 },
    );
    await checkPages('visitor', pages, ['light', 'dark']);
  });

  await step('checks-visitor-mailed-links', async () => {
    for (const [start, button, pattern, name] of [
      ['/reset-password', 'Send the link', /reset-password\/confirm\?token=[\w-]+/, 'reset-password'],
      ['/magic-link', 'Email me a link', /magic-link\/confirm\?token=[\w-]+/, 'magic-link'],
    ]) {
      await page.goto(`${baseUrl}${start}`);
      await page.getByLabel('Email').fill(writer.email);
      await page.locator('main form').getByRole('button', { name: button }).click();
      await expectHeading('Check your email');
      await checkVisitorHere(`${name}-check-email`);
      const mail = await smtp.waitFor(writer.email, pattern);
      const link = new URL(pattern.exec(mail)?.[0] ?? fail(`no ${name} link in the mail:\n${mail}`), baseUrl);
      const url = `/${link.pathname.replace(/^\//, '')}${link.search}`;
      await page.goto(`${baseUrl}${url}`);
      await checkVisitorHere(`${name}-confirm`, 'from the mailed link');
    }
  });

  await step('checks-visitor-form-answers', async () => {
    // The sign-up form with the server's field errors (the browser's own
    // checks switched off, as an old browser or a script would send it).
    await page.goto(`${baseUrl}/sign-up`);
    await page.locator('main form').evaluate((form) => {
      form.noValidate = true;
    });
    await page.getByLabel('Name').fill('');
    await page.getByLabel('Email').fill('not an address');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.locator('main .field-error').first().waitFor();
    await checkVisitorHere('sign-up-errors');
    // Signing in before confirming the address.
    const unconfirmed = { name: 'Una Unconfirmed', email: `una.${run}@example.com`, password: 'not confirmed yet, this one' };
    await page.goto(`${baseUrl}/sign-up`);
    await page.getByLabel('Name').fill(unconfirmed.name);
    await page.getByLabel('Email').fill(unconfirmed.email);
    await page.getByLabel('Password').fill(unconfirmed.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expectHeading('Check your email');
    await page.goto(`${baseUrl}/sign-in`);
    await page.getByLabel('Email').fill(unconfirmed.email);
    await page.getByLabel('Password').fill(unconfirmed.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expectHeading('Confirm your email first');
    await checkVisitorHere('sign-in-unconfirmed');
  });

  await step('checks-html', async () => {
    checks.validateHtml();
  });
  await page.context().close();
  page = null;

  let lighthouseBelow = [];
  if (LIGHTHOUSE) {
    await step('lighthouse', async () => {
      const { below } = await lighthouseScores(baseUrl, ['/', '/blog', found.post, '/sign-in'], {
        chromePath: chromiumBin,
        artifacts: path.join(artifacts, 'lighthouse'),
        strict: false,
      });
      lighthouseBelow = below;
    });
  }

  await step('checks-verdict', async () => {
    checks.finish(lighthouseBelow);
  });
}

// ---------------------------------------------------------------- main

async function cleanUp() {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      console.error(`cleanup: ${error.message}`);
    }
  }
  cleanups.length = 0;
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    await cleanUp();
    process.exit(130);
  });
}

const started = Date.now();
const watchdog = setTimeout(async () => {
  console.error(`FAIL the journey took longer than ${JOURNEY_TIMEOUT_MS / 1000} s`);
  if (page) await page.screenshot({ path: path.join(artifacts, 'timeout-FAILED.png'), fullPage: true }).catch(() => {});
  await cleanUp();
  process.exit(1);
}, JOURNEY_TIMEOUT_MS);

let status = 0;
try {
  await journey();
  console.log(`browser journey passed in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${path.relative(root, artifacts)}`);
} catch (error) {
  status = 1;
  if (!error.step) console.error(`FAIL setup: ${error.message}`);
  const tail = soloistLog.split('\n').slice(-30).join('\n');
  if (tail.trim()) console.error(`--- last lines of soloist's log\n${tail}`);
} finally {
  clearTimeout(watchdog);
  await cleanUp();
}
process.exit(status);
