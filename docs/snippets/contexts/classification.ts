/**
 * docs/classification.md: the field cipher of the field-encryption Quick start (`fc`, over a
 * `keyring.json` written in the working directory).
 */
import { readKeyringFile } from '@custos/core/crypto';
import { createFieldCipher } from '@custos/core/fields';
import { type SnippetExports, writeQuickStartKeyring } from '../support.js';

await writeQuickStartKeyring();
export const fc = createFieldCipher({ keyring: await readKeyringFile('keyring.json') });

export async function finish(_snippet: SnippetExports): Promise<void> {}
