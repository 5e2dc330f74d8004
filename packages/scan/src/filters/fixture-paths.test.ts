import { describe, expect, it } from 'vitest';
import { isFixturePath } from './fixture-paths.js';

describe('isFixturePath', () => {
  it.each([
    'test/keys.env',
    'src/tests/keys.env',
    'src/__tests__/login.ts',
    'spec/a.rb',
    'specs/a.rb',
    'fixture/a.json',
    'pkg/fixtures/a.json',
    'go/testdata/a.txt',
    'test-data/a.txt',
    'mock/a.ts',
    'mocks/a.ts',
    'src/__mocks__/fs.ts',
    'example/a.env',
    'docs/examples/a.env',
    'sample/a.env',
    'samples/a.env',
    'src\\Tests\\keys.env',
    'src/login.test.ts',
    'src/login.spec.js',
    'src/login_test.tsx',
    'src/login-spec.rb',
    'pkg/app_test.go',
    'test_settings.py',
    'app/test_settings.py',
    'app\\test_settings.py',
    '.env.example',
    'config/app.sample',
    'SRC/LOGIN.TEST.TS',
    'src/login.spec.mp4',
  ])('%s is a fixture', (path) => {
    expect(isFixturePath(path)).toBe(true);
  });

  it.each([
    'src/app.ts',
    'test',
    'src/testing/a.ts',
    'src/contest/a.ts',
    'attest/a.ts',
    'src/latest.ts',
    'src/login.test',
    'src/test.ts',
    'src/logintest.ts',
    'src/app_test.go.bak',
    'test_dir/settings.py',
    'test_dir\\settings.py',
    'src/login.test.ts.bak',
    'test_settings.pyc',
    'app/mytest_settings.py',
    '.env.examples',
    'config/app.samples',
    'src/example.ts',
    'fixtures',
  ])('%s is not a fixture', (path) => {
    expect(isFixturePath(path)).toBe(false);
  });
});
