/**
 * The dashboard's operations pages end to end: the audit page's recent entries, paging and live
 * chain check (intact, then broken by an edited line), and the health page's nodes,
 * certificates and charts, on a server with two file devices and one served over TLS.
 */
import { randomBytes } from 'node:crypto';
import { access, mkdtemp, open as openFile, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningServer, startServer } from '@custos/server';
import { createTestPki } from '@custos/test-support/tls';
import { requireTool } from '@custos/test-support/tools';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accessibilityViolations,
  callApi,
  launchChromium,
  openPage,
  type PageWatch,
  poll,
  screenshot,
} from './browser.js';

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const DAY = 86_400_000;

const ready = requireTool('chromium') && requireTool('openssl');

/** Made at run time: never a literal the self-scan reads as a credential. */
const rootToken = `ops-root-${randomBytes(12).toString('hex')}`;
const canary = `CANARY-${randomBytes(9).toString('hex')}`;

describe.runIf(ready)('the dashboard’s audit and health pages', { timeout: 90_000 }, () => {
  let server: RunningServer;
  let tlsServer: RunningServer;
  let browser: Browser;
  let dir: string;
  let limitedToken: string;
  const watches: PageWatch[] = [];

  const api = (method: string, path: string, body?: unknown) =>
    callApi(server.url, rootToken, method, path, body);

  const open = async (viewport?: { width: number; height: number }) => {
    const watch = await openPage(browser, server.url, viewport);
    watches.push(watch);
    return watch;
  };

  /** A page of the TLS server (its certificate is the test CA's: not checked here). */
  const openTls = async (viewport = { width: 1280, height: 900 }) => {
    const context = await browser.newContext({ viewport, ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    return { page, errors };
  };

  const signIn = async (page: Page, url: string, token: string) => {
    await page.goto(`${url}/ui/`);
    await page.getByRole('textbox', { name: 'Token' }).fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await poll(() => page.getByRole('button', { name: 'Log out' }).count()).toBe(1);
  };

  /**
   * axe-core's findings once React Aria's live announcer has dropped the sign-in button's
   * "pending" announcement (a node labelled by the button, which is gone after sign-in; the
   * announcer removes it after a few seconds).
   */
  const violations = async (page: Page) => {
    await poll(() => page.locator('[role="log"] [role="img"]').count()).toBe(0);
    return accessibilityViolations(page);
  };

  /** The health page, refreshed until the server has a sample for the charts. */
  const healthWithCharts = async (page: Page) => {
    await page.getByRole('link', { name: 'Health' }).click();
    await poll(async () => {
      await page.getByRole('button', { name: 'Refresh' }).click();
      return page.locator('figure.chart').count();
    }).toBe(8);
  };

  beforeAll(async () => {
    await access(`${DIST}index.html`).catch(() => {
      throw new Error('the dashboard is not built: run `npm run build -w @custos/ui` first');
    });
    dir = await mkdtemp(join(tmpdir(), 'custos-dashboard-ops-'));
    server = await startServer({
      dev: { rootTokenId: rootToken },
      port: 0,
      logLevel: 'silent',
      audit: [
        { type: 'file', path: join(dir, 'audit.log'), name: 'file' },
        { type: 'file', path: join(dir, 'second.log'), name: 'second' },
      ],
      auditCheckpointEvery: 5,
    });
    await api('POST', 'secret/data/app/db', { data: { password: canary } });
    for (let i = 0; i < 30; i++) await api('GET', 'secret/data/app/db');
    // May list the audit devices and read their checkpoints, nothing more (no entries, no
    // check, no metrics).
    await api('POST', 'sys/policies/acl/ops-limited', {
      policy: JSON.stringify({
        path: {
          'sys/audit': { capabilities: ['read', 'sudo'] },
          'sys/audit/checkpoints': { capabilities: ['read', 'sudo'] },
        },
      }),
    });
    limitedToken = (await api('POST', 'auth/token/create', { policies: ['ops-limited'] })).body.auth
      .client_token as string;
    // A server over TLS whose certificate expires in 20 days: the page warns.
    const pki = createTestPki(dir);
    const issued = pki.issue({ name: 'ops', notAfter: new Date(Date.now() + 20 * DAY) });
    tlsServer = await startServer({
      dev: { rootTokenId: rootToken },
      port: 0,
      logLevel: 'silent',
      storage: ':memory:',
      tls: {
        cert: await readFile(issued.certFile),
        key: await readFile(issued.keyFile),
        // A configured certificate: the client CA bundle's (the test CA, valid for years).
        ca: await readFile(pki.caFile),
      },
      metricsHistoryIntervalMs: 100,
    });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await tlsServer?.close();
    await rm(dir, { recursive: true, force: true });
    for (const { urls, errors } of watches) {
      expect(urls.filter((url) => url.includes(rootToken))).toEqual([]);
      expect(errors.filter((e) => /Content Security Policy|Refused to/i.test(e))).toEqual([]);
    }
  });

  it('shows the recent entries as written (HMACd), pages to older ones, verifies the chain', async () => {
    const { page } = await open();
    await signIn(page, server.url, rootToken);
    await page.getByRole('link', { name: 'Audit' }).click();
    const entries = page.getByRole('grid', { name: 'Audit entries of file' });
    await poll(() => entries.getByRole('row').count()).toBeGreaterThan(20);
    const text = (await entries.textContent()) ?? '';
    expect(text).toContain('secret/data/app/db');
    expect(text).toContain('response');
    expect(await page.content()).not.toContain(canary);
    const newest = Number(await entries.getByRole('rowheader').first().textContent());
    // The canary's HMAC is what the log holds: the page shows entries exactly as written.
    const written = (await readFile(join(dir, 'audit.log'), 'utf8')).split('\n');
    expect(written.join('\n')).not.toContain(canary);
    await screenshot(page, 'ops-audit-entries');

    await page.getByRole('button', { name: 'Older entries' }).click();
    await poll(async () => Number(await entries.getByRole('rowheader').first().textContent())).toBe(
      newest - 25,
    );
    await page.getByRole('button', { name: 'Newest' }).click();
    await poll(async () =>
      Number(await entries.getByRole('rowheader').first().textContent()),
    ).toBeGreaterThanOrEqual(newest);

    await page.getByRole('button', { name: 'Verify chain now' }).click();
    await poll(() => page.getByRole('status').textContent()).toMatch(/intact.*entries \(seq 1\.\./);
    await screenshot(page, 'ops-audit-verified');
  });

  it('shows a broken chain with the first broken line once a line of the file is edited', async () => {
    // Line 4 of the second device's file, edited in place (same length).
    const file = join(dir, 'second.log');
    const lines = (await readFile(file, 'utf8')).split('\n');
    const offset = lines.slice(0, 3).reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    const line4 = lines[3] as string;
    const at = Buffer.byteLength(line4.slice(0, line4.indexOf('"type":"') + 8));
    const handle = await openFile(file, 'r+');
    await handle.write(line4.includes('"type":"x') ? 'y' : 'x', offset + at);
    await handle.close();

    const { page } = await open();
    await signIn(page, server.url, rootToken);
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('combobox', { name: 'Device', exact: true }).selectOption('second');
    await poll(() => page.getByRole('heading', { name: 'Chain of second' }).count()).toBe(1);
    await page.getByRole('button', { name: 'Verify chain now' }).click();
    await poll(() => page.getByRole('alert').textContent()).toContain(
      'The chain is broken at line 5: does not chain to the line before it',
    );
    await screenshot(page, 'ops-audit-broken');
    const found = await violations(page);
    expect(found).toEqual([]);
  });

  it('health: nodes, the certificate with its days to expiry, and the last hour as charts', async () => {
    const { page, errors } = await openTls();
    try {
      await signIn(page, tlsServer.url, rootToken);
      await healthWithCharts(page);
      await poll(() => page.getByRole('grid', { name: 'Nodes' }).count()).toBe(1);
      expect(await page.getByRole('gridcell', { name: 'leader' }).count()).toBe(1);
      const certs = page.getByRole('table', { name: 'Certificates' });
      const row = (await certs.getByRole('row').nth(1).textContent()) ?? '';
      expect(row).toMatch(/the server's own/);
      expect(await certs.getByRole('cell', { name: /^(19|20)$/ }).count()).toBe(1);
      // Said in words, not only by colour.
      expect(row).toContain('renew soon (under 30 days)');
      const ca = (await certs.getByRole('row').nth(2).textContent()) ?? '';
      expect(ca).toContain('client CA (client-ca)');
      expect(ca).toContain('custos test CA');
      expect(ca).toContain('valid');
      const captions = await page.locator('figure.chart figcaption').allTextContents();
      expect(captions[0]).toMatch(/^Requests per second: latest [\d.]+ \/s, highest/);
      // Each chart is an image named by its summary, with its values as a table.
      expect(await page.getByRole('img', { name: /^Latency, median/ }).count()).toBe(1);
      await page.getByText('Values of requests per second').click();
      await poll(() => page.getByRole('cell', { name: /\/s$/ }).count()).toBeGreaterThan(0);
      await screenshot(page, 'ops-health');
      expect(await violations(page)).toEqual([]);
      await page.setViewportSize({ width: 390, height: 844 });
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow).toBeLessThanOrEqual(0);
      expect(await violations(page)).toEqual([]);
      await screenshot(page, 'ops-phone-health');
      expect(errors).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it('a token without the rights is told in place, and keeps its session', async () => {
    const { page } = await open();
    await signIn(page, server.url, limitedToken);
    await page.getByRole('link', { name: 'Audit' }).click();
    await poll(() => page.getByText('may not read the entries').count()).toBe(1);
    await page.getByRole('button', { name: 'Verify chain now' }).first().click();
    await poll(() => page.getByRole('alert').first().textContent()).toContain(
      "Permission denied: your token's policies do not allow you to verify the chain of file",
    );
    await page.getByRole('link', { name: 'Health' }).click();
    await poll(() => page.getByText('may not read the metrics').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Log out' }).count()).toBe(1);
    await screenshot(page, 'ops-denied');
  });

  it('passes axe-core on the audit page with its entries, and fits a phone', async () => {
    const { page } = await open({ width: 390, height: 844 });
    await signIn(page, server.url, rootToken);
    await page.getByRole('link', { name: 'Audit' }).click();
    await poll(() =>
      page.getByRole('grid', { name: 'Audit entries of file' }).getByRole('row').count(),
    ).toBeGreaterThan(2);
    await page.getByRole('button', { name: 'Verify chain now' }).click();
    await poll(() => page.getByRole('status').count()).toBeGreaterThan(0);
    expect(await violations(page)).toEqual([]);
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'ops-phone-audit');
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(await violations(page)).toEqual([]);
  });
});
