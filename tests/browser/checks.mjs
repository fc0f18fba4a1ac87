// Page checks the journey runs on every page a visitor, a member and an
// administrator can reach:
//
// - axe-core (the pinned npm package), in the light and the dark theme:
//   no violation of its default rules;
// - at a 390 × 844 viewport, nothing wider than the viewport
//   (document.documentElement.scrollWidth <= 390), and axe-core again (a
//   table that scrolls sideways there must be reachable by keyboard);
// - the Nu HTML checker (npm vnu-jar, one JVM over every page's HTML as the
//   server sent it): no error.
//
// Every finding is printed with its page, theme, rule, element and message,
// and saved to artifacts/browser/checks.json; a page with an axe or width
// finding also leaves a screenshot in artifacts/browser/checks/. With
// SOLOIST_CHECKS_REPORT_ONLY=1 the findings are printed but do not fail.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const vnuJar = path.join(path.dirname(require.resolve('vnu-jar/package.json')), 'build', 'dist', 'vnu.jar');

export const REPORT_ONLY = process.env.SOLOIST_CHECKS_REPORT_ONLY === '1';

/** The narrow viewport no page may be wider than. */
export const PHONE = { width: 390, height: 844 };

/** Where a page's box pokes out of the viewport: the outermost such elements. */
function overflowingElements(limit) {
  const describe = (element) => {
    const parts = [];
    for (let node = element; node && node !== document.documentElement && parts.length < 6; node = node.parentElement) {
      let part = node.localName;
      if (node.id) {
        parts.unshift(`${part}#${node.id}`);
        break;
      }
      const classes = [...node.classList].slice(0, 2);
      if (classes.length) part += `.${classes.join('.')}`;
      parts.unshift(part);
    }
    return parts.join(' > ');
  };
  // Inside a scrolling or clipping box an element may be wide: the box
  // scrolls, not the page. Only boxes in the chain of containing blocks
  // clip: an absolutely positioned element escapes a scroller that is not
  // positioned (a classic cause of a page wider than the screen).
  const clipped = (element) => {
    let position = getComputedStyle(element).position;
    for (let node = element.parentElement; node && node !== document.body; node = node.parentElement) {
      const style = getComputedStyle(node);
      const contains =
        position === 'fixed'
          ? style.transform !== 'none'
          : position === 'absolute'
            ? style.position !== 'static' || style.transform !== 'none'
            : true;
      if (!contains) continue;
      if (style.overflowX !== 'visible') return true;
      position = style.position;
    }
    return false;
  };
  const pokesOut = (element) => {
    const box = element.getBoundingClientRect();
    return box.width > 0 && (box.right > limit + 0.5 || box.left < -0.5);
  };
  const culprit = (element) => pokesOut(element) && !clipped(element);
  const found = [];
  for (const element of document.body.querySelectorAll('*')) {
    if (!culprit(element)) continue;
    // Report the outermost: an element that pokes out inside a parent that fits.
    if (element.parentElement && element.parentElement !== document.body && culprit(element.parentElement)) continue;
    const box = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    found.push({
      element: describe(element),
      left: Math.round(box.left),
      right: Math.round(box.right),
      width: Math.round(box.width),
      minWidth: style.minWidth,
      whiteSpace: style.whiteSpace,
      position: style.position,
      text: (element.textContent ?? '').replace(/\s+/g, ' ').trim().slice(0, 60),
    });
  }
  return found.sort((a, b) => b.right - a.right).slice(0, 8);
}

function slug(text) {
  return text.replace(/^\/+/, '').replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'home';
}

function oneLine(text) {
  return (text ?? '').replace(/\s+/g, ' ').trim();
}

export class PageChecks {
  constructor({ artifacts, baseUrl }) {
    this.artifacts = artifacts;
    this.baseUrl = baseUrl;
    this.htmlDir = path.join(artifacts, 'html');
    this.shotDir = path.join(artifacts, 'checks');
    fs.mkdirSync(this.htmlDir, { recursive: true });
    fs.mkdirSync(this.shotDir, { recursive: true });
    this.findings = [];
    this.pages = [];
    this.htmlFiles = new Map();
    this.ms = { axe: 0, width: 0, html: 0, vnu: 0, navigation: 0 };
    this.axeRuns = 0;
  }

  add(finding) {
    this.findings.push(finding);
  }

