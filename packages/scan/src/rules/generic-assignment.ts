import type { KeywordMatch } from '../engine/keyword-search.js';
import { assessAssignedValue } from './assigned-values.js';
import { type Candidate, judgedText, type Rule, type RuleContext } from './rule.js';
import { classifySecretName, type SecretNameKind } from './secret-names.js';

/** Words one of which a secret-looking name holds: the rule's keywords. */
const NAME_HINTS = ['pass', 'pwd', 'secret', 'token', 'key', 'credential', 'auth', 'bearer'];
// No hint holds another, so at most one starts at any place, and they end in the order they start.
const NAME_HINT = new RegExp(NAME_HINTS.join('|'), 'gi');
const MAX_NAME = 80;

/** `[A-Za-z0-9_.$-]`, by character code (this loop runs for every hint in every file). */
function isNameChar(code: number): boolean {
  return (
    (code >= 97 && code <= 122) ||
    (code >= 65 && code <= 90) ||
    (code >= 48 && code <= 57) ||
    code === 95 ||
    code === 46 ||
    code === 36 ||
    code === 45
  );
}

/**
 * Whether what follows a name can start an assignment: after at most two closing quotes or
 * brackets and some blanks, one of `= : > ? |`, a line break (Kubernetes `name:`/`value:`
 * pairs) or `value` (.NET appSettings).
 */
