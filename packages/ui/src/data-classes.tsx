import { DATA_CLASSES } from './server-lists.js';

export { DATA_CLASSES };

export type DataClass = (typeof DATA_CLASSES)[number];

/** The class named by an address's `?class=` (any case, as the server reads it), or undefined. */
export function dataClassOfQuery(search: string): DataClass | undefined {
  const given = new URLSearchParams(search).get('class');
  if (given === null) return undefined;
  return DATA_CLASSES.find((c) => c.toLowerCase() === given.toLowerCase());
}

/** A secret's class badge: the class as stored (the server stores it canonically spelled). */
export function ClassBadge({ dataClass }: { readonly dataClass: string }) {
  return (
    <span className="badge badge-class">
      <span className="visually-hidden">data class </span>
      {dataClass}
    </span>
  );
}
