import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendTarget } from '../../test/path-variants.js';
import { sealServer } from '../lifecycle.js';
import { type RunningServer, startServer } from '../server.js';
import { defaultDashboardDir, loadDashboardAssets } from './dashboard-assets.js';
import { CSP_NONCE_PLACEHOLDER, dashboardCsp, dashboardPathOf } from './dashboard-routes.js';

const INDEX = `<!doctype html><title>t</title><meta property="csp-nonce" nonce="${CSP_NONCE_PLACEHOLDER}"><script type="module" src="/ui/assets/app-1a2b.js"></script>`;

/** index.html as served: the placeholder replaced by the load's nonce, the one its CSP names. */
function expectIndex(response: { headers: Headers }, text: string): void {
  const csp = response.headers.get('content-security-policy') ?? '';
  const nonce = /'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
  expect(nonce).toMatch(/^[A-Za-z0-9+/]{24}$/);
  expect(csp).toBe(dashboardCsp(nonce));
  expect(text).toBe(INDEX.replace(CSP_NONCE_PLACEHOLDER, nonce!));
}
// Large enough to be worth compressing.
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});\n`;
const STYLE = 'body { color: black; }\n'.repeat(100);

/** A build as Vite writes one: index.html, hashed assets, a file at the root. */
async function fakeBuild(dir: string): Promise<void> {
  await mkdir(join(dir, 'assets'), { recursive: true });
  await writeFile(join(dir, 'index.html'), INDEX);
  await writeFile(join(dir, 'assets', 'app-1a2b.js'), SCRIPT);
  await writeFile(join(dir, 'assets', 'app-3c4d.css'), STYLE);
  await writeFile(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
}

describe('the dashboard at /ui/', () => {
  let dir: string;
  let outside: string;
  let server: RunningServer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-ui-'));
    outside = await mkdtemp(join(tmpdir(), 'custos-ui-outside-'));
    const build = join(dir, 'dist');
    await fakeBuild(build);
    // A file next to the build, and a link out of it: neither may ever be served.
    await writeFile(join(dir, 'secret.txt'), 'OUTSIDE-CANARY');
    await writeFile(join(outside, 'x.txt'), 'LINKED-CANARY');
    await symlink(outside, join(build, 'linked'));
    await symlink(join(dir, 'secret.txt'), join(build, 'assets', 'link.txt'));
    server = await startServer({
      dev: { rootTokenId: 'root' },
      port: 0,
      logLevel: 'silent',
      ui: { dir: build },
    });
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  it('serves index.html at /ui/, revalidated, under the dashboard CSP, without a token', async () => {
    const response = await fetch(`${server.url}/ui/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expectIndex(response, await response.text());
  });

  it('gives each load of index.html a nonce of its own', async () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${server.url}/ui/keys`);
      const text = await response.text();
      expectIndex(response, text);
      expect(text).not.toContain(CSP_NONCE_PLACEHOLDER);
      nonces.add(response.headers.get('content-security-policy') ?? '');
    }
    expect(nonces.size).toBe(3);
  });

  it('the CSP allows no inline script, no other origin, inline styles only by nonce', () => {
    for (const csp of [dashboardCsp(), dashboardCsp('abc')]) {
      expect(csp).not.toMatch(/unsafe|https:|data:|\*/);
      const directives = csp.split('; ');
      for (const directive of ["script-src 'self'", "connect-src 'self'", "default-src 'none'"])
        expect(directives).toContain(directive);
      expect(directives).toContain("frame-ancestors 'none'");
    }
    expect(dashboardCsp().split('; ')).toContain("style-src 'self'");
    expect(dashboardCsp('abc').split('; ')).toContain("style-src 'self' 'nonce-abc'");
  });

  it('redirects /ui to /ui/', async () => {
    const response = await fetch(`${server.url}/ui`, { redirect: 'manual' });
    expect(response.status).toBe(308);
    expect(response.headers.get('location')).toBe('/ui/');
  });

  it('serves hashed assets with their type, cached for good, gzip when accepted', async () => {
    for (const [path, type, body] of [
      ['assets/app-1a2b.js', 'text/javascript; charset=utf-8', SCRIPT],
      ['assets/app-3c4d.css', 'text/css; charset=utf-8', STYLE],
    ] as const) {
      const response = await fetch(`${server.url}/ui/${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(type);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(response.headers.get('vary')).toBe('accept-encoding');
      // fetch asks for gzip and decodes it.
      expect(response.headers.get('content-encoding')).toBe('gzip');
      expect(await response.text()).toBe(body);
      const plain = await rawGet(server.url, `/ui/${path}`, { 'accept-encoding': 'identity' });
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.body.toString()).toBe(body);
      const refused = await rawGet(server.url, `/ui/${path}`, { 'accept-encoding': 'gzip;q=0' });
      expect(refused.headers['content-encoding']).toBeUndefined();
      const gzip = await rawGet(server.url, `/ui/${path}`, { 'accept-encoding': 'br, gzip' });
      expect(gunzipSync(gzip.body).toString()).toBe(body);
    }
    const icon = await fetch(`${server.url}/ui/favicon.svg`);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    expect(icon.headers.get('cache-control')).toBe('no-cache');
  });

  it('answers HEAD as GET without a body', async () => {
    const response = await fetch(`${server.url}/ui/assets/app-1a2b.js`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await response.text()).toBe('');
  });

  it('serves index.html for the app’s own pages (SPA fallback), a 404 for a missing asset', async () => {
    for (const path of ['secrets', 'secrets/secret/app/db%20x', 'keys/', 'health?x=1']) {
      const response = await fetch(`${server.url}/ui/${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expectIndex(response, await response.text());
    }
    const missing = await fetch(`${server.url}/ui/assets/app-0000.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(missing.headers.get('cache-control')).toBe('no-store');
  });

  it('never leaves the build: dot segments, encoded slashes and backslashes are refused', async () => {
    const targets = [
      '/ui/../secret.txt',
      '/ui/assets/../../secret.txt',
      '/ui/%2e%2e/secret.txt',
      '/ui/%2E%2E/secret.txt',
      '/ui/assets/%2e%2e/%2e%2e/secret.txt',
      '/ui/.%2e/secret.txt',
      '/ui/..%2fsecret.txt',
      '/ui/..%2Fsecret.txt',
      '/ui/assets%2f..%2f..%2fsecret.txt',
      '/ui/..%5csecret.txt',
      '/ui/..\\secret.txt',
      '/ui/./index.html',
      '/ui//etc/passwd',
      '/ui/assets//app-1a2b.js',
      '/ui/%00',
      '/ui/%zz',
      '/ui/%252e%252e/secret.txt',
      '/ui/linked/x.txt',
      '/ui/assets/link.txt',
      '/ui/../v1/sys/health',
    ];
    for (const target of targets) {
      const response = await sendTarget(server.url, 'GET', target);
      expect(response.text, target).not.toMatch(/CANARY|root:/);
      // Refused, or (a double-encoded name, a link) the app's page: never the file.
      expect([200, 400, 404], target).toContain(response.status);
      if (response.status === 200)
        expect(response.text, target).toMatch(/^<!doctype html><title>t/);
    }
    for (const target of targets.slice(0, 16))
      expect((await sendTarget(server.url, 'GET', target)).status, target).toBe(400);
  });

  it('admits as an asset (no token, no ACL, no audit) the dashboard’s routes and nothing else', () => {
    const table = server.app.routeTable;
    const assets = table.filter((r) => r.access.asset === true).map((r) => `${r.method} ${r.url}`);
    expect(assets.sort()).toEqual([
      'GET /ui',
      'GET /ui/',
      'GET /ui/*',
      'HEAD /ui',
      'HEAD /ui/',
      'HEAD /ui/*',
    ]);
    expect(table.filter((r) => r.url.startsWith('/ui') && r.access.asset !== true)).toEqual([]);
  });

  it('reads paths one way only', () => {
    expect(dashboardPathOf('/ui/')).toBe('');
    expect(dashboardPathOf('/ui/secrets/a%20b?x=1')).toBe('secrets/a b');
    expect(dashboardPathOf('/ui/keys/')).toBe('keys/');
    for (const url of ['/ui/a/../b', '/ui/%2e', '/ui/a%2Fb', '/ui/a%5Cb', '/ui/a//b', '/ui/%'])
      expect(dashboardPathOf(url), url).toBeUndefined();
  });

  it('is only /ui/: case variants and neighbours get the API’s refusal, not the app', async () => {
    for (const path of ['/UI/', '/Ui/index.html', '/ui-x/', '/uix']) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status, path).toBe(400);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(await response.text()).not.toContain('<!doctype');
    }
  });
});

