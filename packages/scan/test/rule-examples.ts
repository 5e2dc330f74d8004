/**
 * Examples of every built-in rule's format, and near misses, made at test time (see
 * generate.ts): the provider-rule tests and the prefilter's property test share them.
 */
import { generateApiKey } from '@custos/core/api-keys';
import type { Confidence } from '../src/rules/rule.js';
import {
  awsAccessKeyId,
  base64Of,
  checksummedToken,
  hex,
  jwt,
  opensshKey,
  pemKeys,
  randomString,
  withBadChecksum,
} from './generate.js';

/** A generated example of one rule's format. */
export interface Case {
  readonly name: string;
  /** A line (or file) holding one secret, and the rule and confidence expected for it. */
  readonly text: () => string;
  readonly rule: string;
  readonly confidence: Confidence;
}

const keys = pemKeys();
const b62 = randomString;
const DIGITS = '0123456789';

/** One example (a line or a file) of every rule's format, with the finding expected for it. */
export const positives: Case[] = [
  {
    name: 'AWS access key id',
    text: () => `aws_access_key_id = ${awsAccessKeyId()}`,
    rule: 'aws-access-key-id',
    confidence: 'medium',
  },
  {
    name: 'AWS secret access key',
    text: () => `aws_secret_access_key = ${base64Of(30)}`,
    rule: 'aws-secret-access-key',
    confidence: 'high',
  },
  {
    name: 'AWS secret in YAML',
    text: () => `SecretAccessKey: "${base64Of(30)}"`,
    rule: 'aws-secret-access-key',
    confidence: 'high',
  },
  {
    name: 'GCP service-account JSON',
    text: () =>
      JSON.stringify(
        {
          type: 'service_account',
          project_id: 'p',
          private_key_id: hex(40),
          private_key: keys.pkcs8,
          client_email: 'a@p.iam.gserviceaccount.com',
        },
        null,
        2,
      ),
    rule: 'gcp-service-account-key',
    confidence: 'high',
  },
  {
    name: 'Google API key',
    text: () => `key: AIza${b62(35)}`,
    rule: 'gcp-api-key',
    confidence: 'medium',
  },
  {
    name: 'Azure storage connection string',
    text: () =>
      `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${base64Of(64)};EndpointSuffix=core.windows.net`,
    rule: 'azure-storage-account-key',
    confidence: 'high',
  },
  {
    name: 'Azure Service Bus key',
    text: () =>
      `Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey=${base64Of(32)}`,
    rule: 'azure-shared-access-key',
    confidence: 'high',
  },
  {
    name: 'Azure client secret',
    text: () => `AZURE_CLIENT_SECRET=${b62(3)}8Q~${b62(34)}`,
    rule: 'azure-client-secret',
    confidence: 'high',
  },
  ...['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'].map((prefix) => ({
    name: `GitHub ${prefix}`,
    text: () => `token: ${checksummedToken(prefix)}`,
    rule: 'github-token',
    confidence: 'high' as const,
  })),
  {
    name: 'GitHub fine-grained',
    text: () => `GH=github_pat_${b62(22)}_${b62(59)}`,
    rule: 'github-fine-grained-token',
    confidence: 'high',
  },
  {
    name: 'GitLab personal token',
    text: () => `GITLAB=glpat-${b62(20)}`,
    rule: 'gitlab-token',
    confidence: 'high',
  },
  {
    name: 'GitLab runner token',
    text: () => `runner: glrt-${b62(20)}`,
    rule: 'gitlab-token',
    confidence: 'high',
  },
  {
    name: 'Bitbucket app password',
    text: () => `BITBUCKET=ATBB${b62(32)}`,
    rule: 'atlassian-token',
    confidence: 'high',
  },
  {
    name: 'npm token',
    text: () => `NPM=${checksummedToken('npm_')}`,
    rule: 'npm-token',
    confidence: 'high',
  },
  {
    name: '.npmrc legacy token',
    text: () =>
      `//registry.npmjs.org/:_authToken=${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`,
    rule: 'npmrc-credential',
    confidence: 'high',
  },
  {
    name: 'PyPI token',
    text: () => `password = pypi-AgEIcHlwaS5vcmc${b62(60)}`,
    rule: 'pypi-token',
    confidence: 'high',
  },
  {
    name: 'Stripe live key',
    text: () => `STRIPE=sk_live_${b62(24)}`,
    rule: 'stripe-secret-key',
    confidence: 'high',
  },
  {
    name: 'Stripe restricted key',
    text: () => `STRIPE=rk_live_${b62(24)}`,
    rule: 'stripe-secret-key',
    confidence: 'high',
  },
  {
    name: 'Stripe test key',
    text: () => `STRIPE=sk_test_${b62(24)}`,
    rule: 'stripe-secret-key',
    confidence: 'low',
  },
  {
    name: 'Slack bot token',
    text: () =>
      // Random digits, not hex with letters mapped to one digit: a run of six equal characters
      // reads as a placeholder, which that mapping produced in a few percent of runs.
      `SLACK=xoxb-${randomString(11, DIGITS)}-${randomString(12, DIGITS)}-${b62(24)}`,
    rule: 'slack-token',
    confidence: 'high',
  },
  {
    name: 'Slack webhook',
    text: () =>
      `url: https://hooks.slack.com/services/T${b62(8).toUpperCase()}/B${b62(8).toUpperCase()}/${b62(24)}`,
    rule: 'slack-webhook-url',
    confidence: 'high',
  },
  {
    name: 'Twilio auth token',
    text: () => `TWILIO_AUTH_TOKEN=${hex(32)}`,
    rule: 'twilio-credential',
    confidence: 'high',
  },
  {
    name: 'Twilio API key SID',
    text: () => `twilio_api_key = SK${hex(32)}`,
    rule: 'twilio-credential',
    confidence: 'medium',
  },
  {
    name: 'SendGrid key',
    text: () => `SENDGRID=SG.${b62(22)}.${b62(43)}`,
    rule: 'sendgrid-api-key',
    confidence: 'high',
  },
  {
    name: 'Mailgun key',
    text: () => `MAILGUN_API_KEY=key-${hex(32)}`,
    rule: 'mailgun-api-key',
    confidence: 'high',
  },
  {
    name: 'OpenAI project key',
    text: () => `OPENAI=sk-proj-${b62(74)}T3BlbkFJ${b62(74)}`,
    rule: 'openai-api-key',
    confidence: 'high',
  },
  {
    name: 'OpenAI legacy key',
    text: () => `OPENAI=sk-${b62(20)}T3BlbkFJ${b62(20)}`,
    rule: 'openai-api-key',
    confidence: 'high',
  },
  {
    name: 'Anthropic key',
    text: () => `ANTHROPIC=sk-ant-api03-${b62(93)}AA`,
    rule: 'anthropic-api-key',
    confidence: 'high',
  },
  {
    name: 'Hugging Face token',
    text: () => `HF_TOKEN=hf_${b62(34)}`,
    rule: 'huggingface-token',
    confidence: 'high',
  },
  {
    name: 'Groq key',
    text: () => `GROQ=gsk_${b62(52)}`,
    rule: 'ai-provider-api-key',
    confidence: 'high',
  },
  {
    name: 'Vault service token',
    text: () => `VAULT_TOKEN=hvs.${b62(24)}`,
    rule: 'vault-token',
    confidence: 'high',
  },
  {
    name: 'Vault batch token',
    text: () => `token: hvb.${b62(90)}`,
    rule: 'vault-token',
    confidence: 'high',
  },
  {
    name: 'Vault legacy token',
    text: () => `export VAULT_TOKEN=s.${b62(24)}`,
    rule: 'vault-legacy-token',
    confidence: 'medium',
  },
  {
    name: 'custos token',
    text: () => `CUSTOS_TOKEN=cst.${b62(32)}`,
    rule: 'custos-token',
    confidence: 'high',
  },
  {
    name: 'custos API key',
    text: () => `ADMIN_API_KEY=${generateApiKey('acme_live').key.reveal()}`,
    rule: 'custos-api-key',
    confidence: 'high',
  },
  { name: 'JWT', text: () => `Authorization: Bearer ${jwt()}`, rule: 'jwt', confidence: 'medium' },
  { name: 'unsigned JWT', text: () => `token = "${jwt('none')}"`, rule: 'jwt', confidence: 'low' },
  ...(['pkcs1', 'pkcs8', 'sec1', 'ed25519'] as const).map((kind) => ({
    name: `PEM ${kind}`,
    text: () => keys[kind] as string,
    rule: 'private-key',
    confidence: 'high' as const,
  })),
  {
    name: 'encrypted PKCS#8',
    text: () => keys.encryptedPkcs8 as string,
    rule: 'private-key',
    confidence: 'low',
  },
  {
    name: 'PEM key in a string',
    text: () => `const key = "${(keys.pkcs8 as string).replace(/\n/g, '\\n')}";`,
    rule: 'private-key',
    confidence: 'high',
  },
  { name: 'OpenSSH key', text: () => opensshKey(), rule: 'private-key', confidence: 'high' },
  {
    name: 'OpenSSH key with passphrase',
    text: () => opensshKey('aes256-ctr'),
    rule: 'private-key',
    confidence: 'low',
  },
  {
    name: 'PostgreSQL URL',
    text: () => `DATABASE_URL=postgresql://app:${b62(16)}@db.internal:5432/app`,
    rule: 'postgresql-uri-password',
    confidence: 'high',
  },
  {
    name: 'MySQL URL',
    text: () => `url: mysql://root:${b62(16)}@mysql.prod:3306/shop`,
    rule: 'mysql-uri-password',
    confidence: 'high',
  },
  {
    name: 'MongoDB SRV URL',
    text: () =>
      `MONGO="mongodb+srv://svc:${b62(16)}@cluster0.abcde.mongodb.net/db?retryWrites=true"`,
    rule: 'mongodb-uri-password',
    confidence: 'high',
  },
  {
    name: 'Redis URL',
    text: () => `REDIS_URL=rediss://default:${b62(24)}@cache.prod:6380`,
    rule: 'redis-uri-password',
    confidence: 'high',
  },
  {
    name: 'AMQP URL',
    text: () => `amqp://worker:${b62(16)}@mq.prod/vhost`,
    rule: 'amqp-uri-password',
    confidence: 'high',
  },
  {
    name: 'SMTP URL',
    text: () => `MAILER=smtps://mailer:${b62(16)}@smtp.prod:465`,
    rule: 'smtp-uri-password',
    confidence: 'high',
  },
  {
    name: 'basic auth URL',
    text: () => `fetch('https://deploy:${b62(16)}@registry.prod/v2/')`,
    rule: 'url-basic-auth',
    confidence: 'medium',
  },
  {
    name: 'PostgreSQL on localhost',
    text: () => `postgres://app:${b62(16)}@localhost/app`,
    rule: 'postgresql-uri-password',
    confidence: 'medium',
  },
  {
    name: '.netrc',
    text: () => `machine api.prod.internal\n  login deploy\n  password ${b62(20)}\n`,
    rule: 'netrc-password',
    confidence: 'high',
  },
  {
    name: 'Docker config.json',
    text: () =>
      JSON.stringify({
        auths: { 'registry.prod': { auth: Buffer.from(`deploy:${b62(20)}`).toString('base64') } },
      }),
    rule: 'docker-config-auth',
    confidence: 'high',
  },
];

