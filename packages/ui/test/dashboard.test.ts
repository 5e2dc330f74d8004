import { randomBytes } from 'node:crypto';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** Values made at run time: the canary must never be on screen until revealed. */
const rootToken = `dash-root-${randomBytes(12).toString('hex')}`;
const canary = `CANARY-${randomBytes(9).toString('hex')}`;

describe.runIf(hasChromium)('the dashboard in headless Chromium', { timeout: 90_000 }, () => {
  let server: RunningServer;
  let browser: Browser;
  let roleId: string;
  let auditDir: string;
  /** A second person (display name bob) who may approve rotations. */
  let approverToken: string;
  const watches: PageWatch[] = [];

  const api = (method: string, path: string, body?: unknown) =>
    callApi(server.url, rootToken, method, path, body);

  /** A fresh page (its own sessionStorage), watched for errors and for the URLs it asked. */
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

  /** An AppRole secret ID made for this sign-in (one use). */
  const secretId = async () =>
    (await api('POST', 'auth/approle/role/dash-limited/secret-id', {})).body.data
      .secret_id as string;

  beforeAll(async () => {
    await access(`${DIST}index.html`).catch(() => {
      throw new Error('the dashboard is not built: run `npm run build -w @custos/ui` first');
    });
    auditDir = await mkdtemp(join(tmpdir(), 'custos-dashboard-audit-'));
    server = await startServer({
      dev: { rootTokenId: rootToken },
      port: 0,
      logLevel: 'silent',
      audit: [{ type: 'file', path: join(auditDir, 'audit.log'), name: 'file' }],
    });
    await api('POST', 'secret/data/app/db', { data: { username: 'app', password: canary } });
    await api('POST', 'secret/data/app/api', { data: { key: 'k' } });
    await api('POST', 'secret/metadata/app/db', {
      custom_metadata: { owner: 'payments', data_class: 'credential' },
    });
    await api('POST', 'transit/keys/orders', {});
    // Reads and lists secrets and keys; may neither write a secret nor rotate a key.
    await api('POST', 'sys/policies/acl/dash-limited', {
      policy: JSON.stringify({
        path: {
          'secret/data/*': { capabilities: ['read'] },
          'secret/metadata/*': { capabilities: ['read', 'list'] },
          'transit/keys': { capabilities: ['list'] },
          'transit/keys/*': { capabilities: ['read', 'list'] },
        },
      }),
    });
    await api('POST', 'auth/approle/role/dash-limited', {
      token_policies: ['dash-limited'],
      secret_id_num_uses: 1,
    });
    roleId = (await api('GET', 'auth/approle/role/dash-limited/role-id')).body.data.role_id;
    // Rotation: one policy rotated at once, one that waits for a second person's approval.
    await api('POST', 'secret/data/prod/db', { data: { value: 'v1' } });
    expect(
      (await api('POST', 'sys/rotation/secret/app/api', { rotator: 'random', schedule: '90d' }))
        .status,
    ).toBe(204);
    expect(
      (
        await api('POST', 'sys/rotation/secret/prod/db', {
          rotator: 'random',
          schedule: '90d',
          approvals: 1,
        })
      ).status,
    ).toBe(204);
    await api('POST', 'sys/policies/acl/dash-approver', {
      policy: JSON.stringify({
        path: {
          'sys/rotation-status': { capabilities: ['read'] },
          'sys/rotation-requests': { capabilities: ['read'] },
          'sys/rotation-approve/*': { capabilities: ['update'] },
          'sys/rotate-secret/*': { capabilities: ['update'] },
        },
      }),
    });
    approverToken = (
      await api('POST', 'auth/token/create', { policies: ['dash-approver'], display_name: 'bob' })
    ).body.auth.client_token as string;
    // A key whose settings and state the tests change (orders is rotated by another test).
    await api('POST', 'transit/keys/ledger', {});
    await api('POST', 'transit/encrypt/ledger', { plaintext: Buffer.from('x').toString('base64') });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await rm(auditDir, { recursive: true, force: true });
    // No page may have put the token in an address, nor broken the CSP.
    for (const { urls, errors } of watches) {
      expect(urls.filter((url) => url.includes(rootToken))).toEqual([]);
      expect(errors.filter((e) => /Content Security Policy|Refused to/i.test(e))).toEqual([]);
    }
  });

  it('signs in with a token, hides a value until revealed, copies it unseen, writes a new version', async () => {
    const { page, errors } = await open();
    const response = await page.goto(`${server.url}/ui/`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await screenshot(page, 'login');
    await signInWithToken(page, rootToken);
    // The token is kept in this tab's sessionStorage, not in the address.
    expect(await page.evaluate(() => sessionStorage.getItem('custos.session'))).toContain(
      rootToken,
    );
    expect(page.url()).not.toContain(rootToken);

    await page.getByRole('link', { name: 'secret/' }).click();
    await page.getByRole('link', { name: 'app/' }).click();
    await page.getByRole('link', { name: 'db' }).click();
    await poll(() => page.getByRole('rowheader', { name: 'password' }).count()).toBe(1);
    expect(new URL(page.url()).pathname).toBe('/ui/secrets/secret/app/db');
    // Hidden: nowhere in the document, not only invisible.
    expect(await page.content()).not.toContain(canary);

    await page.getByRole('button', { name: 'Copy password' }).click();
    await expect
      .poll(() => page.getByRole('status').textContent())
      .toContain('Copied the value of password');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(canary);
    expect(await page.content()).not.toContain(canary);

    await page.getByRole('button', { name: 'Reveal password' }).click();
    await poll(() => page.locator('main').textContent()).toContain(canary);
    await screenshot(page, 'secret-revealed');
    await page.getByRole('button', { name: 'Reveal password' }).click();
    await poll(() => page.content()).not.toContain(canary);

    // A new version: the password changes, the username (left empty) is kept as it was. The
    // form never holds a stored value.
    await page.getByRole('button', { name: 'Write a new version' }).click();
    const values = page.getByLabel('Value', { exact: true });
    await poll(() => values.count()).toBe(2);
    expect(
      await values.evaluateAll((inputs) => inputs.map((i) => (i as HTMLInputElement).value)),
    ).toEqual(['', '']);
    expect(await page.content()).not.toContain(canary);
    const keys = await page
      .getByLabel('Key', { exact: true })
      .evaluateAll((inputs) => inputs.map((input) => (input as HTMLInputElement).value));
    const changed = `${canary}-2`;
    await values.nth(keys.indexOf('password')).fill(changed);
    await screenshot(page, 'secret-new-version');
    await page.getByRole('button', { name: 'Save new version' }).click();
    await poll(() => page.getByRole('status').textContent()).toContain('Saved version 2');
    const stored = await api('GET', 'secret/data/app/db');
    expect(stored.body.data.data).toEqual({ username: 'app', password: changed });
    expect(stored.body.data.metadata.version).toBe(2);

    // What changed since version 1: field names and the kind of change, never a value.
    const changes = page.getByRole('list', { name: 'Fields changed since version 1' });
    await poll(() => changes.getByRole('listitem').allTextContents()).toEqual([
      'password: changed',
      'username: unchanged',
    ]);
    expect(await page.content()).not.toContain(canary);
    // The secret's custom metadata (not secret: shown as it is).
    const custom = page.getByRole('definition');
    expect(await custom.allTextContents()).toEqual(['credential', 'payments']);

    // Both versions listed; the first still reads as it was. A value revealed in one version
    // is hidden again in another (nothing revealed carries over).
    await poll(() => page.getByRole('link', { name: 'Version 1' }).count()).toBe(1);
    await page.getByRole('button', { name: 'Reveal password' }).click();
    await poll(() => page.locator('main').textContent()).toContain(changed);
    await page.getByRole('link', { name: 'Version 1' }).click();
    await poll(() => page.getByText('Version 1, written').count()).toBe(1);
    expect(await page.content()).not.toContain(canary);
    await page.getByRole('button', { name: 'Reveal password' }).click();
    await poll(() => page.locator('main').textContent()).toContain(canary);
    expect(await page.locator('main').textContent()).not.toContain(changed);
    await screenshot(page, 'secret-versions');
    // The folder asks for each data class and the secret for its rotation policy: a 404 there
    // is an answer (none of that class, no policy), which the browser logs all the same.
    expect(errors.filter((e) => !/status of 404 \(Not Found\)$/.test(e))).toEqual([]);
  });

  it('creates a secret in a folder', async () => {
    const { page } = await open();
    await signInWithToken(page, rootToken);
    await page.goto(`${server.url}/ui/secrets/secret/app/`);
    await page.getByRole('button', { name: 'New secret' }).click();
    await page.getByLabel(/^Name/).fill('queue');
    await page.getByLabel('Key', { exact: true }).fill('url');
    await page.getByLabel('Value', { exact: true }).fill('amqp://queue.invalid');
    await page.getByRole('button', { name: 'Create secret' }).click();
    await poll(() => new URL(page.url()).pathname).toBe('/ui/secrets/secret/app/queue');
    expect((await api('GET', 'secret/data/app/queue')).body.data.data).toEqual({
      url: 'amqp://queue.invalid',
    });
  });

  it('rotates a transit key only once the dialog is confirmed', async () => {
    const { page, errors } = await open();
    await signInWithToken(page, rootToken);
    await page.getByRole('link', { name: 'Keys' }).click();
    await page.getByRole('link', { name: 'orders' }).click();
    await poll(() => page.getByText('Latest version').count()).toBe(1);

    await page.getByRole('button', { name: 'Rotate key…' }).click();
    const dialog = page.getByRole('alertdialog');
    await poll(() => dialog.textContent()).toContain('Rotate orders?');
    await screenshot(page, 'key-rotate-dialog');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await poll(() => page.getByRole('alertdialog').count()).toBe(0);
    expect((await api('GET', 'transit/keys/orders')).body.data.latest_version).toBe(1);

    await page.getByRole('button', { name: 'Rotate key…' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Rotate' }).click();
    await expect
      .poll(() => page.getByRole('status').textContent())
      .toContain('version 2 is now the latest');
    expect((await api('GET', 'transit/keys/orders')).body.data.latest_version).toBe(2);
    await poll(() => page.getByRole('rowheader', { name: '2 (latest)' }).count()).toBe(1);
    await screenshot(page, 'key-rotated');
    expect(errors).toEqual([]);
  });

  it('signs in with AppRole; a denied write or rotation says so; logout revokes the token it made', async () => {
    const { page } = await open();
    await page.goto(`${server.url}/ui/secrets/secret/app/api`);
    await page.getByRole('tab', { name: 'AppRole' }).click();
    await page.getByLabel('Role ID').fill(roleId);
    await page.getByLabel('Secret ID').fill(await secretId());
    await page.getByRole('button', { name: 'Sign in' }).click();
    await poll(() => page.getByRole('button', { name: 'Log out' }).count()).toBe(1);
    const session = JSON.parse(
      (await page.evaluate(() => sessionStorage.getItem('custos.session'))) ?? '{}',
    );
    expect(session.policies).toContain('dash-limited');
    expect(session.issued).toBe(true);

    // Reads are allowed; writing is not, and the page says why.
    await poll(() => page.getByRole('rowheader', { name: 'key' }).count()).toBe(1);
    await page.getByRole('button', { name: 'Write a new version' }).click();
    await page.getByLabel('Value', { exact: true }).fill('not-allowed');
    await page.getByRole('button', { name: 'Save new version' }).click();
    const alert = page.getByRole('alert');
    await expect
      .poll(() => alert.textContent())
      .toBe(
        "Permission denied: your token's policies do not allow you to write secret/app/api (secret/data/app/api).",
      );
    await screenshot(page, 'denied-write');
    expect((await api('GET', 'secret/data/app/api')).body.data.metadata.version).toBe(1);

    await page.getByRole('link', { name: 'Keys' }).click();
    await page.getByRole('link', { name: 'orders' }).click();
    await page.getByRole('button', { name: 'Rotate key…' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Rotate' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toContain(
        "Permission denied: your token's policies do not allow you to rotate the key orders",
      );
    await screenshot(page, 'denied-rotate');

    // The health page: seal state shown, nodes not listable with this token, and it says so.
    await page.getByRole('link', { name: 'Health' }).click();
    await poll(() => page.getByText('unsealed').count()).toBe(1);
    await poll(() => page.getByText('may not list the nodes').count()).toBe(1);

    await page.getByRole('button', { name: 'Log out' }).click();
    await poll(() => page.getByRole('button', { name: 'Sign in' }).count()).toBe(1);
    expect(await page.evaluate(() => sessionStorage.getItem('custos.session'))).toBeNull();
    const lookup = () =>
      fetch(`${server.url}/v1/auth/token/lookup-self`, {
        headers: { 'x-vault-token': session.token },
      });
    await poll(async () => (await lookup()).status).toBe(403);
  });

  it('a token revoked while signed in ends the session with a notice; signing in again returns to the page', async () => {
    const token = (await api('POST', 'auth/token/create', { policies: ['dash-limited'] })).body.auth
      .client_token as string;
    const { page } = await open();
    await signInWithToken(page, token);
    // Every read of the page answered before the revoke (its reads come in waves: the previous
    // version after the current one), so the click below is what meets the dead token: a read
    // still on its way would end the session mid-click and leave no link to click.
    await page.goto(`${server.url}/ui/secrets/secret/app/db`, { waitUntil: 'networkidle' });
    await poll(() => page.getByRole('rowheader', { name: 'password' }).count()).toBe(1);
    expect((await api('POST', 'auth/token/revoke', { token })).status).toBe(204);
    await page.getByRole('link', { name: 'Keys' }).click();
    await expect
      .poll(() => page.getByRole('status').textContent())
      .toBe('Your session ended (the token expired or was revoked): sign in again.');
    expect(await page.evaluate(() => sessionStorage.getItem('custos.session'))).toBeNull();
    await page.getByRole('textbox', { name: 'Token' }).fill(rootToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await poll(() => page.getByRole('link', { name: 'orders' }).count()).toBe(1);
  });

  it('a denied read keeps the session: the page says what was refused', async () => {
    const token = (await api('POST', 'auth/token/create', { policies: ['dash-limited'] })).body.auth
      .client_token as string;
    const { page } = await open();
    await signInWithToken(page, token);
    await page.getByRole('link', { name: 'Health' }).click();
    await poll(() => page.getByText('may not list the nodes').count()).toBe(1);
    await page.goto(`${server.url}/ui/secrets`);
    await poll(() => page.getByText('may not list the mounts').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Log out' }).count()).toBe(1);
  });

  it('a wrong token or secret ID gets a clear message', async () => {
    const { page } = await open();
    await page.goto(`${server.url}/ui/`);
    await page.getByRole('textbox', { name: 'Token' }).fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toBe('Sign-in failed: the token is not valid (mistyped, expired or revoked).');
    await page.getByRole('tab', { name: 'AppRole' }).click();
    await page.getByLabel('Role ID').fill(roleId);
    await page.getByLabel('Secret ID').fill('wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toBe('Sign-in failed: invalid role ID or secret ID.');
  });

  it('shows seal state, version and nodes on the health page', async () => {
    const { page, errors } = await open();
    await signInWithToken(page, rootToken);
    await page.getByRole('link', { name: 'Health' }).click();
    const facts = page.getByRole('definition');
    await poll(() => facts.allTextContents()).toContain('unsealed');
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toContain('shamir, 1 of 1 key shares');
    expect(text).toContain(
      (await (await fetch(`${server.url}/v1/sys/health`)).json()).version as string,
    );
    await poll(() => page.getByRole('grid', { name: 'Nodes' }).count()).toBe(1);
    expect(await page.getByRole('gridcell', { name: 'leader' }).count()).toBe(1);
    await screenshot(page, 'health');
    expect(errors).toEqual([]);
  });

  it('is usable from the keyboard: skip link, tabs, sign-in with Enter', async () => {
    const { page } = await open();
    await page.goto(`${server.url}/ui/`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('role'))).toBe('tab');
    await page.keyboard.press('ArrowRight');
    expect(await page.getByRole('tab', { name: 'AppRole' }).getAttribute('aria-selected')).toBe(
      'true',
    );
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('type'))).toBe(
      'password',
    );
    await page.keyboard.type(rootToken);
    await page.keyboard.press('Enter');
    await poll(() => page.getByRole('button', { name: 'Log out' }).count()).toBe(1);
    // The first stop on a signed-in page skips to the content.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    // Every form control has an accessible name.
    await page.getByRole('link', { name: 'secret/' }).click();
    await page.getByRole('link', { name: 'app/' }).click();
    await page.getByRole('button', { name: 'New secret' }).press('Enter');
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll('input, button, [role="switch"]')]
        .filter((el) => {
          const labelled = (el as HTMLInputElement).labels?.length ?? 0;
          return (
            labelled === 0 &&
            !el.getAttribute('aria-label') &&
            !el.getAttribute('aria-labelledby') &&
            (el.textContent ?? '').trim() === ''
          );
        })
        .map((el) => el.outerHTML),
    );
    expect(unnamed).toEqual([]);
  });

  it('rotation: lists every policy, rotates only with a reason, and a second person approves', async () => {
    const { page, errors } = await open();
    await signInWithToken(page, rootToken);
    await page.getByRole('link', { name: 'Rotation' }).click();
    const table = page.getByRole('grid', { name: 'Rotation status' });
    await poll(() => table.getByRole('rowheader').allTextContents()).toEqual(
      expect.arrayContaining(['secret/app/api', 'secret/prod/db']),
    );
    expect(await page.getByText('No rotation waits for approval.').count()).toBe(1);

    // The reason is required: an empty one is refused in the form, nothing rotates.
    await page.getByRole('button', { name: 'Rotate secret/app/api…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Rotate now' }).click();
    await poll(() => dialog.textContent()).toContain('Say why');
    await screenshot(page, 'rotation-reason-required');
    const current = async (path: string) =>
      (await api('GET', `secret/data/${path}`)).body.data.metadata.version as number;
    expect(await current('app/api')).toBe(1);
    await dialog.getByLabel(/^Reason/).fill('dashboard test');
    await dialog.getByRole('button', { name: 'Rotate now' }).click();
    await expect
      .poll(() => page.getByRole('status').textContent())
      .toBe('Rotated secret/app/api: version 2 is now current.');
    expect(await current('app/api')).toBe(2);
    const runs = (await api('GET', 'sys/rotation-history/secret/app/api')).body.data.runs;
    expect(runs.at(-1)).toMatchObject({ reason: 'dashboard test', state: 'succeeded' });

    // Two-person approval: the request waits, the requester cannot approve it, bob can.
    await page.getByRole('button', { name: 'Rotate secret/prod/db…' }).click();
    await page
      .getByRole('dialog')
      .getByLabel(/^Reason/)
      .fill('DBA left');
    await page.getByRole('dialog').getByRole('button', { name: 'Rotate now' }).click();
    await poll(() => page.getByRole('status').textContent()).toContain(
      'The rotation of secret/prod/db waits for 1 approval(s)',
    );
    const pending = page.getByRole('grid', { name: 'Rotation requests waiting for approval' });
    await poll(() => pending.getByRole('rowheader').allTextContents()).toEqual(['secret/prod/db']);
    expect(await pending.textContent()).toContain('DBA left');
    await poll(() => table.getByRole('row', { name: /secret\/prod\/db/ }).textContent()).toContain(
      'waiting for approval',
    );
    await screenshot(page, 'rotation-pending');
    await page.getByRole('button', { name: 'Approve the rotation of secret/prod/db' }).click();
    await poll(() => page.getByRole('alert').textContent()).toContain(
      'Approval refused: the requester cannot approve their own rotation',
    );
    expect(await current('prod/db')).toBe(1);

    const bob = await open();
    await signInWithToken(bob.page, approverToken);
    await bob.page.getByRole('link', { name: 'Rotation' }).click();
    await bob.page.getByRole('button', { name: 'Approve the rotation of secret/prod/db' }).click();
    await expect
      .poll(() => bob.page.getByRole('status').textContent())
      .toBe('Approved. Rotated secret/prod/db: version 2 is now current.');
    expect(await current('prod/db')).toBe(2);
    await poll(() => bob.page.getByText('No rotation waits for approval.').count()).toBe(1);

    // The history page: who, why, which versions.
    await page.getByRole('link', { name: 'secret/app/api' }).click();
    const history = page.getByRole('grid', { name: 'Rotation runs, newest first' });
    await poll(() => history.textContent()).toContain('dashboard test');
    expect(await history.textContent()).toContain('1 → 2');
    await screenshot(page, 'rotation-history');
    expect(errors.filter((e) => !/403/.test(e))).toEqual([]);
  });

  it('keys: encryption counts against the limit, usage log, settings and state behind a dialog', async () => {
    const { page, errors } = await open();
    await signInWithToken(page, rootToken);
    await page.goto(`${server.url}/ui/keys/transit/ledger`);
    const versions = page.getByRole('grid', { name: 'Key versions' });
    await poll(() => versions.textContent()).toContain('1 of 1,073,741,824');
    const usage = page.getByRole('grid', { name: 'Key usage' });
    await poll(() => usage.getByRole('gridcell', { name: 'encrypt' }).count()).toBe(1);

    // Cancel changes nothing; Apply changes what the form says.
    await page.getByRole('button', { name: 'Change settings…' }).click();
    let dialog = page.getByRole('alertdialog');
    await dialog.getByText('Allow deleting the key').click();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await poll(() => page.getByRole('alertdialog').count()).toBe(0);
    const read = async () => (await api('GET', 'transit/keys/ledger')).body.data;
    expect((await read()).deletion_allowed).toBe(false);
    await page.getByRole('button', { name: 'Change settings…' }).click();
    dialog = page.getByRole('alertdialog');
    await dialog.getByText('Allow deleting the key').click();
    await screenshot(page, 'key-settings-dialog');
    await dialog.getByRole('button', { name: 'Apply' }).click();
    await poll(() => page.getByRole('status').textContent()).toBe('Settings changed.');
    expect((await read()).deletion_allowed).toBe(true);

    // A version floor above the latest is refused in the form.
    await page.getByRole('button', { name: 'Change settings…' }).click();
    dialog = page.getByRole('alertdialog');
    await dialog.getByLabel(/^Oldest version that decrypts/).fill('5');
    await dialog.getByRole('button', { name: 'Apply' }).click();
    await poll(() => dialog.textContent()).toContain('A version from 1 to 1.');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await read()).min_decryption_version).toBe(1);

    await page.getByRole('button', { name: 'Change state…' }).click();
    dialog = page.getByRole('alertdialog');
    await dialog.locator('label', { hasText: /^inactive:/ }).click();
    await screenshot(page, 'key-state-dialog');
    await dialog.getByRole('button', { name: 'Change state' }).click();
    await poll(() => page.getByRole('status').textContent()).toBe('State changed to inactive.');
    expect((await read()).state).toBe('inactive');
    await page.getByRole('button', { name: 'Change state…' }).click();
    await page
      .getByRole('alertdialog')
      .locator('label', { hasText: /^active:/ })
      .click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Change state' }).click();
    await poll(() => page.getByRole('status').textContent()).toBe('State changed to active.');
    expect((await read()).state).toBe('active');
    expect(errors).toEqual([]);
  });

  it('audit and compliance: devices, checkpoints, and the report as a table of controls', async () => {
    const { page, errors } = await open();
    await signInWithToken(page, rootToken);
    await page.getByRole('link', { name: 'Audit' }).click();
    const devices = page.getByRole('grid', { name: 'Audit devices' });
    await poll(() => devices.getByRole('rowheader').allTextContents()).toEqual(['file/']);
    await poll(() => devices.textContent()).toMatch(/entry \d+|none yet/);
    expect(await page.locator('main').textContent()).toContain(
      'custos audit verify file.log --server --sink file',
    );
    await screenshot(page, 'audit');

    await page.getByRole('link', { name: 'Compliance' }).click();
    const controls = page.getByRole('grid', { name: 'Controls' });
    const report = (await api('GET', 'sys/compliance/report')).body.data as {
      controls: { id: string; status: string }[];
    };
    const soc2 = (await api('GET', 'sys/compliance/report?framework=soc2')).body.data as {
      controls: unknown[];
    };
    // One row per control of the report the server gives (HIPAA's six, SOC 2's).
    expect(report.controls.length).toBeGreaterThan(soc2.controls.length);
    await poll(() => controls.getByRole('rowheader').count()).toBe(report.controls.length);
    const rows = await controls.getByRole('row').allTextContents();
    for (const control of report.controls)
      expect(rows.some((row) => row.includes(control.id) && row.includes(control.status))).toBe(
        true,
      );
    // Plain http: transmission fails, and the evidence says so with its re-check.
    expect(await controls.textContent()).toContain('plain http');
    await screenshot(page, 'compliance');
    await page.locator('label', { hasText: 'SOC 2' }).click();
    expect(await page.getByRole('radio', { name: 'SOC 2' }).isChecked()).toBe(true);
    await poll(() => controls.getByRole('rowheader').count()).toBe(soc2.controls.length);
    expect(await controls.getByRole('rowheader').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining('SOC 2 CC6.1')]),
    );
    expect(errors).toEqual([]);
  });

  it('a token without the rights sees in place what it may not read or change on the new pages', async () => {
    const token = (await api('POST', 'auth/token/create', { policies: ['dash-limited'] })).body.auth
      .client_token as string;
    const { page } = await open();
    await signInWithToken(page, token);
    await page.getByRole('link', { name: 'Rotation' }).click();
    await poll(() => page.getByText('may not read the rotation status').count()).toBe(1);
    await poll(() => page.getByText('may not see rotation requests').count()).toBe(1);
    await page.getByRole('link', { name: 'Audit' }).click();
    await poll(() => page.getByText('may not list the audit devices').count()).toBe(1);
    await page.getByRole('link', { name: 'Compliance' }).click();
    await poll(() => page.getByText('may not read the compliance report').count()).toBe(1);
    await screenshot(page, 'denied-compliance');
    // Keys: the usage log is readable here (read on transit/keys/*); a change is refused.
    await page.goto(`${server.url}/ui/keys/transit/ledger`);
    await page.getByRole('button', { name: 'Change settings…' }).click();
    await page.getByRole('alertdialog').getByText('Allow deleting the key').click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Apply' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toBe(
        "Permission denied: your token's policies do not allow you to change the settings of ledger (transit/keys/ledger/config).",
      );
    await page.getByRole('button', { name: 'Change state…' }).click();
    await page
      .getByRole('alertdialog')
      .locator('label', { hasText: /^inactive:/ })
      .click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Change state' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toContain('do not allow you to change the state of ledger');
    expect((await api('GET', 'transit/keys/ledger')).body.data.state).toBe('active');
    // Still signed in: a refusal is not a lost session.
    expect(await page.getByRole('button', { name: 'Log out' }).count()).toBe(1);

    // A token that may see the rotation status but not rotate: the refusal says what and where.
    await api('POST', 'sys/policies/acl/dash-rotation-viewer', {
      policy: JSON.stringify({ path: { 'sys/rotation-status': { capabilities: ['read'] } } }),
    });
    const viewer = (await api('POST', 'auth/token/create', { policies: ['dash-rotation-viewer'] }))
      .body.auth.client_token as string;
    const other = await open();
    await signInWithToken(other.page, viewer);
    await other.page.getByRole('link', { name: 'Rotation' }).click();
    const before = (await api('GET', 'secret/data/app/api')).body.data.metadata.version;
    await other.page.getByRole('button', { name: 'Rotate secret/app/api…' }).click();
    await other.page
      .getByRole('dialog')
      .getByLabel(/^Reason/)
      .fill('not allowed');
    await other.page.getByRole('dialog').getByRole('button', { name: 'Rotate now' }).click();
    await expect
      .poll(() => other.page.getByRole('alert').textContent())
      .toBe(
        "Permission denied: your token's policies do not allow you to rotate secret/app/api (sys/rotate-secret/secret/app/api).",
      );
    await screenshot(other.page, 'denied-rotation');
    expect((await api('GET', 'secret/data/app/api')).body.data.metadata.version).toBe(before);
  });

  it('passes axe-core’s WCAG 2.1 AA checks on every page, the dialog and a phone’s width', async () => {
    const found: string[] = [];
    const check = async (page: Page, what: string) => {
      for (const violation of await accessibilityViolations(page))
        found.push(`${what}: ${violation}`);
    };
    const { page } = await open();
    await page.goto(`${server.url}/ui/`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await check(page, 'sign-in');
    await page.getByRole('tab', { name: 'AppRole' }).click();
    await check(page, 'sign-in (AppRole)');
    await signInWithToken(page, rootToken);
    await page.goto(`${server.url}/ui/secrets/secret/app/`);
    await page.getByRole('button', { name: 'New secret' }).click();
    await poll(() => page.getByRole('link', { name: 'db' }).count()).toBe(1);
    await check(page, 'folder with the new-secret form');
    await page.getByRole('link', { name: 'db' }).click();
    await poll(() => page.getByRole('rowheader', { name: 'password' }).count()).toBe(1);
    await page.getByRole('button', { name: 'Reveal password' }).click();
    await page.getByRole('button', { name: 'Write a new version' }).click();
    await check(page, 'secret, revealed, editor open');
    await page.getByRole('link', { name: 'Keys' }).click();
    await poll(() => page.getByRole('link', { name: 'orders' }).count()).toBe(1);
    await check(page, 'keys');
    await page.getByRole('link', { name: 'orders' }).click();
    await page.getByRole('button', { name: 'Rotate key…' }).click();
    await poll(() => page.getByRole('alertdialog').count()).toBe(1);
    await check(page, 'rotation dialog');
    await page.keyboard.press('Escape');
    await poll(() => page.getByRole('alertdialog').count()).toBe(0);
    await page.getByRole('link', { name: 'Health' }).click();
    await poll(() => page.getByRole('grid', { name: 'Nodes' }).count()).toBe(1);
    await check(page, 'health');
    await page.goto(`${server.url}/ui/keys/transit/ledger`);
    await poll(() => page.getByRole('grid', { name: 'Key usage' }).count()).toBe(1);
    await check(page, 'key with its usage log');
    await page.getByRole('button', { name: 'Change settings…' }).click();
    await poll(() => page.getByRole('alertdialog').count()).toBe(1);
    await check(page, 'key settings dialog');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Change state…' }).click();
    await poll(() => page.getByRole('alertdialog').count()).toBe(1);
    await check(page, 'key state dialog');
    await page.keyboard.press('Escape');
    await page.getByRole('link', { name: 'Rotation' }).click();
    await poll(() => page.getByRole('grid', { name: 'Rotation status' }).count()).toBe(1);
    await check(page, 'rotation');
    await page.getByRole('button', { name: 'Rotate secret/app/api…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Rotate now' }).click();
    await poll(() => page.getByRole('dialog').textContent()).toContain('Say why');
    await check(page, 'rotation dialog with its error');
    await page.keyboard.press('Escape');
    await page.getByRole('link', { name: 'secret/app/api' }).click();
    await poll(() => page.getByRole('heading', { level: 1 }).textContent()).toContain('history');
    await check(page, 'rotation history');
    await page.getByRole('link', { name: 'Audit' }).click();
    await poll(() => page.getByRole('grid', { name: 'Audit devices' }).count()).toBe(1);
    await check(page, 'audit');
    await page.getByRole('link', { name: 'Compliance' }).click();
    await poll(() => page.getByRole('grid', { name: 'Controls' }).count()).toBe(1);
    await check(page, 'compliance');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.url}/ui/secrets/secret/app/db`);
    await poll(() => page.getByRole('rowheader', { name: 'password' }).count()).toBe(1);
    await check(page, 'secret on a phone');
    expect(found).toEqual([]);
  });

  it('fits a phone: nothing wider than the screen, every page reachable', async () => {
    const { page } = await open({ width: 390, height: 844 });
    await signInWithToken(page, rootToken);
    for (const [link, name] of [
      ['Secrets', 'phone-secrets'],
      ['Keys', 'phone-keys'],
      ['Rotation', 'phone-rotation'],
      ['Audit', 'phone-audit'],
      ['Compliance', 'phone-compliance'],
      ['Health', 'phone-health'],
    ] as const) {
      await page.getByRole('link', { name: link, exact: true }).click();
      await poll(() => page.getByRole('heading', { level: 1 }).count()).toBe(1);
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow, link).toBeLessThanOrEqual(0);
      await screenshot(page, name);
    }
  });
});
