import { randomBytes } from 'node:crypto';
import { closedPort, type RecordingServer, recordingServer } from '@custos/test-support/http';
import { afterEach, describe, expect, it } from 'vitest';
import { type CustosError, isCustosError } from '../errors/index.js';
import { createServerClient } from './index.js';

/** A planted token: it must reach the server it was meant for and nothing else, ever. */
const canary = () => `cst.canary-${randomBytes(12).toString('hex')}`;

const servers: RecordingServer[] = [];
async function server(...args: Parameters<typeof recordingServer>) {
  const started = await recordingServer(...args);
  servers.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** The error a promise or function ends with (the test fails if there is none). */
async function failure(run: () => unknown): Promise<CustosError> {
  try {
    await run();
  } catch (err) {
    if (isCustosError(err)) return err;
    throw err;
  }
  throw new Error('expected a CustosError');
}

/** Everything an error shows a person or a log: message, stack and its causes. */
function shown(err: Error): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    parts.push(e.message, e.stack ?? '', JSON.stringify(e));
  }
  return parts.join('\n');
}

/** A `fetch` that records calls and never touches the network. */
function noNetwork() {
  const calls: string[] = [];
  const fetchSpy: typeof fetch = async (input) => {
    calls.push(String(input));
    return new Response('{"data":{}}', { status: 200 });
  };
  return { calls, fetch: fetchSpy };
}

describe('createServerClient: redirects', () => {
  it.each([301, 302, 303, 307, 308])(
    'refuses a %i to another origin: the other origin receives nothing, no token and no body',
    async (status) => {
      const token = canary();
      const unsealKey = randomBytes(32).toString('base64');
      const elsewhere = await server(() => ({ status: 200, body: '{"sealed":false}' }));
      const redirecting = await server(() => ({
        status,
        headers: { location: `${elsewhere.url}/v1/sys/unseal?from=custos` },
      }));
      const client = createServerClient({ address: redirecting.url, auth: { token } });
      const error = await failure(() =>
        client.request('POST', 'sys/unseal', { body: { key: unsealKey } }),
      );
      expect(error.code).toBe('ERR_SERVER_REDIRECT');
      expect(error.message).toBe(
        `${redirecting.url} answered POST sys/unseal with a redirect (HTTP ${status}) to ${elsewhere.url}; custos never follows redirects, so the token and request go nowhere else: set the address to the server that answers`,
      );
      expect(elsewhere.seen).toEqual([]);
      // The first server was asked once, as meant (it is the configured one).
      expect(redirecting.seen).toHaveLength(1);
      expect(shown(error)).not.toContain(token);
      expect(shown(error)).not.toContain(unsealKey);
    },
  );

  it('refuses a redirect within the same origin too, and a relative or broken location', async () => {
    const token = canary();
    const target = await server((request) =>
      request.url.startsWith('/v1/moved')
        ? { status: 200, body: '{}' }
        : { status: 307, headers: { location: '/v1/moved/here' } },
    );
    const client = createServerClient({ address: target.url, auth: { token } });
    const error = await failure(() => client.call('GET', 'secret/data/app'));
    expect(error.code).toBe('ERR_SERVER_REDIRECT');
    expect(error.message).toContain(`(HTTP 307) to ${target.url};`);
    expect(target.seen.map((r) => r.url)).toEqual(['/v1/secret/data/app']);

    const bare = await server(() => ({ status: 302 }));
    const noLocation = await failure(() =>
      createServerClient({ address: bare.url, auth: { token } }).call('GET', 'x'),
    );
    expect(noLocation.message).toContain('(HTTP 302) to no location;');
  });

  it('names only the origin of the redirect target, never its path or query', async () => {
    const redirecting = await server(() => ({
      status: 307,
      headers: { location: 'https://collector.example:9443/steal?token=leaked-value-123456' },
    }));
    const error = await failure(() =>
      createServerClient({ address: redirecting.url, auth: { token: canary() } }).call('GET', 'x'),
    );
    expect(error.message).toContain('to https://collector.example:9443;');
    expect(error.message).not.toContain('steal');
    expect(error.message).not.toContain('leaked-value');
  });

  it('does not send an AppRole secret id where a login is redirected', async () => {
    const secretId = randomBytes(18).toString('hex');
    const elsewhere = await server(() => ({
      status: 200,
      body: '{"auth":{"client_token":"attacker"}}',
    }));
    const redirecting = await server(() => ({
      status: 307,
      headers: { location: `${elsewhere.url}/v1/auth/approle/login` },
    }));
    const client = createServerClient({
      address: redirecting.url,
      auth: { roleId: 'role', secretId },
    });
    const error = await failure(() => client.call('GET', 'secret/data/app'));
    expect(error.code).toBe('ERR_SERVER_REDIRECT');
    expect(elsewhere.seen).toEqual([]);
    expect(shown(error)).not.toContain(secretId);
  });
});

