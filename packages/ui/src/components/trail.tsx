import { Breadcrumb, Breadcrumbs, Link } from 'react-aria-components';
import { secretHref } from '../routes.js';

/** Mount and folders as links, the last one the page itself. */
export function Trail({ mount, path }: { readonly mount: string; readonly path: string }) {
  const parts = path.split('/').filter((p) => p !== '');
  const folder = (count: number) => `${parts.slice(0, count).join('/')}${count > 0 ? '/' : ''}`;
  return (
    <Breadcrumbs aria-label="Path">
      <Breadcrumb>
        <Link href="/secrets">Secrets</Link>
      </Breadcrumb>
      <Breadcrumb>
        <Link href={secretHref(mount)}>{mount}</Link>
      </Breadcrumb>
      {parts.map((part, i) => (
        <Breadcrumb key={folder(i + 1)}>
          <Link
            href={
              i === parts.length - 1 && !path.endsWith('/')
                ? secretHref(mount, path)
                : secretHref(mount, folder(i + 1))
            }
          >
            {part}
          </Link>
        </Breadcrumb>
      ))}
    </Breadcrumbs>
  );
}
