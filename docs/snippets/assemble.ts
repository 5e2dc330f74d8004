/**
 * Turns a documentation snippet into a module that type-checks and runs: the snippet as
 * written, preceded by an import of the names its document's context module provides (the
 * application's own objects: a Redis client, a database, a logged-in user…) and followed by
 * the context's `finish(exports)`, which checks what the snippet set up (a route answers, an
 * exported route handler serves a request) and closes the context's connections.
 *
 * A context lives in `contexts/<doc>.ts` (`docs/tokens.md` → `contexts/tokens.ts`,
 * `docs/recipes/express.md` → `contexts/recipes/express.ts`, `packages/reencrypt/README.md` →
 * `contexts/packages/reencrypt.ts`). A snippet gets every name the context exports except those
 * it declares itself, so it may redefine any of them.
 */
import ts from 'typescript';

/** The context module's file (relative to `contexts/`, without extension) of a document. */
export function contextNameOf(doc: string): string {
  const readme = /^packages\/([^/]+)\/README\.md$/.exec(doc);
  if (readme) return `packages/${readme[1]}`;
  if (doc === 'README.md') return 'readme';
  return doc.replace(/^docs\//, '').replace(/\.md$/, '');
}

/** What a context module exports, split into values and types. */
export interface ContextExports {
  readonly values: readonly string[];
  readonly types: readonly string[];
}

/** The exports of a context module's source (`export const|function|class|type|interface`). */
export function contextExports(source: string): ContextExports {
  const file = ts.createSourceFile('context.ts', source, ts.ScriptTarget.Latest, true);
  const values: string[] = [];
  const types: string[] = [];
  for (const statement of file.statements) {
    const exported = ts
      .getModifiers(statement as ts.HasModifiers)
      ?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    if (!exported) continue;
    if (ts.isVariableStatement(statement)) {
      for (const d of statement.declarationList.declarations) values.push(...bindingNames(d.name));
    } else if (
      (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) &&
      statement.name
    ) {
      values.push(statement.name.text);
    } else if (ts.isTypeAliasDeclaration(statement) || ts.isInterfaceDeclaration(statement)) {
      types.push(statement.name.text);
    }
  }
  return { values, types };
}

/** Every name a snippet declares at its top level (imports included). */
export function declaredNames(code: string): Set<string> {
  const file = ts.createSourceFile('snippet.ts', code, ts.ScriptTarget.Latest, true);
  const names = new Set<string>();
  for (const statement of file.statements) {
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      if (clause?.name) names.add(clause.name.text);
      const bindings = clause?.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) names.add(bindings.name.text);
      if (bindings && ts.isNamedImports(bindings))
        for (const e of bindings.elements) names.add(e.name.text);
    } else if (ts.isVariableStatement(statement)) {
      for (const d of statement.declarationList.declarations)
        for (const n of bindingNames(d.name)) names.add(n);
    } else if (
      (ts.isFunctionDeclaration(statement) ||
        ts.isClassDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) ||
        ts.isInterfaceDeclaration(statement) ||
        ts.isEnumDeclaration(statement)) &&
      statement.name
    ) {
      names.add(statement.name.text);
    }
  }
  return names;
}

/** The values a snippet exports (`export const|function|class`), handed to `finish()`. */
export function exportedValueNames(code: string): string[] {
  const file = ts.createSourceFile('snippet.ts', code, ts.ScriptTarget.Latest, true);
  const names: string[] = [];
  for (const statement of file.statements) {
    const exported = ts
      .getModifiers(statement as ts.HasModifiers)
      ?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    if (!exported) continue;
    if (ts.isVariableStatement(statement))
      for (const d of statement.declarationList.declarations) names.push(...bindingNames(d.name));
    else if (
      (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) &&
      statement.name
    )
      names.push(statement.name.text);
  }
  return names;
}

function bindingNames(name: ts.BindingName): string[] {
  if (ts.isIdentifier(name)) return [name.text];
  return name.elements.flatMap((e) => (ts.isOmittedExpression(e) ? [] : bindingNames(e.name)));
}

/** The name under which the context's closing function is imported. */
const FINISH = '__finishDocContext';

/**
 * The module text for one snippet: the context import (when the document has a context), the
 * snippet, and the context's `finish()`.
 */
export function assembleSnippet(
  code: string,
  context: { readonly importPath: string; readonly exports: ContextExports } | undefined,
): string {
  if (!context) return `${code}\n\nexport {};\n`;
  const declared = declaredNames(code);
  const values = context.exports.values.filter((n) => n !== 'finish' && !declared.has(n));
  const types = context.exports.types.filter((n) => !declared.has(n));
  const hasFinish = context.exports.values.includes('finish');
  const specifiers = [
    ...values,
    ...types.map((t) => `type ${t}`),
    ...(hasFinish ? [`finish as ${FINISH}`] : []),
  ];
  // The bare import keeps the context even where the snippet uses none of its names (a
  // compiler drops an import whose names are unused, and the context sets up files and
  // variables the snippet reads).
  const head = [
    `import '${context.importPath}';`,
    ...(specifiers.length === 0
      ? []
      : [`import { ${specifiers.join(', ')} } from '${context.importPath}';`]),
  ].join('\n');
  const tail = hasFinish ? `\nawait ${FINISH}({ ${exportedValueNames(code).join(', ')} });\n` : '';
  return `${head}\n// ---- the snippet, as the document has it ----\n${code}\n// ---- end ----\n${tail}\nexport {};\n`;
}
