/** The parts of a package.json that say what a package may import. */
export interface PackageDeclarations {
  readonly name?: string;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly peerDependenciesMeta?: Readonly<Record<string, { readonly optional?: boolean }>>;
}

/**
 * What the CLI's package.json (`cli`) lacks for its bundle (scripts/bundle.mjs) to find, from
 * the CLI's folder, every package the bundled code imports or requires at run time as the
 * package that code came from finds it: each dependency (optional ones too, which the CLI may
 * declare either way) of a `bundled` package (but the
 * workspace's own and those bundled whole, `bundledThirdParty`) with the same range, and each
 * peer dependency as a dependency or as a peer of the same range, optional if it is. Some are
 * required by a name the bundler cannot see (`createRequire`, `import(name)`), so every
 * declaration is checked, used or not. Returns one line per problem; none when all is there.
 *
 * @example
 * ```ts
 * checkDeclarations({}, [{ name: '@custos/core', dependencies: { jose: '^6.0.0' } }], []);
 * // → ['@custos/core depends on jose ^6.0.0: the custos package must declare it so (it has none)']
 * ```
 */
export function checkDeclarations(
  cli: PackageDeclarations,
  bundled: readonly PackageDeclarations[],
  bundledThirdParty: readonly string[],
): string[] {
  const problems: string[] = [];
  const skip = (name: string) => name.startsWith('@custos/') || bundledThirdParty.includes(name);
  for (const pkg of bundled) {
    const required = { ...pkg.optionalDependencies, ...pkg.dependencies };
    for (const [name, range] of Object.entries(required)) {
      if (skip(name)) continue;
      const declared = cli.dependencies?.[name] ?? cli.optionalDependencies?.[name];
      if (declared !== range) {
        problems.push(
          `${pkg.name} depends on ${name} ${range}: the custos package must declare it so (it has ${declared ?? 'none'})`,
        );
      }
    }
    for (const [name, range] of Object.entries(pkg.peerDependencies ?? {})) {
      if (skip(name) || cli.dependencies?.[name] !== undefined) continue;
      const declared = cli.peerDependencies?.[name];
      const optional = pkg.peerDependenciesMeta?.[name]?.optional === true;
      const declaredOptional = cli.peerDependenciesMeta?.[name]?.optional === true;
      if (declared !== range || declaredOptional !== optional) {
        const has =
          declared === range ? `${declared}, ${declaredOptional ? '' : 'not '}optional` : declared;
        problems.push(
          `${pkg.name} has the ${optional ? 'optional ' : ''}peer ${name} ${range}: the custos package must declare it so, as a dependency or ${optional ? 'an optional' : 'a'} peer (it has ${has ?? 'none'})`,
        );
      }
    }
  }
  return problems;
}

/**
 * The bundle's `inputs` (absolute paths) that lie in another copy of a bundled package than the
 * one at its `root` (where the bundle's freshness check finds it): a copy nested in the
 * `node_modules` of a package that pins another version. Its code would run from the bundle
 * unchecked. One line per file.
 *
 * @example
 * ```ts
 * otherCopies(['/app/node_modules/a/node_modules/kysely/x.js'], [{ name: 'kysely', root: '/app/node_modules/kysely' }]);
 * // → ['/app/node_modules/a/node_modules/kysely/x.js is another copy of kysely than /app/node_modules/kysely']
 * ```
 */
export function otherCopies(
  inputs: readonly string[],
  roots: ReadonlyArray<{ readonly name: string; readonly root: string }>,
  separator = '/',
): string[] {
  const problems: string[] = [];
  for (const file of inputs) {
    const other = roots.find(
      ({ name, root }) =>
        file.includes(
          `${separator}node_modules${separator}${name.split('/').join(separator)}${separator}`,
        ) && !file.startsWith(`${root}${separator}`),
    );
    if (other !== undefined)
      problems.push(`${file} is another copy of ${other.name} than ${other.root}`);
  }
  return problems;
}
