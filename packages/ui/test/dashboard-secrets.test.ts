import { randomBytes } from 'node:crypto';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type RunningServer, startServer } from '@custos/server';
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

const hasChromium = requireTool('chromium');

/**
 * A page's console errors but the browser's own line for each refused request (a 403 read
 * shown in place, a 404 empty class, a 400 refusal the page shows): those are answers the
 * page handles, not failures.
 */
const pageErrors = (errors: readonly string[]) =>
  errors.filter(
    (e) =>
      !/^Failed to load resource: the server responded with a status of (400|403|404)\b/.test(e),
  );

/** Values made at run time: a secret's value must never be on screen unless revealed. */
const rootToken = `dash-root-${randomBytes(12).toString('hex')}`;
const canary = `CANARY-${randomBytes(9).toString('hex')}`;

describe.runIf(hasChromium)('the secrets page in headless Chromium', { timeout: 90_000 }, () => {
  let server: RunningServer;
  let browser: Browser;
  /** Reads secrets and their metadata; nothing under sys/rotation. */
  let readerToken: string;
  /** Reads secrets and rotation policies, but not the status nor the history. */
  let policyReaderToken: string;
  const watches: PageWatch[] = [];

  const api = (method: string, path: string, body?: unknown) =>
    callApi(server.url, rootToken, method, path, body);

  const open = async (viewport?: { width: number; height: number }) => {
    const watch = await openPage(browser, server.url, viewport);
    watches.push(watch);
    return watch;
  };

  const signInWithToken = async (page: Page, token: string) => {
    await page.goto(`${server.url}/ui/`);
    await page.getByRole('textbox', { name: 'Token' }).fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await poll(() => page.getByRole('button', { name: 'Log out' }).count()).toBe(1);
  };

  const customMetadata = async (path: string) =>
    (await api('GET', `secret/metadata/${path}`)).body.data.custom_metadata as Record<
      string,
      string
    > | null;

  /** The rotation policy's facts (the custom metadata has its own). */
  const policyFacts = (page: Page) => page.locator('dl[aria-label="Rotation policy"] dd');

  /** The staging labels list: "current version 2", … */
  const stagesOf = (page: Page) =>
    page.getByRole('list', { name: 'Staging labels' }).getByRole('listitem').allTextContents();

  /** A path's segments encoded, for the API (`a b#c` → `a%20b%23c`). */
  const encoded = (path: string) => path.split('/').map(encodeURIComponent).join('/');

  const put = async (path: string, data: Record<string, unknown>, labels?: object) => {
    expect((await api('POST', `secret/data/${encoded(path)}`, { data })).status).toBe(200);
    if (labels !== undefined)
      expect(
        (await api('POST', `secret/metadata/${encoded(path)}`, { custom_metadata: labels })).status,
      ).toBe(204);
  };

  beforeAll(async () => {
    await access(`${DIST}index.html`).catch(() => {
      throw new Error('the dashboard is not built: run `npm run build -w @custos/ui` first');
    });
    server = await startServer({ dev: { rootTokenId: rootToken }, port: 0, logLevel: 'silent' });
    // A folder with secrets of two classes (one spelled in another case), one unclassified,
    // and a sub-folder holding one more of a class.
    await put('care/patients', { dsn: canary }, { data_class: 'phi', owner: 'clinic' });
    await put('care/cards', { pan: canary }, { data_class: 'payment' });
    await put('care/plain', { note: 'n' }, { owner: 'ops' });
    await put('care/sub/records', { k: 'v' }, { data_class: 'PHI' });
    // Rotated secrets: one whose policy the tests edit, one they rotate (grace 48h keeps the
    // previous label), one rotated by the phone test.
    await put('svc/api', { key: canary });
    await put('svc/hook', { key: canary });
    for (const path of ['svc/api', 'svc/hook'])
      expect(
        (
          await api('POST', `sys/rotation/secret/${path}`, {
            rotator: 'random',
            schedule: '90d',
            grace_period: '48h',
          })
        ).status,
      ).toBe(204);
    await api('POST', 'sys/policies/acl/secrets-reader', {
      policy: JSON.stringify({
        path: {
          'secret/data/*': { capabilities: ['read'] },
          'secret/metadata/*': { capabilities: ['read', 'list'] },
        },
      }),
    });
    await api('POST', 'sys/policies/acl/policy-reader', {
      policy: JSON.stringify({
        path: {
          'secret/data/*': { capabilities: ['read'] },
          'secret/metadata/*': { capabilities: ['read', 'list'] },
          'sys/rotation/*': { capabilities: ['read'] },
        },
      }),
    });
    readerToken = (await api('POST', 'auth/token/create', { policies: ['secrets-reader'] })).body
      .auth.client_token as string;
    policyReaderToken = (await api('POST', 'auth/token/create', { policies: ['policy-reader'] }))
      .body.auth.client_token as string;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    // No page may have put a token in an address, nor broken the CSP.
    for (const { urls, errors } of watches) {
      for (const token of [rootToken, readerToken, policyReaderToken])
        expect(urls.filter((url) => url.includes(token))).toEqual([]);
      expect(errors.filter((e) => /Content Security Policy|Refused to/i.test(e))).toEqual([]);
    }
  });

  it('filters a folder by data class, keeps the filter in the address, shows each class', async () => {
    const { page, errors } = await open();
    await signInWithToken(page, rootToken);
    await page.goto(`${server.url}/ui/secrets/secret/care/`);
    const entries = page.getByRole('list', { name: /^Entries of secret\/care\// });
    const names = () => entries.getByRole('link').allTextContents();
    await poll(names).toEqual(['cards', 'patients', 'plain', 'sub/']);
    // Badges: the class as stored (phi was written, PHI is kept); none for the unclassified.
    const row = (name: string) => entries.getByRole('listitem').filter({ hasText: name });
    await poll(() => row('patients').textContent()).toBe('patients data class PHI');
    expect(await row('cards').textContent()).toBe('cards data class payment');
    expect(await row('plain').textContent()).toBe('plain');
    await screenshot(page, 'secrets-classes');

    await page.getByRole('radio', { name: 'PHI' }).click();
    await poll(() => new URL(page.url()).search).toBe('?class=PHI');
    await poll(names).toEqual(['patients', 'sub/']);
    expect(await page.getByRole('radio', { name: 'PHI' }).getAttribute('aria-checked')).toBe(
      'true',
    );
    await screenshot(page, 'secrets-filtered');

    // A reload keeps it (it is in the address, nothing else).
    await page.reload();
    await poll(names).toEqual(['patients', 'sub/']);
    expect(await page.getByRole('radio', { name: 'PHI' }).getAttribute('aria-checked')).toBe(
      'true',
    );
    // Descending keeps it; another class shows only that class; All shows everything.
    await entries.getByRole('link', { name: 'sub/' }).click();
    await poll(() => new URL(page.url()).pathname + new URL(page.url()).search).toBe(
      '/ui/secrets/secret/care/sub/?class=PHI',
    );
    await poll(() => page.getByRole('list', { name: /^Entries of/ }).textContent()).toContain(
      'records',
    );
    await page.goto(`${server.url}/ui/secrets/secret/care/?class=payment`);
    await poll(names).toEqual(['cards', 'sub/']);
    await page.getByRole('radio', { name: 'All' }).click();
    await poll(names).toEqual(['cards', 'patients', 'plain', 'sub/']);
    expect(new URL(page.url()).search).toBe('');
    // A class of which nothing is here says so.
    await page.goto(`${server.url}/ui/secrets/secret/svc/?class=PII`);
    await poll(() => page.getByText('No secret of class PII here.').count()).toBe(1);
    expect(await page.content()).not.toContain(canary);
    expect(pageErrors(errors)).toEqual([]);
  });

  it('sets, refuses and removes a data class, keeping the other labels', async () => {
    const { page, errors } = await open();
    await signInWithToken(page, rootToken);
    await page.goto(`${server.url}/ui/secrets/secret/care/plain`);
    await poll(() => page.getByRole('rowheader', { name: 'note' }).count()).toBe(1);
    expect(await page.getByText('Data class:').count()).toBe(0);
    await page.getByRole('button', { name: 'Set the data class' }).click();
    const field = page.getByRole('combobox', { name: 'Data class' });
    await field.fill('Internal');
    await screenshot(page, 'secret-class-editor');
    await page.getByRole('button', { name: 'Save data class' }).click();
    await poll(() => page.getByRole('status').textContent()).toBe(
      'Saved the data class of secret/care/plain.',
    );
    // Stored canonically spelled, the other label kept; the page shows the badge.
    expect(await customMetadata('care/plain')).toEqual({ owner: 'ops', data_class: 'internal' });
    await poll(() => page.getByText('Data class:').textContent()).toBe(
      'Data class: data class internal',
    );

    // An unknown class: the server's 400, as it says it, and nothing changed.
    const unknown = `restricted${randomBytes(2).toString('hex')}`;
    const refused = await fetch(`${server.url}/v1/secret/metadata/care/plain`, {
      method: 'PATCH',
      headers: { 'x-vault-token': rootToken, 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ custom_metadata: { data_class: unknown } }),
    });
    expect(refused.status).toBe(400);
    const said = ((await refused.json()) as { errors: string[] }).errors.join('; ');
    await field.fill(unknown);
    await page.getByRole('button', { name: 'Save data class' }).click();
    await poll(() => page.getByRole('alert').textContent()).toBe(
      `Could not set the data class of secret/care/plain: ${said}`,
    );
    expect(said).not.toContain(unknown);
    expect(await customMetadata('care/plain')).toEqual({ owner: 'ops', data_class: 'internal' });
    await screenshot(page, 'secret-class-refused');

    await page.getByRole('button', { name: 'Remove data class' }).click();
    await poll(() => customMetadata('care/plain')).toEqual({ owner: 'ops' });
    await poll(() => page.getByText('Data class:').count()).toBe(0);
    expect(pageErrors(errors)).toEqual([]);
  });

  it('shows and edits a rotation policy; a refused one shows the server’s words; automatic off and on', async () => {
    const { page, errors } = await open();
    await signInWithToken(page, rootToken);
    await page.goto(`${server.url}/ui/secrets/secret/svc/api`);
    const facts = policyFacts(page);
    await poll(() => facts.allTextContents()).toEqual([
      'random',
      '2160h0m0s',
      '48h0m0s',
      'yes',
      '0s',
      'none',
      expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      'never',
    ]);
    expect(await page.locator('dl[aria-label="Rotation policy"] dt').allTextContents()).toEqual([
      'Rotator',
      'Schedule',
      'Grace period',
      'Automatic',
      'Notify before',
      'Approvals',
      'Next due',
      'Last rotation',
    ]);

    await page.getByRole('button', { name: 'Edit the rotation policy' }).click();
    const form = page.locator('form.policy-form');
    await form.getByLabel('Schedule', { exact: true }).fill('30d');
    await form.getByLabel('Grace period', { exact: true }).fill('1h');
    await form.getByLabel('Notify before', { exact: true }).fill('2h');
    await screenshot(page, 'secret-rotation-policy-form');
    await form.getByRole('button', { name: 'Save rotation policy' }).click();
    await poll(() => page.getByRole('status').textContent()).toBe(
      'Saved the rotation policy of secret/svc/api.',
    );
    // Read back through the API: saved as typed, the rest as it was.
    const read = async () => (await api('GET', 'sys/rotation/secret/svc/api')).body.data;
    expect(await read()).toMatchObject({
      rotator: 'random',
      schedule: '720h0m0s',
      grace_period: '1h0m0s',
      notify_before: '2h0m0s',
      automatic: true,
      settings: {},
    });
    await poll(() => facts.nth(1).textContent()).toBe('720h0m0s');

    // A schedule the server refuses: its message, as given; the policy unchanged, the form
    // keeps what was typed.
    const refused = await api('POST', 'sys/rotation/secret/svc/api', {
      rotator: 'random',
      schedule: '1h',
    });
    expect(refused.status).toBe(400);
    // The form stays open after a save, showing what was saved.
    expect(
      await page
        .getByRole('button', { name: 'Edit the rotation policy' })
        .getAttribute('aria-expanded'),
    ).toBe('true');
    expect(await form.getByLabel('Schedule', { exact: true }).inputValue()).toBe('720h0m0s');
    await form.getByLabel('Schedule', { exact: true }).fill('1h');
    await form.getByRole('button', { name: 'Save rotation policy' }).click();
    await poll(() => page.getByRole('alert').textContent()).toBe(
      `Not saved: ${(refused.body.errors as string[]).join('; ')}.`,
    );
    expect(await form.getByLabel('Schedule', { exact: true }).inputValue()).toBe('1h');
    expect((await read()).schedule).toBe('720h0m0s');
    await screenshot(page, 'secret-rotation-policy-refused');

    // Settings that are not a JSON object are stopped in the form; nothing is sent.
    await form.getByLabel('Schedule', { exact: true }).fill('30d');
    await form.getByLabel('Settings (JSON)').fill('[1]');
    await form.getByRole('button', { name: 'Save rotation policy' }).click();
    await poll(() => form.textContent()).toContain('Settings are a JSON object');
    expect((await read()).settings).toEqual({});

    // Automatic off, then on: the rest of the policy is kept.
    await page.getByRole('button', { name: 'Turn automatic rotation off' }).click();
    await poll(async () => (await read()).automatic).toBe(false);
    await poll(() => facts.nth(3).textContent()).toBe('no (rotated by hand only)');
    expect(await read()).toMatchObject({ schedule: '720h0m0s', grace_period: '1h0m0s' });
    await page.getByRole('button', { name: 'Turn automatic rotation on' }).click();
    await poll(async () => (await read()).automatic).toBe(true);
    expect(await read()).toMatchObject({
      schedule: '720h0m0s',
      grace_period: '1h0m0s',
      notify_before: '2h0m0s',
    });
    expect(await page.content()).not.toContain(canary);
    expect(pageErrors(errors)).toEqual([]);
  });

  it('sets a policy on a secret without one', async () => {
    const { page } = await open();
    await signInWithToken(page, rootToken);
    await page.goto(`${server.url}/ui/secrets/secret/care/cards`);
    await poll(() => page.getByText('No rotation policy').count()).toBe(1);
    await page.getByRole('button', { name: 'Set a rotation policy' }).click();
    const form = page.locator('form.policy-form');
    await form.getByLabel('Schedule', { exact: true }).fill('0 3 * * 0');
    await form.getByLabel('Window', { exact: true }).fill('2h');
    await form.getByText('Rotate automatically when due').click();
    await form.getByRole('button', { name: 'Save rotation policy' }).click();
    await poll(async () => (await api('GET', 'sys/rotation/secret/care/cards')).status).toBe(200);
    expect((await api('GET', 'sys/rotation/secret/care/cards')).body.data).toMatchObject({
      rotator: 'random',
      schedule: '0 3 * * 0',
      schedule_kind: 'cron',
      window: '2h0m0s',
      automatic: false,
    });
    await poll(() => policyFacts(page).first().textContent()).toBe('random');
  });

  it('rotates now only with a reason; the history shows the run and the labels move', async () => {
    const { page, errors } = await open();
    await signInWithToken(page, rootToken);
    await page.goto(`${server.url}/ui/secrets/secret/svc/hook`);
    await poll(() => stagesOf(page)).toEqual([
      'current version 1',
      'pending none',
      'previous none',
    ]);
    expect(await page.getByText('Never rotated.').count()).toBe(1);

    await page.getByRole('button', { name: 'Rotate secret/svc/hook…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Rotate now' }).click();
    await poll(() => dialog.textContent()).toContain('Say why');
    expect((await api('GET', 'secret/data/svc/hook')).body.data.metadata.version).toBe(1);
    const reason = `leaked in a ticket ${randomBytes(3).toString('hex')}`;
    await dialog.getByLabel(/^Reason/).fill(reason);
    await screenshot(page, 'secret-rotate-dialog');
    await dialog.getByRole('button', { name: 'Rotate now' }).click();
    await poll(() => page.getByRole('status').textContent()).toBe(
      'Rotated secret/svc/hook: version 2 is now current.',
    );

    // Labels moved: version 2 current, version 1 previous (the grace period keeps it).
    await poll(() => stagesOf(page)).toEqual([
      'current version 2',
      'pending none',
      'previous version 1',
    ]);
    const versions = page.getByRole('grid', { name: 'Versions' });
    await poll(() => versions.getByRole('row').nth(1).textContent()).toContain('current');
    expect(await versions.getByRole('row').nth(2).textContent()).toContain('previous');
    // The history: the run, who, why, versions.
    const runs = page.getByRole('grid', { name: 'Rotation runs, newest first' });
    await poll(() => runs.getByRole('row').count()).toBe(2);
    const run = (await runs.getByRole('row').nth(1).textContent()) ?? '';
    expect(run).toContain('succeeded');
    expect(run).toContain(reason);
    expect(run).toContain('1 → 2');
    const stored = (await api('GET', 'sys/rotation-history/secret/svc/hook')).body.data.runs;
    expect(stored.at(-1)).toMatchObject({ reason, state: 'succeeded', new_version: 2 });
    // The last result is in the policy's facts; values stay hidden, the new one too.
    await poll(() => policyFacts(page).last().textContent()).toContain('(succeeded)');
    const now = (await api('GET', 'secret/data/svc/hook')).body.data;
    expect(now.metadata.version).toBe(2);
    const content = await page.content();
    expect(content).not.toContain(canary);
    const values = Object.values(now.data as Record<string, string>);
    expect(values.length).toBeGreaterThan(0);
    for (const value of values) expect(content).not.toContain(value);
    await screenshot(page, 'secret-rotated');
    expect(pageErrors(errors)).toEqual([]);
  });

  it('a token without sys/rotation sees in place what it may not read; the page works', async () => {
    const { page, errors } = await open();
    await signInWithToken(page, readerToken);
    await page.goto(`${server.url}/ui/secrets/secret/svc/api`);
    await poll(() => page.getByRole('rowheader', { name: 'key' }).count()).toBe(1);
    await poll(() =>
      page.getByText("Your token may not read this secret's rotation policy").count(),
    ).toBe(1);
    await poll(() =>
      page.getByText("Your token may not read this secret's rotation history").count(),
    ).toBe(1);
    // Nothing to act on, no alarm, the session kept, the labels still shown, values hidden.
    expect(await page.getByRole('button', { name: /^Rotate/ }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /rotation policy/ }).count()).toBe(0);
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Log out' }).count()).toBe(1);
    expect((await stagesOf(page))[0]).toBe('current version 1');
    expect(await page.content()).not.toContain(canary);
    await screenshot(page, 'secret-rotation-denied');

    // The class filter works for it too (its policies let it read the metadata).
    await page.goto(`${server.url}/ui/secrets/secret/care/?class=payment`);
    await poll(() =>
      page
        .getByRole('list', { name: /^Entries of/ })
        .getByRole('link')
        .allTextContents(),
    ).toEqual(['cards', 'sub/']);

    // A token that reads the policy but not the status nor the history: each said in place.
    const other = await open();
    await signInWithToken(other.page, policyReaderToken);
    await other.page.goto(`${server.url}/ui/secrets/secret/svc/api`);
    await poll(() => policyFacts(other.page).first().textContent()).toBe('random');
    await poll(() =>
      other.page.getByText('not shown (sys/rotation-status needs read)').count(),
    ).toBe(2);
    await poll(() =>
      other.page.getByText("Your token may not read this secret's rotation history").count(),
    ).toBe(1);
    expect(await other.page.getByRole('alert').count()).toBe(0);
    expect(pageErrors(errors)).toEqual([]);
  });

  it('names with spaces, # and % work in the filter, the badge and the rotation section', async () => {
    const name = 'odd/a b#c%d';
    await put(name, { k: canary }, { data_class: 'PII' });
    expect(
      (
        await api('POST', `sys/rotation/secret/${encoded(name)}`, {
          rotator: 'random',
          schedule: '7d',
        })
      ).status,
    ).toBe(204);
    const { page, errors } = await open();
    await signInWithToken(page, rootToken);
    await page.goto(`${server.url}/ui/secrets/secret/odd/?class=pii`);
    const entries = page.getByRole('list', { name: /^Entries of secret\/odd\// });
    await poll(() => entries.textContent()).toBe('a b#c%d data class PII');
    expect(await page.getByRole('radio', { name: 'PII' }).getAttribute('aria-checked')).toBe(
      'true',
    );
    await entries.getByRole('link', { name: 'a b#c%d' }).click();
    await poll(() => new URL(page.url()).pathname).toBe('/ui/secrets/secret/odd/a%20b%23c%25d');
    await poll(() => policyFacts(page).nth(1).textContent()).toBe('168h0m0s');
    expect(await page.getByText('Data class:').textContent()).toBe('Data class: data class PII');
    expect(await page.content()).not.toContain(canary);
    expect(pageErrors(errors)).toEqual([]);
  });

  it('passes axe-core’s WCAG 2.1 AA checks on the new views, and fits a phone', async () => {
    const found: string[] = [];
    const check = async (page: Page, what: string) => {
      for (const violation of await accessibilityViolations(page))
        found.push(`${what}: ${violation}`);
    };
    const { page } = await open();
    await signInWithToken(page, rootToken);
    await page.goto(`${server.url}/ui/secrets/secret/care/?class=PHI`);
    await poll(() => page.getByRole('list', { name: /^Entries of/ }).textContent()).toContain(
      'PHI',
    );
    await check(page, 'folder filtered by class');
    await page.goto(`${server.url}/ui/secrets/secret/care/patients`);
    await page.getByRole('button', { name: 'Set the data class' }).click();
    const field = page.getByRole('combobox', { name: 'Data class' });
    await field.fill('PHI');
    await check(page, 'data class editor');
    await page.goto(`${server.url}/ui/secrets/secret/svc/hook`);
    await poll(() => page.getByRole('heading', { name: 'Rotation history' }).count()).toBe(1);
    await poll(() => page.getByText('Loading').count()).toBe(0);
    await page.getByRole('button', { name: 'Edit the rotation policy' }).click();
    await check(page, 'secret with its rotation, history and policy form');
    await page.getByRole('button', { name: 'Rotate secret/svc/hook…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Rotate now' }).click();
    await poll(() => page.getByRole('dialog').textContent()).toContain('Say why');
    await check(page, 'rotate dialog with its error');
    await page.keyboard.press('Escape');
    await poll(() => page.getByRole('dialog').count()).toBe(0);

    const phone = await open({ width: 390, height: 844 });
    await signInWithToken(phone.page, rootToken);
    for (const [address, name] of [
      ['/ui/secrets/secret/care/?class=PHI', 'phone-secrets-filtered'],
      ['/ui/secrets/secret/svc/hook', 'phone-secret-rotation'],
    ] as const) {
      await phone.page.goto(`${server.url}${address}`);
      await poll(() => phone.page.getByRole('heading', { level: 1 }).count()).toBe(1);
      await poll(() => phone.page.getByText('Loading').count()).toBe(0);
      if (name === 'phone-secret-rotation')
        await phone.page.getByRole('button', { name: 'Edit the rotation policy' }).click();
      const overflow = await phone.page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow, address).toBeLessThanOrEqual(0);
      await check(phone.page, name);
      await screenshot(phone.page, name);
    }
    expect(found).toEqual([]);
  });
});