describe('createServerClient: plain http', () => {
  it.each([
    'http://example.invalid:8200',
    'http://10.255.255.1:8200',
    'http://vault.internal',
    'http://0.0.0.0:8200',
    'http://localhost.:8200',
    'http://127.0.0.1.nip.io:8200',
    'http://[::ffff:127.0.0.1]:8200',
    'http://[fe80::1]:8200',
    'HTTP://EXAMPLE.INVALID',
  ])('refuses %s before connecting, naming the opt-in', async (address) => {
    const net = noNetwork();
    const error = await failure(() =>
      createServerClient({ address, auth: { token: canary() }, fetch: net.fetch }),
    );
    expect(error.code).toBe('ERR_INSECURE_TRANSPORT');
    expect(error.message).toMatch(/^refusing plain http to http:\/\//);
    expect(error.message).toContain('--allow-insecure-http');
    expect(net.calls).toEqual([]);
  });

  it.each([
    'http://127.0.0.1:8200',
    'http://127.1.2.3:8200',
    'http://127.1:8200',
    'http://localhost:8200',
    'http://LOCALHOST:8200',
    'http://[::1]:8200',
    'https://example.invalid:8200',
  ])('accepts %s (loopback, or https)', async (address) => {
    const net = noNetwork();
    await createServerClient({ address, auth: { token: 't' }, fetch: net.fetch }).call('GET', 'x');
    expect(net.calls).toHaveLength(1);
  });

  it('accepts plain http elsewhere only when told so: the option, or CUSTOS_ALLOW_INSECURE_HTTP=1', async () => {
    const address = 'http://example.invalid:8200';
    const net = noNetwork();
    const allowed = createServerClient({ address, allowInsecureHttp: true, fetch: net.fetch });
    await allowed.call('GET', 'sys/health');
    expect(net.calls).toEqual(['http://example.invalid:8200/v1/sys/health']);
    const fromEnv = createServerClient({
      address,
      fetch: net.fetch,
      env: { CUSTOS_ALLOW_INSECURE_HTTP: '1' },
    });
    expect(fromEnv.address).toBe(address);
    // An explicit false wins over the environment; other values of the variable are not a yes.
    for (const [option, value] of [
      [false, '1'],
      [undefined, 'true'],
      [undefined, ''],
    ] as const) {
      const error = await failure(() =>
        createServerClient({
          address,
          ...(option === undefined ? {} : { allowInsecureHttp: option }),
          env: { CUSTOS_ALLOW_INSECURE_HTTP: value },
        }),
      );
      expect(error.code).toBe('ERR_INSECURE_TRANSPORT');
    }
  });

  it('refuses credentials, queries and other schemes in the address, without echoing them', async () => {
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const withUser = await failure(() =>
      createServerClient({ address: `https://admin:${password}@vault.example:8200` }),
    );
    expect(withUser.code).toBe('ERR_INVALID_ARGUMENT');
    expect(withUser.message).toContain('https://vault.example:8200 must not contain a user name');
    expect(shown(withUser)).not.toContain(password);
    for (const address of ['https://vault.example/?token=x', 'https://vault.example/#x']) {
      expect((await failure(() => createServerClient({ address }))).code).toBe(
        'ERR_INVALID_ARGUMENT',
      );
    }
    for (const address of ['ftp://vault.example', 'file:///etc/passwd', 'vault.example:8200']) {
      expect((await failure(() => createServerClient({ address }))).code).toBe(
        'ERR_INVALID_ARGUMENT',
      );
    }
  });
});

describe('createServerClient: failures and timeouts', () => {
  it('reports a server nobody listens on as ERR_SERVER_UNREACHABLE, without the token', async () => {
    const token = canary();
    const address = `http://127.0.0.1:${await closedPort()}`;
    const error = await failure(() =>
      createServerClient({ address, auth: { token } }).request('GET', 'sys/seal-status'),
    );
    expect(error.code).toBe('ERR_SERVER_UNREACHABLE');
    expect(error.message).toBe(
      `cannot reach the server at ${address} (ECONNREFUSED); check CUSTOS_ADDR`,
    );
    expect(shown(error)).not.toContain(token);
  });

  it('gives up on a server that never answers, or stops halfway through its answer', async () => {
    const silent = await server(() => undefined);
    const token = canary();
    const error = await failure(() =>
      createServerClient({ address: silent.url, auth: { token }, timeoutMs: 200 }).call(
        'GET',
        'sys/seal-status',
      ),
    );
    expect(error.code).toBe('ERR_SERVER_UNREACHABLE');
    expect(error.message).toBe(
      `cannot reach the server at ${silent.url} (no answer within 200 ms); check CUSTOS_ADDR`,
    );
    expect(shown(error)).not.toContain(token);

    // Headers, then a body that never ends.
    const { createServer } = await import('node:http');
    const stalling = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"data":');
    });
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
    try {
      const port = (stalling.address() as { port: number }).port;
      const halfway = await failure(() =>
        createServerClient({ address: `http://127.0.0.1:${port}`, timeoutMs: 200 }).call(
          'GET',
          'x',
        ),
      );
      expect(halfway.code).toBe('ERR_SERVER_UNREACHABLE');
      expect(halfway.message).toContain('(no answer within 200 ms)');
    } finally {
      stalling.closeAllConnections();
      await new Promise((resolve) => stalling.close(resolve));
    }
  });

  it('refuses a timeout that is not a positive whole number of milliseconds', async () => {
    for (const timeoutMs of [0, -1, 1.5, Number.NaN, 2 ** 31]) {
      expect((await failure(() => createServerClient({ timeoutMs }))).code).toBe(
        'ERR_INVALID_ARGUMENT',
      );
    }
  });

  it('maps error statuses to codes, with server text scrubbed of the token and the body values', async () => {
    const token = canary();
    const value = `value-${randomBytes(10).toString('hex')}`;
    // A hostile or buggy server echoing what it received into its error text.
    const echoing = await server((request) => ({
      status: Number(request.url.split('/').pop()),
      body: JSON.stringify({
        errors: [`bad request from ${request.headers['x-vault-token']}: ${request.body}`],
      }),
    }));
    const client = createServerClient({ address: echoing.url, auth: { token } });
    const codes: Record<number, string> = {
      400: 'ERR_INVALID_REQUEST',
      401: 'ERR_PERMISSION_DENIED',
      403: 'ERR_PERMISSION_DENIED',
      404: 'ERR_NOT_FOUND',
      500: 'ERR_INVALID_REQUEST',
      503: 'ERR_SEALED',
    };
    for (const [status, code] of Object.entries(codes)) {
      const error = await failure(() =>
        client.request('POST', `secret/data/${status}`, { body: { data: { password: value } } }),
      );
      expect(error.code).toBe(code);
      expect(error.message).toMatch(
        new RegExp(`^POST secret/data/${status}: ${status} bad request from `),
      );
      expect(shown(error)).not.toContain(token);
      expect(shown(error)).not.toContain(value);
    }
    const allowed = await client.request('GET', 'secret/data/404', { allowStatus: [404] });
    expect(allowed.status).toBe(404);
    expect(client.errorOf(allowed)).toMatch(/^bad request from \[REDACTED\]/);
    const body = { plaintext: Buffer.from(value).toString('base64') };
    const echoed = await client.call('POST', 'transit/encrypt/400', { body });
    expect(client.errorOf(echoed, body)).not.toContain(body.plaintext);
    expect(client.errorOf(echoed, body)).not.toContain(token);
    expect((await client.call('GET', 'secret/data/503')).status).toBe(503);
  });

  it('refuses a token a header cannot carry, without echoing it', async () => {
    const error = await failure(() =>
      createServerClient({ auth: { token: 'abc\r\nX-Injected: 1' } }),
    );
    expect(error.code).toBe('ERR_INVALID_ARGUMENT');
    expect(error.message).not.toContain('Injected');
  });
});