  /** One line for a page with findings, as the checks go. */
  announce(from, { role, theme, url }) {
    const found = this.findings.slice(from);
    if (found.length === 0) return;
    const rules = [...new Set(found.map(({ check, rule }) => `${check} ${rule.replace(/ \(.*/, '')}`))];
    console.error(`     ${role}/${theme} ${url}: ${found.length} findings (${rules.join(', ')})`);
  }

  /**
   * Checks one page. `url` is opened first unless `current` is set (the
   * page the journey is on, e.g. a form's answer, which `note` names).
   * `theme` names the theme in force; `html` and `width` say whether to
   * save its HTML and measure its width (once per page is enough, the
   * theme does not change either).
   */
  async check(page, { role, theme, url, current = false, note, status = 200, html = true, width = true, name }) {
    let body = null;
    const started = Date.now();
    const from = this.findings.length;
    if (!current) {
      const response = await page.goto(new URL(url, this.baseUrl).href);
      const got = response?.status();
      if (got !== status) {
        this.add({ check: 'status', role, theme, page: url, rule: 'status', element: 'document', message: `answered ${got}, expected ${status}` });
      }
      if (html) body = await response.text();
    } else {
      url = `${new URL(page.url()).pathname}${new URL(page.url()).search} (${note ?? 'as the journey left it'})`;
      if (html) body = await page.content();
    }
    await page.waitForLoadState('load');
    this.ms.navigation += Date.now() - started;
    const label = name ?? `${role}-${slug(url)}`;
    if (!this.pages.some((seen) => seen.label === label)) this.pages.push({ label, role, url });

    if (await this.axe(page, { role, theme, url })) {
      await page
        .screenshot({ path: path.join(this.shotDir, `${label}-${theme}.png`), fullPage: true })
        .catch(() => {});
    }
    if (width) await this.width(page, { role, theme, url, label });
    this.announce(from, { role, theme, url });
    if (body !== null) {
      const started = Date.now();
      const file = path.join(this.htmlDir, `${label}.html`);
      fs.writeFileSync(file, body);
      this.htmlFiles.set(path.resolve(file), { role, url });
      this.ms.html += Date.now() - started;
    }
  }

  async axe(page, { role, theme, url }) {
    const started = Date.now();
    // A change of theme fades colours in: measure contrast once it is over.
    await page.evaluate(() =>
      Promise.race([
        Promise.all(document.getAnimations().map((animation) => animation.finished.catch(() => {}))),
        new Promise((resolve) => setTimeout(resolve, 2000)),
      ]),
    );
    const hasAxe = await page.evaluate(() => typeof window.axe === 'object');
    if (!hasAxe) await page.evaluate(axeSource);
    const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
    this.ms.axe += Date.now() - started;
    this.axeRuns += 1;
    for (const violation of results.violations) {
      for (const node of violation.nodes) {
        const summary = oneLine(node.failureSummary).replace(/^Fix (any|all) of the following: /, '');
        this.add({
          check: 'axe',
          role,
          theme,
          page: url,
          rule: `${violation.id} (${node.impact ?? violation.impact})`,
          element: `${node.target.join(' ')} ${oneLine(node.html).slice(0, 160)}`,
          message: `${violation.help}. ${summary}`,
          html: node.html,
        });
      }
    }
    return results.violations.length > 0;
  }

  /** The page at 390 px: no wider than that, and axe again (phone layout). */
  async width(page, { role, theme, url, label }) {
    const started = Date.now();
    const before = page.viewportSize();
    await page.setViewportSize(PHONE);
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    const axeStarted = Date.now();
    const narrowTheme = `${theme}, ${PHONE.width} px`;
    if (await this.axe(page, { role, theme: narrowTheme, url })) {
      await page.screenshot({ path: path.join(this.shotDir, `${label}-${theme}-${PHONE.width}px-axe.png`), fullPage: true }).catch(() => {});
    }
    const axeMs = Date.now() - axeStarted;
    if (scrollWidth > PHONE.width) {
      const widest = await page.evaluate(overflowingElements, PHONE.width);
      if (widest.length === 0) {
        this.add({ check: 'width', role, page: url, rule: 'scroll-width', element: 'document', message: `${scrollWidth} px wide at a ${PHONE.width} px viewport` });
      }
      for (const found of widest) {
        this.add({
          check: 'width',
          role,
          page: url,
          rule: 'scroll-width',
          element: found.element,
          message: `page ${scrollWidth} px wide at ${PHONE.width} px; this element spans ${found.left}..${found.right} px (width ${found.width}, position ${found.position}, min-width ${found.minWidth}, white-space ${found.whiteSpace}) "${found.text}"`,
        });
      }
      await page.screenshot({ path: path.join(this.shotDir, `${label}-${PHONE.width}px.png`), fullPage: true }).catch(() => {});
    }
    await page.setViewportSize(before);
    this.ms.width += Date.now() - started - axeMs;
  }

