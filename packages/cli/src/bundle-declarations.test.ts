import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { checkDeclarations, otherCopies, type PackageDeclarations } from './bundle-declarations.js';
import { BUNDLED_PACKAGES } from './cli-bundle.js';

const core: PackageDeclarations = {
  name: '@custos/core',
  dependencies: { '@custos/other': '0.1.0', jose: '^6.2.0', kysely: '^0.28.0' },
  peerDependencies: { pkcs11js: '^2.1.6', ioredis: '^5.0.0', 'prom-client': '^15.0.0' },
  peerDependenciesMeta: { pkcs11js: { optional: true }, ioredis: { optional: true } },
};

describe('checkDeclarations', () => {
  const complete: PackageDeclarations = {
    dependencies: { jose: '^6.2.0', ioredis: '^5.11.1' },
    peerDependencies: { pkcs11js: '^2.1.6', 'prom-client': '^15.0.0' },
    peerDependenciesMeta: { pkcs11js: { optional: true } },
  };

  it('finds nothing missing when the CLI declares every dependency and peer as the package does', () => {
    // The workspace's own packages and those bundled whole need no declaration; a peer may be
    // a dependency of the CLI (ioredis) instead.
    expect(checkDeclarations(complete, [core], ['kysely'])).toEqual([]);
  });

  it('names each dependency missing or declared with another range', () => {
    expect(
      checkDeclarations({ ...complete, dependencies: { ioredis: '^5.11.1' } }, [core], ['kysely']),
    ).toEqual([
      '@custos/core depends on jose ^6.2.0: the custos package must declare it so (it has none)',
    ]);
    expect(
      checkDeclarations(
        { ...complete, dependencies: { jose: '^6.0.0', ioredis: '^5.11.1' } },
        [core],
        ['kysely'],
      ),
    ).toEqual([
      '@custos/core depends on jose ^6.2.0: the custos package must declare it so (it has ^6.0.0)',
    ]);
    // Kysely is only exempt while it is bundled.
    expect(checkDeclarations(complete, [core], [])).toEqual([
      '@custos/core depends on kysely ^0.28.0: the custos package must declare it so (it has none)',
    ]);
  });

  it('holds optional dependencies to the same range, declared by the CLI either way', () => {
    const withOptional = { ...core, optionalDependencies: { qrcode: '^1.5.4' } };
    expect(checkDeclarations(complete, [withOptional], ['kysely'])).toEqual([
      '@custos/core depends on qrcode ^1.5.4: the custos package must declare it so (it has none)',
    ]);
    const optional = { ...complete, optionalDependencies: { qrcode: '^1.5.4' } };
    expect(checkDeclarations(optional, [withOptional], ['kysely'])).toEqual([]);
  });

  it('names each peer missing, of another range, or not as optional as the package says', () => {
    const without = { ...complete, peerDependencies: { 'prom-client': '^15.0.0' } };
    expect(checkDeclarations(without, [core], ['kysely'])).toEqual([
      '@custos/core has the optional peer pkcs11js ^2.1.6: the custos package must declare it so, as a dependency or an optional peer (it has none)',
    ]);
    const required = { ...complete, peerDependenciesMeta: {} };
    expect(checkDeclarations(required, [core], ['kysely'])).toEqual([
      '@custos/core has the optional peer pkcs11js ^2.1.6: the custos package must declare it so, as a dependency or an optional peer (it has ^2.1.6, not optional)',
    ]);
    const optionalToo = {
      ...complete,
      peerDependenciesMeta: { pkcs11js: { optional: true }, 'prom-client': { optional: true } },
    };
    expect(checkDeclarations(optionalToo, [core], ['kysely'])).toEqual([
      '@custos/core has the peer prom-client ^15.0.0: the custos package must declare it so, as a dependency or a peer (it has ^15.0.0, optional)',
    ]);
  });

  it('holds for the packages the CLI bundles (what npm run build checks)', async () => {
    const manifest = async (dir: string) =>
      JSON.parse(await readFile(new URL(`../../${dir}/package.json`, import.meta.url), 'utf8'));
    const cli = await manifest('cli');
    const bundled = await Promise.all(
      BUNDLED_PACKAGES.filter((name) => name !== 'custos').map((name) =>
        manifest(name.slice('@custos/'.length)),
      ),
    );
    expect(bundled.map((pkg) => pkg.name).sort()).toEqual(
      BUNDLED_PACKAGES.filter((name) => name !== 'custos').sort(),
    );
    expect(checkDeclarations(cli, bundled, ['kysely'])).toEqual([]);
  });
});

describe('otherCopies', () => {
  const roots = [
    { name: 'kysely', root: '/app/node_modules/kysely' },
    { name: '@custos/reencrypt', root: '/app/packages/reencrypt' },
  ];

  it('finds files of a bundled package in a copy other than the one checked', () => {
    expect(
      otherCopies(
        [
          '/app/node_modules/kysely/dist/esm/index.js',
          '/app/packages/reencrypt/dist/index.js',
          '/app/node_modules/fastify/fastify.js',
          '/app/packages/server/node_modules/kysely/dist/esm/index.js',
          '/app/packages/server/node_modules/@custos/reencrypt/dist/index.js',
        ],
        roots,
      ),
    ).toEqual([
      '/app/packages/server/node_modules/kysely/dist/esm/index.js is another copy of kysely than /app/node_modules/kysely',
      '/app/packages/server/node_modules/@custos/reencrypt/dist/index.js is another copy of @custos/reencrypt than /app/packages/reencrypt',
    ]);
  });

  it('tells a package from another whose name begins the same', () => {
    expect(otherCopies(['/app/node_modules/kysely-codegen/x.js'], roots)).toEqual([]);
    expect(
      otherCopies(
        ['/app/node_modules/kysely/x.js'],
        [{ name: 'kysely', root: '/app/node_modules/kysel' }],
      ),
    ).toEqual([
      '/app/node_modules/kysely/x.js is another copy of kysely than /app/node_modules/kysel',
    ]);
  });
});
