import { createRequire } from 'node:module';

let require: NodeJS.Require | undefined;

/** `require` from the server package's own folder, made once. */
const serverRequire = () => {
  require ??= createRequire(createRequire(import.meta.url).resolve('@custos/server/package.json'));
  return require;
};

/**
 * `require` as the `@custos/server` package sees it — its own package.json and the packages
 * installed beside it — found by package name rather than relative to this module: the CLI
 * runs `custos server` from one bundled file (packages/cli/scripts/bundle.mjs), where
 * `import.meta.url` is the bundle's, not this package's.
 *
 * @example
 * ```ts
 * const { version } = requireFromServerPackage('@custos/server/package.json') as { version: string };
 * ```
 */
export function requireFromServerPackage(id: string): unknown {
  return serverRequire()(id);
}

/**
 * {@link requireFromServerPackage}'s `require.resolve`: where the server package finds `id`.
 *
 * @example
 * ```ts
 * resolveFromServerPackage('@custos/ui/package.json'); // '/repo/packages/ui/package.json'
 * ```
 */
export function resolveFromServerPackage(id: string): string {
  return serverRequire().resolve(id);
}
