import { createRequire } from 'node:module';
import { dirname } from 'node:path';

let root: string | undefined;

/**
 * The directory of the `@custos/scan` package (where its package.json is), found by package
 * name rather than relative to this module: the CLI runs the scanner from one bundled file
 * (packages/cli/scripts/bundle.mjs), where `import.meta.url` is the bundle's, not this
 * package's.
 *
 * @example
 * ```ts
 * join(scanPackageRoot(), 'package.json'); // …/packages/scan/package.json
 * ```
 */
export function scanPackageRoot(): string {
  root ??= dirname(createRequire(import.meta.url).resolve('@custos/scan/package.json'));
  return root;
}

/**
 * `require` as the `@custos/scan` package sees it: its own files and dependencies, wherever
 * the calling code was bundled to.
 *
 * @example
 * ```ts
 * const ignore = requireFromScanPackage('ignore') as typeof import('ignore').default;
 * ```
 */
export function requireFromScanPackage(id: string): unknown {
  return createRequire(`${scanPackageRoot()}/package.json`)(id);
}