function mayAssign(text: string, at: number): boolean {
  let i = at;
  for (let quotes = 0; quotes < 2 && /["'\]]/.test(text[i] ?? ''); quotes++) i++;
  while (text[i] === ' ' || text[i] === '\t') i++;
  const next = text[i];
  return (
    next === '=' ||
    next === ':' ||
    next === '>' ||
    next === '?' ||
    next === '|' ||
    next === '\n' ||
    next === '\r' ||
    next === 'v'
  );
}

// Extensions of programming languages: there an unquoted value is code (an identifier, a call),
// never a literal secret.
const CODE_FILE =
  /\.(?:[cm]?[jt]sx?|py|go|java|kt|kts|scala|cs|rb|php|swift|rs|c|cc|cpp|h|hpp|m|dart|lua|groovy|vue|svelte)$/i;

/**
 * Whether `name` is a programming language's file, where an unquoted value is code: the generic
 * rule reads only quoted ones there. History scans scan a blob once per such class of its paths
 * (`git/syntax-class.ts`): a rule that reads more of the name must be counted there too.
 *
 * @example
 * ```ts
 * isCodePath('src/config.ts'); // true
 * ```
 */
export function isCodePath(name: string): boolean {
  return CODE_FILE.test(name);
}

// What may separate a name from its value: `=`, `:`, `:=`, `=>`, `?=`, `||=`, a TypeScript type
// annotation (`: string =`), XML (`>`), .NET appSettings (`" value="`).
const OPERATOR =
  /["'\]]{0,2}[ \t]*(?::[ \t]*[A-Za-z_][\w<>[\]|., ]*?[ \t]*=(?![=~>])|:=|=>|\?=|\|\|=|=(?![=~])|:(?!:)|>(?=[^<\s])|["']?[ \t]+value[ \t]*=)[ \t]*/;

const KUBERNETES_NAME = /^[ \t]*-?[ \t]*name:[ \t]*["']?$/;
const KUBERNETES_VALUE = /["']?[ \t]*\r?\n[ \t]*value:[ \t]*/;

// Names repeat (a key in every entry of a config file): classify each once per process.
const classified = new Map<string, SecretNameKind | null>();
function classifyCached(name: string): SecretNameKind | null {
  let kind = classified.get(name);
  if (kind === undefined) {
    kind = classifySecretName(name);
    if (classified.size > 50_000) classified.clear();
    classified.set(name, kind);
  }
  return kind;
}

const RULE_IDS: Record<SecretNameKind, string> = {
  password: 'password-assignment',
  'jwt-secret': 'jwt-signing-secret',
  secret: 'secret-assignment',
};

interface AssignedValue {
  readonly start: number;
  readonly end: number;
}

/** Reads the value starting at `at`: a quoted string on one line, or a bare word. */
function readValue(
  text: string,
  at: number,
  bareAllowed: boolean,
  inQuery: boolean,
): AssignedValue | null {
  let q = at;
  if (/[bruBRU@]/.test(text[q] ?? '') && /["'`]/.test(text[q + 1] ?? '')) q++;
  const quote = text[q];
  if (quote === '"' || quote === "'" || quote === '`') {
    for (let i = q + 1; i < text.length && i < q + 1002; i++) {
      const char = text[i];
      if (char === '\n') return null;
      if (char === '\\') {
        i++;
        continue;
      }
      if (char === quote) return skipScheme(text, { start: q + 1, end: i });
    }
    return null;
  }
  if (!bareAllowed || /[!|>&*[{]/.test(quote ?? '')) return null;
  let end = q;
  const stop = inQuery ? /[\s,;&)}\]<"']/ : /[\s,;)}\]<"']/;
  while (end < text.length && end < q + 1000 && !stop.test(text[end] as string)) end++;
  return skipScheme(text, { start: q, end });
}

/** `Bearer x`, `Basic x`, `Token x`: the credential is what follows the scheme. */
function skipScheme(text: string, value: AssignedValue): AssignedValue {
  const scheme = /^(?:Bearer|Basic|Token)[ \t]+/i.exec(text.slice(value.start, value.end));
  if (scheme !== null) return { start: value.start + scheme[0].length, end: value.end };
  const bare = /^(?:Bearer|Basic|Token)$/i.test(text.slice(value.start, value.end));
  if (!bare || text[value.end] !== ' ') return value;
  let end = value.end + 1;
  while (end < text.length && !/[\s,;)}\]<"']/.test(text[end] as string)) end++;
  return { start: value.end + 1, end };
}

interface Hint extends KeywordMatch {
  /** The search goes on from here (past the name the hint is in). */
  resumeAt(offset: number): void;
}

/**
 * The name hints in `text`, left to right, each after where the previous one said to resume:
 * read from the prefilter's matches when it has them, else searched for.
 */
function* hints(text: string, context: RuleContext | undefined): Iterable<Hint> {
  let resume = 0;
  const resumeAt = (offset: number) => {
    resume = offset;
  };
  const known = context?.keywordMatches?.(NAME_HINTS);
  if (known !== undefined) {
    for (const { start, end } of known) {
      if (start >= resume) yield { start, end, resumeAt };
    }
    return;
  }
  const search = new RegExp(NAME_HINT);
  for (let match = search.exec(text); match !== null; match = search.exec(text)) {
    yield { start: match.index, end: match.index + match[0].length, resumeAt };
    search.lastIndex = resume;
  }
}

/**
 * Generic secrets: a strong value assigned to a secret-looking name, in every common syntax
 * (dotenv, shell, YAML, JSON, TOML, INI, properties, XML, JS/TS, Python, Go, Java, C#, Ruby,
 * PHP, Terraform, Kubernetes `env` lists). Reported as `password-assignment`,
 * `jwt-signing-secret` or `secret-assignment`.
 */
export const genericAssignment: Rule = {
  id: 'secret-assignment',
  description:
    'strong value assigned to a secret-looking name (password, secret, token, API key, …) in any common syntax',
  source: 'https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html',
  keywords: NAME_HINTS,
  confidence: 'medium',
  variants: ['password-assignment', 'jwt-signing-secret'],
  priority: 1,
  *find(text: string, context?: RuleContext): Iterable<Candidate> {
    const bareAllowed = !isCodePath(context?.name ?? '');
    const operatorAt = new RegExp(OPERATOR.source, 'y');
    const kubernetesAt = new RegExp(KUBERNETES_VALUE.source, 'y');
    for (const match of hints(text, context)) {
      let start = match.start;
      while (
        start > 0 &&
        match.start - start < MAX_NAME &&
        isNameChar(text.charCodeAt(start - 1))
      ) {
        start--;
      }
      let end = match.end;
      while (end < text.length && end - start < MAX_NAME && isNameChar(text.charCodeAt(end))) end++;
      match.resumeAt(end);
      // Most names in code are not followed by an assignment: look at the next character first.
      if (!mayAssign(text, end)) continue;
      const name = text.slice(start, end).replace(/^[$.-]+|[.-]+$/g, '');
      const kind = classifyCached(name);
      if (kind === null) continue;
      let value: AssignedValue | null = null;
      operatorAt.lastIndex = end;
      const operator = operatorAt.exec(text);
      const xml = operator?.[0].startsWith('>') === true;
      if (operator !== null && (!xml || text[start - 1] === '<')) {
        const inQuery = /[?&;]/.test(text[start - 1] ?? '');
        const bare = bareAllowed || inQuery || xml;
        value = readValue(text, end + operator[0].length, bare, inQuery);
        // An XML element's value ends at its closing tag.
        if (xml && value !== null && !text.startsWith(`</${name}>`, value.end)) value = null;
      } else if (operator === null) {
        const lineStart = text.lastIndexOf('\n', start) + 1;
        kubernetesAt.lastIndex = end;
        const kubernetes = kubernetesAt.exec(text);
        if (kubernetes !== null && KUBERNETES_NAME.test(text.slice(lineStart, start))) {
          value = readValue(text, end + kubernetes[0].length, true, false);
        }
      }
      if (value === null || value.end <= value.start) continue;
      const confidence = assessAssignedValue(
        judgedText(text, value.start, value.end, context),
        kind,
      );
      if (confidence !== null) {
        yield { start: value.start, end: value.end, confidence, ruleId: RULE_IDS[kind] };
      }
    }
  },
};
