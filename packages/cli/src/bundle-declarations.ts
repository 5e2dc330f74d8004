/** The parts of a package.json that say what a package may import. */
export interface PackageDeclarations {
  readonly name?: string;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly peerDependenciesMeta?: Readonly<Record<string, { readonly optional?: boolean }>>;
}

/**
 * What the CLI's package.json (`cli`) lacks for its bundle (scripts/bundle.mjs) to find, from
 * the CLI's folder, every package the bundled code imports or requires at run time as the
 * package that code came from finds it: each dependency of a `bundled` package (but the
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
    for (const [name, range] of Object.entries(pkg.dependencies ?? {})) {
      if (skip(name)) continue;
      const declared = cli.dependencies?.[name];
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