  /** The Nu HTML checker over every saved page, in one JVM. */
  validateHtml() {
    const files = [...this.htmlFiles.keys()];
    if (files.length === 0) return;
    const started = Date.now();
    const run = spawnSync('java', ['-jar', vnuJar, '--errors-only', '--format', 'json', ...files], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    this.ms.vnu = Date.now() - started;
    if (run.error) throw new Error(`could not run the Nu HTML checker (java -jar ${vnuJar}): ${run.error.message}`);
    let report;
    try {
      report = JSON.parse(run.stderr || run.stdout);
    } catch {
      throw new Error(`the Nu HTML checker exited ${run.status} without a JSON report:\n${run.stdout}${run.stderr}`);
    }
    for (const message of report.messages ?? []) {
      const file = message.url?.startsWith('file:') ? path.resolve(new URL(message.url).pathname) : null;
      const origin = (file && this.htmlFiles.get(file)) ?? { role: '?', url: message.url ?? '?' };
      this.add({
        check: 'html',
        role: origin.role,
        page: origin.url,
        rule: message.type === 'error' ? 'vnu-error' : `vnu-${message.type}`,
        element: `line ${message.lastLine}: ${oneLine(message.extract)}`,
        message: message.message,
        file: file ? path.relative(this.artifacts, file) : undefined,
      });
    }
    if (run.status !== 0 && (report.messages ?? []).length === 0) {
      throw new Error(`the Nu HTML checker exited ${run.status}:\n${run.stderr}`);
    }
  }

  /**
   * Prints the summary, saves checks.json, and fails unless report-only.
   * `lighthouse` lists Lighthouse scores below their threshold.
   */
  finish(lighthouse = []) {
    fs.writeFileSync(
      path.join(this.artifacts, 'checks.json'),
      JSON.stringify({ pages: this.pages, findings: this.findings, lighthouse, ms: this.ms }, null, 2),
    );
    const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
    console.log(
      `     checked ${this.pages.length} pages: axe ${this.axeRuns} runs ${seconds(this.ms.axe)}, ` +
        `width ${seconds(this.ms.width)}, vnu ${this.htmlFiles.size} files ${seconds(this.ms.vnu)}, ` +
        `navigation ${seconds(this.ms.navigation)}`,
    );
    if (this.findings.length === 0 && lighthouse.length === 0) return;
    const counts = {};
    for (const { check } of this.findings) counts[check] = (counts[check] ?? 0) + 1;
    if (lighthouse.length) counts.lighthouse = lighthouse.length;
    const total = this.findings.length + lighthouse.length;
    const lines = [`${total} findings (${Object.entries(counts).map(([check, n]) => `${check} ${n}`).join(', ')}):`];
    // One entry per problem: the same rule on the same element with the
    // same message, on every page and theme where it was found.
    const groups = new Map();
    for (const finding of this.findings) {
      const key = [finding.check, finding.rule, finding.html ?? finding.element, finding.message].join('\u0000');
      if (!groups.has(key)) groups.set(key, { ...finding, where: [], elements: new Set() });
      const group = groups.get(key);
      group.where.push(`${finding.page} (${finding.role}${finding.theme ? `, ${finding.theme}` : ''})`);
      group.elements.add(finding.element);
    }
    lines[0] = lines[0].replace(/:$/, `, ${groups.size + lighthouse.length} distinct:`);
    const sorted = [...groups.values()].sort((a, b) => b.where.length - a.where.length || a.where[0].localeCompare(b.where[0]));
    for (const { check, rule, message, where, elements } of sorted) {
      lines.push(
        `  ${check} ${rule}, found ${where.length} time${where.length === 1 ? '' : 's'}:\n` +
          `      at ${[...elements].join('\n       | ')}\n` +
          `      ${message}\n` +
          `      on ${where.join(', ')}`,
      );
    }
    for (const below of lighthouse) lines.push(`  Lighthouse: ${below}`);
    lines.push(`  (all of it in ${path.join('artifacts', 'browser', 'checks.json')}; screenshots in artifacts/browser/checks/)`);
    const text = lines.join('\n');
    if (REPORT_ONLY) {
      console.log(`     SOLOIST_CHECKS_REPORT_ONLY=1: not failing on ${text}`);
      return;
    }
    throw new Error(text);
  }
}
