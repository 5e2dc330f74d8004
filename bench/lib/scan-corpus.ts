/**
 * Generated corpora for the scanner bench: a labelled set of realistic configuration and source
 * files (true secrets and hard negatives, each line labelled), and a large mixed directory for
 * throughput. Every secret is made at run time; nothing secret-looking is stored.
 */
import { randomInt } from 'node:crypto';
import {
  base64Of,
  checksummedToken,
  hex,
  pemKeys,
  randomString,
  withBadChecksum,
} from '../../packages/scan/test/generate.js';

/** A generated file and the 1-based line ranges that hold a true secret. */
export interface LabelledFile {
  readonly path: string;
  readonly content: string;
  readonly secretLines: ReadonlyArray<readonly [number, number]>;
}

type Line = string | { readonly secret: string };

const pick = <T>(items: readonly T[]): T => items[randomInt(items.length)] as T;
const strongPassword = () => `${randomString(10)}-${randomString(6)}!${randomInt(10)}`;
const keys = pemKeys();

const FILLER: Record<string, readonly (() => string)[]> = {
  env: [
    () => `PORT=${3000 + randomInt(100)}`,
    () => 'LOG_LEVEL=info',
    () => 'NODE_ENV=production',
    () => `FEATURE_${randomString(5).toUpperCase()}=true`,
    () => '# database settings',
  ],
  yaml: [
    () => 'replicas: 3',
    () => '  image: registry.example.com/app:1.4.2',
    () => `  port: ${8000 + randomInt(100)}`,
    () => 'logging:',
    () => '  level: warn',
  ],
  ts: [
    () => `export const timeoutMs = ${randomInt(10_000)};`,
    () => "import { createServer } from 'node:http';",
    () => 'const cache = new Map<string, number>();',
    () => '  return response.json();',
    () => '// retries with exponential backoff',
  ],
  py: [
    () => 'import os',
    () => 'DEBUG = False',
    () => `ALLOWED_HOSTS = ["app.example.com"]`,
    () => 'def handler(event, context):',
    () => '    return {"statusCode": 200}',
  ],
};

const POSITIVES: Record<string, readonly (() => Line)[]> = {
  env: [
    () => ({ secret: `GITHUB_TOKEN=${checksummedToken('ghp_')}` }),
    () => ({ secret: `STRIPE_SECRET_KEY=sk_live_${randomString(24)}` }),
    () => ({ secret: `DATABASE_URL=postgres://app:${randomString(16)}@db.prod.internal:5432/app` }),
    () => ({ secret: `AWS_SECRET_ACCESS_KEY=${base64Of(30)}` }),
    () => ({ secret: `SENDGRID_API_KEY=SG.${randomString(22)}.${randomString(43)}` }),
    () => ({ secret: `JWT_SECRET=${randomString(40)}` }),
    () => ({ secret: `DB_PASSWORD=${strongPassword()}` }),
    () => ({ secret: `NPM_TOKEN=${checksummedToken('npm_')}` }),
    () => ({
      secret: `SLACK_WEBHOOK=https://hooks.slack.com/services/T${randomString(8).toUpperCase()}/B${randomString(8).toUpperCase()}/${randomString(24)}`,
    }),
  ],
  yaml: [
    () => ({ secret: `  password: ${strongPassword()}` }),
    () => ({ secret: `  api_key: "${randomString(32)}"` }),
    () => ({ secret: `  client_secret: ${randomString(3)}8Q~${randomString(34)}` }),
    () => ({ secret: `  redis_url: rediss://default:${randomString(24)}@cache.prod:6380` }),
    () => ({ secret: `  token: glpat-${randomString(20)}` }),
  ],
  ts: [
    () => ({ secret: `const stripe = new Stripe('sk_live_${randomString(24)}');` }),
    () => ({ secret: `const apiKey = '${randomString(32)}';` }),
    () => ({ secret: `  headers: { Authorization: 'Bearer ${checksummedToken('ghp_')}' },` }),
    () => ({
      secret: `const openai = new OpenAI({ apiKey: 'sk-proj-${randomString(40)}T3BlbkFJ${randomString(40)}' });`,
    }),
  ],
  py: [
    () => ({ secret: `SECRET_KEY = "${randomString(50)}"` }),
    () => ({ secret: `ANTHROPIC_API_KEY = "sk-ant-api03-${randomString(93)}AA"` }),
    () => ({
      secret: `conn = psycopg2.connect("postgresql://svc:${randomString(18)}@10.0.4.12/prod")`,
    }),
    () => ({ secret: `aws_secret_access_key = "${base64Of(30)}"` }),
  ],
};

