import { execFile } from 'node:child_process';
import { lstat, readdir, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { type DotenvLayer, dotenvPrecedence, readDotenvLayers } from './dotenv-files.js';
import { isEncryptedValue } from './env-crypt.js';
import { ENV_KEYS_FILE, modeOfEnvFile } from './env-key.js';
import { readExampleFile } from './example-file.js';
import { inferSchema, secretKindOfName } from './infer.js';
import { urlSecretParts } from './url-secrets.js';
import { checkValue } from './validate.js';

/** What `custos env check` can find. */
export type EnvFileFindingKind =
  /** A name of the example file that the files of a mode do not define. */
  | 'missing-name'
  /** A name an env file defines that the example file does not list. */
  | 'undocumented-name'
  /** A file holding plaintext secrets (or keys) that git does not ignore. */
  | 'not-ignored'
  /** A file holding secrets that other users may read. */
  | 'readable-by-others'
  /** The example file holds what looks like a real secret. */
  | 'secret-in-example'
  /** The key file is a symbolic link, which custos refuses to read keys through. */
  | 'key-file-link';

/** One finding; never holds a value. */
export interface EnvFileFinding {
  readonly file: string;
  readonly kind: EnvFileFindingKind;
  readonly detail: string;
}

/** Options of {@link checkEnvFiles}. */
export interface CheckEnvFilesOptions {
  /** Directory holding the `.env*` files; default the working directory. */
  readonly directory?: string;
  /** The example file; default `.env.example` in the directory. */
  readonly exampleFile?: string;
}

/** What {@link checkEnvFiles} found. */
export interface EnvFilesReport {
  /** The env files checked (not the example). */
  readonly files: readonly string[];
  readonly findings: readonly EnvFileFinding[];
  /**
   * Checks that could not run, said in words: outside a git repository (or without git) the
   * git-ignore check is skipped, and this says so. Never holds a value.
   */
  readonly notices: readonly string[];
}

/**
 * Checks the `.env*` files of a directory (`custos env check`):
 * - the example file and the env files list the same names — for each mode found
 *   (`.env.production`, …), the files that mode loads together define every example name, and
 *   no file defines a name the example does not list;
 * - every file holding plaintext secret values (secret-looking names, and URLs carrying a
 *   password or a webhook secret, not `enc:` encrypted), and the key file, is git-ignored and
 *   not readable by other users;
 * - the example file holds no real-looking secret.
 *
 * When git cannot tell which files it ignores (not a repository, git not installed), that
 * check is skipped and a notice says so; the other checks still run.
 *
 * @example
 * ```ts
 * const { findings, notices } = await checkEnvFiles({ directory: 'backend' });
 * for (const f of findings) console.log(`${f.file}: ${f.detail}`);
 * for (const notice of notices) console.log(`note: ${notice}`);
 * ```
 */
export async function checkEnvFiles(options: CheckEnvFilesOptions = {}): Promise<EnvFilesReport> {
  const directory = resolve(options.directory ?? process.cwd());
  const examplePath = resolve(directory, options.exampleFile ?? '.env.example');
  const entries = await readdir(directory).catch(() => [] as string[]);
  const envNames = entries
    .filter((name) => /^\.env(?:\..+)?$/.test(name))
    .filter((name) => !name.endsWith('.example') && name !== ENV_KEYS_FILE)
    .sort();
  const layers = await readDotenvLayers(envNames, directory);
  const findings: EnvFileFinding[] = [];
  const exampleExists = await stat(examplePath).then(
    (info) => info.isFile(),
    () => false,
  );
  if (exampleExists) {
    const example = await readExampleFile(examplePath);
    findings.push(
      ...compareNames(
        example.map((v) => v.name),
        layers,
        examplePath,
      ),
    );
    findings.push(
      ...realSecretsInExample(
        example,
        examplePath,
        await readDotenvLayers([examplePath], directory),
      ),
    );
  }
  const protectionReport = await protection(layers, directory);
  findings.push(...protectionReport.findings);
  return { files: layers.map((l) => l.path), findings, notices: protectionReport.notices };
}

function compareNames(
  exampleNames: readonly string[],
  layers: readonly DotenvLayer[],
  examplePath: string,
): EnvFileFinding[] {
  const findings: EnvFileFinding[] = [];
  const documented = new Set(exampleNames);
  for (const layer of layers) {
    const extra = Object.keys(layer.values).filter((name) => !documented.has(name));
    if (extra.length > 0) {
      findings.push({
        file: layer.path,
        kind: 'undocumented-name',
        detail: `defines ${extra.join(', ')}, not listed in ${basename(examplePath)}`,
      });
    }
  }
  const byName = new Map(layers.map((l) => [basename(l.path), l]));
  const modes = [
    ...new Set(layers.map((l) => modeOfEnvFile(l.path)).filter((m) => m !== undefined)),
  ];
  const sets = modes.length > 0 ? modes : [undefined];
  for (const mode of sets) {
    const files = mode === undefined ? ['.env', '.env.local'] : dotenvPrecedence(mode);
    const loaded = files.map((f) => byName.get(f)).filter((l) => l !== undefined);
    if (loaded.length === 0) continue;
    const defined = new Set(loaded.flatMap((l) => Object.keys(l.values)));
    const missing = exampleNames.filter((name) => !defined.has(name));
    if (missing.length > 0) {
      findings.push({
        file: (loaded.at(-1) as DotenvLayer).path,
        kind: 'missing-name',
        detail: `${mode === undefined ? 'the env files' : `mode ${mode} (${loaded.map((l) => basename(l.path)).join(' + ')})`} lack ${missing.join(', ')} from ${basename(examplePath)}`,
      });
    }
  }
  return findings;
}

function realSecretsInExample(
  example: readonly { name: string }[],
  examplePath: string,
  parsed: readonly DotenvLayer[],
): EnvFileFinding[] {
  const values = parsed[0]?.values ?? {};
  const schema = inferSchema(example);
  const suspicious = example
    .map((v) => v.name)
    .filter((name) => {
      const value = values[name];
      const rule = schema.rules[name];
      if (!value || rule === undefined || !rule.sensitive || isEncryptedValue(value)) return false;
      // A value that passes every production rule is no placeholder: it looks real.
      return checkValue(name, value, rule, true).errors.length === 0;
    });
  return suspicious.length === 0
    ? []
    : [
        {
          file: examplePath,
          kind: 'secret-in-example',
          detail: `${suspicious.join(', ')} look like real secrets; an example file holds placeholders only`,
        },
      ];
}

async function protection(layers: readonly DotenvLayer[], directory: string) {
  const findings: EnvFileFinding[] = [];
  const notices: string[] = [];
  const keysPath = resolve(directory, ENV_KEYS_FILE);
  const keysInfo = await lstat(keysPath).catch(() => undefined);
  const sensitive: { path: string; mode: number; what: string }[] = [];
  if (keysInfo?.isSymbolicLink()) {
    findings.push({
      file: keysPath,
      kind: 'key-file-link',
      detail:
        'is a symbolic link; custos reads key files only as regular files (decrypting would fail): put the file itself there',
    });
  }
  if (keysInfo?.isFile()) {
    sensitive.push({ path: keysPath, mode: keysInfo.mode & 0o777, what: 'holds the env keys' });
  }
  for (const layer of layers) {
    const plain = Object.entries(layer.values)
      .filter(
        ([name, value]) =>
          value !== '' &&
          !isEncryptedValue(value) &&
          (secretKindOfName(name) !== undefined || urlSecretParts(value) !== undefined),
      )
      .map(([name]) => name);
    if (plain.length > 0) {
      sensitive.push({
        path: layer.path,
        mode: layer.mode,
        what: `holds plaintext secrets (${plain.join(', ')})`,
      });
    }
  }
  const git = await gitIgnored(
    sensitive.map((s) => s.path),
    directory,
  );
  const ignored = 'ignored' in git ? git.ignored : undefined;
  if ('unchecked' in git) {
    const names = sensitive.map((s) => basename(s.path)).join(', ');
    notices.push(
      `could not check that ${names} ${sensitive.length === 1 ? 'is' : 'are'} git-ignored: ${git.unchecked}`,
    );
  }
  for (const file of sensitive) {
    if (ignored !== undefined && !ignored.has(file.path)) {
      findings.push({
        file: file.path,
        kind: 'not-ignored',
        detail: `${file.what} but git does not ignore it: add it to .gitignore${file.path === keysPath ? '' : ', or encrypt it with custos env encrypt'}`,
      });
    }
    if (process.platform !== 'win32' && (file.mode & 0o007) !== 0) {
      findings.push({
        file: file.path,
        kind: 'readable-by-others',
        detail: `${file.what} and other users may read it (mode ${file.mode.toString(8)}): chmod 600 ${basename(file.path)}`,
      });
    }
  }
  return { findings, notices };
}

/**
 * Which of `paths` git ignores (tracked files are never ignored), or why git could not say:
 * not a repository, git not installed, or git failing.
 */
function gitIgnored(
  paths: readonly string[],
  cwd: string,
): Promise<{ ignored: Set<string> } | { unchecked: string }> {
  if (paths.length === 0) return Promise.resolve({ ignored: new Set() });
  return new Promise((done) => {
    execFile('git', ['check-ignore', '--', ...paths], { cwd }, (error, stdout, stderr) => {
      const code = (error as { code?: unknown } | null)?.code;
      if (code === 'ENOENT') return done({ unchecked: 'git is not installed' });
      if (error !== null && code !== 1) {
        return done({
          unchecked: /not a git repository/i.test(stderr)
            ? `${cwd} is not in a git repository`
            : `git check-ignore failed (exit ${String(code)})`,
        });
      }
      done({
        ignored: new Set(
          stdout
            .split('\n')
            .filter((line) => line !== '')
            .map((line) => resolve(cwd, line)),
        ),
      });
    });
  });
}
