import { readdir } from 'node:fs/promises';

/**
 * The security-critical modules whose tests are measured by mutation testing. Paths are globs
 * relative to the repository root; tests are not mutated.
 */
export interface MutationModule {
  /** What the module is, in the report. */
  readonly title: string;
  /**
   * Files to mutate. The tests that run against a mutant are those vitest relates to its file
   * (`vitest related`): the tests that import it, directly or not, within its package.
   */
  readonly mutate: readonly string[];
  /**
   * Where the tests that measure the module are looked for, when not the whole
   * repository: the related tests there only. Server modules are imported by every server test;
   * running all of them against each mutant would take many hours on two cores, so these are
   * measured by the tests beside their code (which include their HTTP-level tests). The crypto
   * and field modules likewise: the library imports them almost everywhere, so its whole suite
   * is related, including tests that cannot run in Stryker's sandbox and worker threads (a
   * SoftHSM2 token set up through the environment, a child process run as another user).
   */
  readonly testDir?: string | readonly string[];
  /**
   * Skip static mutants (code run when modules load or in `beforeAll` hooks, such as starting a
   * server): each would need every test of the module run against it. The report lists how many
   * were skipped; they count in no score. (Test files always run isolated: see
   * bench/mutation/vitest.config.ts for why sharing loaded modules was dropped.)
   */
  readonly ignoreStatic?: boolean;
  /**
   * The TypeScript checker's configuration, when not the whole repository's
   * (tsconfig.check.json): a module whose package others import is checked far faster against
   * its own package alone. A mutant that compiles there but would break a type elsewhere is
   * then run against the tests (vitest does not check types) instead of counted a compile error.
   */
  readonly checkerTsconfig?: string;
}

/**
 * The files a `mutate` list names: paths named one by one, and the files of `dir/*.ext`
 * patterns (one folder, no deeper), less those whose name an exclusion (`!**\/<name glob>`)
 * matches. Other glob forms are refused: Stryker would read them, this would not.
 *
 * @example
 * ```ts
 * await moduleFiles(['packages/scan/src/engine/*.ts', '!**\/*.test.ts'], root);
 * ```
 */
export async function moduleFiles(paths: readonly string[], root: URL): Promise<string[]> {
  const nameGlob = (glob: string) =>
    new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
  const excluded = paths
    .filter((path) => path.startsWith('!'))
    .map((path) => {
      if (!path.startsWith('!**/') || path.slice(4).includes('/'))
        throw new Error(`mutation: an exclusion must be !**/<file name glob>, not ${path}`);
      return nameGlob(path.slice(4));
    });
  const files: string[] = [];
  for (const path of paths.filter((p) => !p.startsWith('!'))) {
    if (!path.includes('*')) {
      files.push(path);
      continue;
    }
    const at = path.lastIndexOf('/');
    const [dir, glob] = [path.slice(0, at), path.slice(at + 1)];
    if (dir.includes('*') || !glob.startsWith('*'))
      throw new Error(`mutation: a pattern must be <folder>/*<suffix>, not ${path}`);
    const names = await readdir(new URL(`${dir}/`, root), { withFileTypes: true });
    for (const entry of names) {
      if (entry.isFile() && nameGlob(glob).test(entry.name)) files.push(`${dir}/${entry.name}`);
    }
  }
  return files
    .filter((file) => !excluded.some((glob) => glob.test(file.slice(file.lastIndexOf('/') + 1))))
    .sort();
}

/** The files of a `mutate` list named one by one (not globs, not exclusions). */
export function namedFiles(paths: readonly string[]): string[] {
  return paths.filter((path) => !path.startsWith('!') && !path.includes('*'));
}

const NOT_TESTS = ['!**/*.test.ts', '!**/test-*.ts', '!**/*.fixture.ts'];

