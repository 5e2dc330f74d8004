/**
 * docs/recipes/nestjs.md: the keyset file, Redis and port the recipe reads from the
 * environment, and its `findUserByEmail`. After the recipe has started its server, the HTTP
 * checks of `recipes-http.ts` run against it; the process then exits, since the recipe's
 * server is meant to run forever.
 */
import { checkRecipeServer, prepareRecipeEnvironment, userDirectory } from '../../recipes-http.js';
import type { SnippetExports } from '../../support.js';

const { baseUrl } = await prepareRecipeEnvironment();
export const findUserByEmail = userDirectory();

export async function finish(_snippet: SnippetExports): Promise<void> {
  await checkRecipeServer(baseUrl);
  process.exit(0);
}
