/**
 * docs/scanning.md: an uploaded text to scan (`body`), and a git repository as the working
 * directory, with one commit and `origin/main` pointing at it.
 */
import { execFileSync } from 'node:child_process';
import { writeWorkFile } from '../support.js';

export const body = 'DATABASE_URL=postgres://app@db/app\nLOG_LEVEL=info\n';

const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=docs', '-c', 'user.email=docs@example.com', ...args], {
    stdio: 'ignore',
  });
git('init', '-q', '-b', 'main');
await writeWorkFile('README.md', '# app\n', 0o644);
git('add', 'README.md');
git('commit', '-q', '-m', 'first');
git('update-ref', 'refs/remotes/origin/main', 'HEAD');