/** Look-alikes of the rules' formats that are not live credentials: nothing is reported. */
export const nearMisses: Array<readonly [string, () => string]> = [
  ['GitHub token with a bad checksum', () => `token: ${withBadChecksum(checksummedToken('ghp_'))}`],
  ['npm token with a bad checksum', () => `NPM=${withBadChecksum(checksummedToken('npm_'))}`],
  ['GitHub token one character short', () => `ref = ${checksummedToken('ghp_').slice(0, -1)}`],
  ['GitHub prefix of another product', () => `ref = ghx_${b62(36)}`],
  [
    'custos API key with a bad checksum',
    () => `KEY=${withBadChecksum(generateApiKey('acme').key.reveal())}`,
  ],
  ['AWS documented example key id', () => 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE'],
  [
    'AWS documented example secret',
    () => 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  ],
  ['AWS key id of the wrong alphabet', () => `AKIA${b62(16).toLowerCase()}`],
  ['Stripe publishable key', () => `pk_live_${b62(24)}`],
  ['public key', () => pemKeys().publicKey as string],
  [
    'certificate header only',
    () => '-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----',
  ],
  ['a PEM header quoted in prose', () => 'Files start with "-----BEGIN OPENSSH PRIVATE KEY-----".'],
  ['JWT whose header is not JSON', () => `eyJ${b62(20)}.eyJ${b62(20)}.${b62(20)}`],
  ['URL without a password', () => 'postgres://app@db.internal/app'],
  ['URL with a placeholder password', () => 'postgres://app:<password>@db.internal/app'],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal reference is the point
  ['URL with a reference password', () => 'postgres://app:${DB_PASSWORD}@db.internal/app'],
  ['URL with a masked password', () => 'redis://default:****@cache.prod'],
  ['Docker auth left empty', () => '{"auths":{"r":{"auth":""}}}'],
  ['Mailgun-shaped value without Mailgun', () => `key-${hex(32)}`],
  ['Vault legacy shape without Vault', () => `s.${b62(24)}`],
  ['Slack token placeholder', () => 'SLACK_TOKEN=xoxb-your-token-here'],
];
