const FIXTURE_PATH =
  /(?:^|[/\\])(?:tests?|__tests__|spec|specs|fixtures?|testdata|test-data|mocks?|__mocks__|examples?|samples?)(?:[/\\])|[._-](?:test|spec)\.[A-Za-z0-9]+$|_test\.go$|(?:^|[/\\])test_[^/\\]+\.py$|\.example$|\.sample$/i;

/**
 * Whether `path` looks like a test, fixture or example file, whose findings are reported with
 * lower confidence (never dropped: real secrets do end up in tests).
 *
 * @example
 * ```ts
 * isFixturePath('src/__tests__/login.ts'); // true
 * ```
 */
export function isFixturePath(path: string): boolean {
  return FIXTURE_PATH.test(path);
}