export const MUTATION_MODULES: Readonly<Record<string, MutationModule>> = {
  admission: {
    title: 'Admission and ACL (boundary, API path, policies)',
    mutate: [
      'packages/server/src/http/boundary.ts',
      'packages/server/src/http/api-path.ts',
      'packages/server/src/http/route-access.ts',
      'packages/server/src/policy/acl.ts',
      'packages/server/src/policy/policy-parse.ts',
    ],
    testDir: ['packages/server/src/http', 'packages/server/src/policy'],
    ignoreStatic: true,
  },
  tokens: {
    title: 'Token store (lifetimes, trees, revocation)',
    mutate: [
      'packages/server/src/auth/token-store.ts',
      'packages/server/src/auth/token-lifetime.ts',
      'packages/server/src/auth/token-entry.ts',
    ],
    testDir: 'packages/server/src/auth',
    ignoreStatic: true,
  },
  seal: {
    title: 'Seal (Shamir root key, phases, stored keyring, rekey, root generation)',
    // The seal's own logic. The providers that wrap the root key (cloud KMS, PKCS#11, transit)
    // are adapters to outside services, measured by their own tests, not here; their interface
    // (root-key-wrapper.ts) declares types only, which hold nothing a mutant could change.
    mutate: [
      'packages/server/src/seal/seal-manager.ts',
      'packages/server/src/seal/root-key.ts',
      'packages/server/src/seal/share-quorum.ts',
      'packages/server/src/seal/stored-keyring.ts',
      'packages/server/src/seal/operation-attempt.ts',
      'packages/server/src/seal/rekey.ts',
      'packages/server/src/seal/generate-root.ts',
      'packages/server/src/seal/root-token-otp.ts',
    ],
    testDir: 'packages/server/src/seal',
    ignoreStatic: true,
  },
  barrier: {
    title: 'Barrier',
    mutate: ['packages/server/src/barrier/*.ts', ...NOT_TESTS],
    testDir: 'packages/server/src/barrier',
    ignoreStatic: true,
  },
  audit: {
    title: 'Audit chain, continuity and verification',
    mutate: [
      'packages/server/src/audit/audit-chain.ts',
      'packages/server/src/audit/audit-verify.ts',
      'packages/server/src/audit/audit-continuity.ts',
      'packages/server/src/audit/audit-line.ts',
      'packages/server/src/audit/hmac-values.ts',
    ],
    testDir: 'packages/server/src/audit',
    ignoreStatic: true,
  },
  crypto: {
    title: 'Crypto envelope and keyring',
    mutate: [
      'packages/core/src/crypto/envelope.ts',
      'packages/core/src/crypto/keyring.ts',
      'packages/core/src/crypto/keyring-json.ts',
      'packages/core/src/crypto/aead.ts',
      'packages/core/src/crypto/associated-data.ts',
    ],
    testDir: 'packages/core/src/crypto',
    ignoreStatic: true,
  },
  fields: {
    title: 'Field cipher',
    mutate: [
      'packages/core/src/fields/field-cipher.ts',
      'packages/core/src/fields/keyring-field-cipher.ts',
      'packages/core/src/fields/kms-field-cipher.ts',
      'packages/core/src/fields/field-aad.ts',
      'packages/core/src/fields/blind-index.ts',
    ],
    testDir: 'packages/core/src/fields',
  },
  scanner: {
    title: 'Scanner core (matching, filters, checksums, allowlists)',
    mutate: [
      'packages/scan/src/engine/*.ts',
      'packages/scan/src/filters/*.ts',
      'packages/scan/src/rules/checksums.ts',
      'packages/scan/src/rules/generic-assignment.ts',
      'packages/scan/src/policy/*.ts',
      ...NOT_TESTS,
    ],
    // Not packages/scan/test: those tests scan in worker threads, where no mutant is active
    // (Stryker switches mutants in the test's own thread), and build git histories of hundreds
    // of processes per run.
    testDir: 'packages/scan/src',
    checkerTsconfig: 'bench/mutation/tsconfig.scanner.json',
  },
  rotation: {
    title: 'Rotation engine (steps, drive, policy, schedule)',
    mutate: [
      'packages/server/src/rotation/rotation-engine.ts',
      'packages/server/src/rotation/rotation-engine-parts.ts',
      'packages/server/src/rotation/rotation-steps.ts',
      'packages/server/src/rotation/rotation-drive.ts',
      'packages/server/src/rotation/rotation-policy.ts',
      'packages/server/src/rotation/rotation-schedule.ts',
    ],
    testDir: 'packages/server/src/rotation',
    ignoreStatic: true,
  },
  'api-keys': {
    title: 'API keys',
    mutate: ['packages/core/src/api-keys/*.ts', ...NOT_TESTS],
    testDir: 'packages/core/src/api-keys',
  },
};