describe('createServerClient: address and token from the environment', () => {
  it('reads CUSTOS_ADDR before VAULT_ADDR, and CUSTOS_TOKEN before VAULT_TOKEN; empty counts as unset', async () => {
    const custos = await server(() => ({ status: 200, body: '{}' }));
    const vault = await server(() => ({ status: 200, body: '{}' }));
    const tokenOf = (s: RecordingServer) => s.seen.at(-1)?.headers['x-vault-token'];

    await createServerClient({
      env: { CUSTOS_ADDR: custos.url, VAULT_ADDR: vault.url, CUSTOS_TOKEN: 'c', VAULT_TOKEN: 'v' },
    }).call('GET', 'x');
    expect(tokenOf(custos)).toBe('c');
    await createServerClient({
      env: { CUSTOS_ADDR: '', VAULT_ADDR: `${vault.url}/`, CUSTOS_TOKEN: '', VAULT_TOKEN: 'v' },
    }).call('GET', 'x');
    expect(tokenOf(vault)).toBe('v');
    expect(vault.seen.at(-1)?.url).toBe('/v1/x');
    // Options win over the environment; without any token, no header is sent.
    await createServerClient({ address: custos.url, env: { VAULT_ADDR: vault.url } }).call(
      'GET',
      'y',
    );
    expect(custos.seen.at(-1)).toMatchObject({ url: '/v1/y' });
    expect(tokenOf(custos)).toBeUndefined();
    expect(createServerClient({ env: {} }).address).toBe('http://127.0.0.1:8200');
  });
});
