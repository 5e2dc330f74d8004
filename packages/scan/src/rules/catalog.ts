import { aiProviderKey, anthropicKey, huggingFaceToken, openaiKey } from './ai.js';
import {
  awsAccessKeyId,
  awsSecretAccessKey,
  azureClientSecret,
  azureSasToken,
  azureSharedAccessKey,
  azureStorageKey,
  gcpApiKey,
  gcpServiceAccountKey,
} from './cloud.js';
import {
  atlassianToken,
  githubClassicToken,
  githubFineGrainedToken,
  gitlabToken,
} from './code-hosting.js';
import { connectionUri } from './connection-uris.js';
import { dockerConfigAuth, netrcPassword } from './credential-files.js';
import { genericAssignment } from './generic-assignment.js';
import { jsonWebToken } from './jwt.js';
import { npmrcCredential, npmToken, pypiToken } from './package-registries.js';
import { pemPrivateKey, puttyPrivateKey } from './private-keys.js';
import type { Rule } from './rule.js';
import {
  mailgunKey,
  sendgridKey,
  slackToken,
  slackWebhook,
  stripeKey,
  stripeWebhookSecret,
  twilioCredential,
} from './saas.js';
import { custosApiKey, custosToken, vaultLegacyToken, vaultToken } from './vault-custos.js';

/**
 * Every built-in rule. Pass a subset (or extra rules of your own) as `rules` to `scanText` and
 * `scanPaths`.
 *
 * @example
 * ```ts
 * import { defaultRules } from '@custos/scan';
 * const ids = defaultRules.map((rule) => rule.id);
 * ```
 */
export const defaultRules: readonly Rule[] = [
  awsAccessKeyId,
  awsSecretAccessKey,
  gcpServiceAccountKey,
  gcpApiKey,
  azureStorageKey,
  azureSharedAccessKey,
  azureClientSecret,
  azureSasToken,
  githubClassicToken,
  githubFineGrainedToken,
  gitlabToken,
  atlassianToken,
  npmToken,
  pypiToken,
  npmrcCredential,
  stripeKey,
  stripeWebhookSecret,
  slackToken,
  slackWebhook,
  twilioCredential,
  sendgridKey,
  mailgunKey,
  openaiKey,
  anthropicKey,
  huggingFaceToken,
  aiProviderKey,
  vaultToken,
  vaultLegacyToken,
  custosToken,
  custosApiKey,
  jsonWebToken,
  pemPrivateKey,
  puttyPrivateKey,
  connectionUri,
  netrcPassword,
  dockerConfigAuth,
  genericAssignment,
];