describe('the dashboard, where there is no build', () => {
  it('answers /ui/ with a message saying how to build it, and picks up a build made later', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custos-ui-missing-'));
    const server = await startServer({ port: 0, logLevel: 'silent', ui: { dir } });
    try {
      const response = await fetch(`${server.url}/ui/`);
      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await response.text()).toContain('npm run build -w @custos/ui');
      // The server is fine: the API answers (not initialised: 501).
      expect((await fetch(`${server.url}/v1/sys/health`)).status).toBe(501);
      await fakeBuild(dir);
      const built = await fetch(`${server.url}/ui/`);
      expect(built.status).toBe(200);
      expectIndex(built, await built.text());
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('serves the files while the server is sealed, and audits none of them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custos-ui-sealed-'));
    await fakeBuild(join(dir, 'dist'));
    const auditFile = join(dir, 'audit.log');
    const server = await startServer({
      dev: {},
      port: 0,
      logLevel: 'silent',
      ui: { dir: join(dir, 'dist') },
      audit: [{ type: 'file', path: auditFile, name: 'file' }],
    });
    try {
      expect((await fetch(`${server.url}/ui/keys`)).status).toBe(200);
      expect((await fetch(`${server.url}/v1/sys/health`)).status).toBe(200);
      await sealServer(server.context);
      expect((await fetch(`${server.url}/v1/secret/data/x`)).status).toBe(503);
      expect((await fetch(`${server.url}/ui/`)).status).toBe(200);
      expect((await fetch(`${server.url}/ui/assets/app-1a2b.js`)).status).toBe(200);
      expect(await readFile(auditFile, 'utf8')).not.toContain('ui/');
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ui: false serves nothing at /ui/ (the API’s refusal of a path outside /v1/)', async () => {
    const server = await startServer({ port: 0, logLevel: 'silent', ui: false });
    try {
      const response = await fetch(`${server.url}/ui/`);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ errors: ['the request path must start with /v1/'] });
    } finally {
      await server.close();
    }
  });

  it('finds the @custos/ui build of the workspace by default', async () => {
    const dir = defaultDashboardDir();
    expect(dir).toMatch(/packages[/\\]ui[/\\]dist$/);
    expect(await loadDashboardAssets(join(dir!, 'no-such-dir'))).toBeUndefined();
  });
});

/** A GET with exactly these headers (fetch always asks for gzip and decodes it). */
async function rawGet(
  base: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