const NEGATIVES: Record<string, readonly (() => string)[]> = {
  env: [
    () => 'API_KEY=your_api_key_here',
    () => 'DB_PASSWORD=changeme',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal reference is the point
    () => 'SESSION_SECRET=${SESSION_SECRET}',
    () => 'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE',
    () => 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    () => `DB_PASSWORD=vault:v1:${base64Of(40)}`,
    () => `API_SECRET=enc:v2:custos:${base64Of(60).replace(/[+/=]/g, 'A')}`,
    () => `REQUEST_ID=${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`,
    () => `GITHUB_TOKEN=${withBadChecksum(checksummedToken('ghp_'))}`,
    () => 'PASSWORD_MIN_LENGTH=12',
    () => 'TOKEN_URL=https://auth.example.com/oauth/token',
  ],
  yaml: [
    () => '  password: "{{ .Values.db.password }}"',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal reference is the point
    () => '  token: ${{ secrets.DEPLOY_TOKEN }}',
    () => `  password_hash: $2b$12$${randomString(53).replace(/[^A-Za-z0-9]/g, 'a')}`,
    () => `  public_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA${randomString(43)} deploy@ci`,
    () => `  digest: sha256:${hex(64)}`,
    () => '  secretKeyRef: DB_PASSWORD_SECRET',
    () => `  commit: ${hex(40)}`,
  ],
  ts: [
    () => 'const apiKey = process.env.API_KEY;',
    () => "const password = await prompt('Password: ');",
    () => `const traceId = '${hex(32)}';`,
    () => `const integrity = 'sha512-${base64Of(64)}';`,
    () => "if (token === '') throw new Error('missing token');",
    () => `const iconData = 'data:image/png;base64,${base64Of(60)}';`,
  ],
  py: [
    () => 'SECRET_KEY = os.environ["SECRET_KEY"]',
    () => 'password = getpass.getpass()',
    () => `checksum = "${hex(64)}"`,
    () => `argon = "$argon2id$v=19$m=65536,t=3,p=4$${base64Of(16)}$${base64Of(32)}"`,
  ],
};

const EXTENSION: Record<string, string> = { env: '.env', yaml: '.yaml', ts: '.ts', py: '.py' };

/** Builds one file of `kind` with `positives` true secrets and `negatives` hard negatives. */
function labelledFile(
  index: number,
  kind: string,
  positives: number,
  negatives: number,
): LabelledFile {
  const lines: Line[] = [];
  for (let i = 0; i < 10 + randomInt(30); i++) lines.push(pick(FILLER[kind] ?? [])());
  const insert = (line: Line) => lines.splice(randomInt(lines.length + 1), 0, line);
  for (let i = 0; i < positives; i++) insert(pick(POSITIVES[kind] ?? [])());
  for (let i = 0; i < negatives; i++) insert(pick(NEGATIVES[kind] ?? [])());
  const text: string[] = [];
  const secretLines: Array<readonly [number, number]> = [];
  for (const line of lines) {
    if (typeof line === 'string') {
      text.push(line);
    } else {
      secretLines.push([text.length + 1, text.length + 1]);
      text.push(line.secret);
    }
  }
  return {
    path: `labelled/${kind}/file-${index}${EXTENSION[kind]}`,
    content: `${text.join('\n')}\n`,
    secretLines,
  };
}

/**
 * The labelled corpus: `count` files across dotenv, YAML, TypeScript and Python, plus private
 * keys (true) and public keys (negative) as files of their own.
 */
export function labelledCorpus(count: number): LabelledFile[] {
  const kinds = Object.keys(FILLER);
  const files: LabelledFile[] = [];
  for (let i = 0; i < count; i++) {
    files.push(labelledFile(i, kinds[i % kinds.length] as string, randomInt(3), 1 + randomInt(4)));
  }
  const pem = keys.pkcs8 as string;
  files.push({
    path: 'labelled/keys/deploy.pem',
    content: pem,
    secretLines: [[1, pem.split('\n').length]],
  });
  files.push({
    path: 'labelled/keys/deploy.pub.pem',
    content: keys.publicKey as string,
    secretLines: [],
  });
  return files;
}
