import { describe, expect, it } from 'vitest';
import { classifyContent } from './classify.js';

describe('classifyContent', () => {
  const text = Buffer.from('roles:\n  admin: [read, write]\n');

  it('takes a name for minified only for minified scripts, stylesheets and source maps', () => {
    for (const name of [
      'a.min.js',
      'a.min.mjs',
      'a.min.css',
      'app.js.map',
      'x.css.map',
      'i.d.ts.map',
    ]) {
      expect(classifyContent(name, text), name).toBe('minified');
    }
    // A file that merely ends in .map is data like any other (found by an outside probe).
    for (const name of ['roles.map', 'site.map', 'config/keys.map', 'min.js', 'app.json']) {
      expect(classifyContent(name, text), name).toBeNull();
    }
  });

  it('judges long lines as generated only in scripts, stylesheets and SVG', () => {
    const oneLine = Buffer.from(`{"notes":"${'x'.repeat(6000)}"}`);
    for (const name of ['bundle.js', 'site.css', 'logo.svg']) {
      expect(classifyContent(name, oneLine), name).toBe('minified');
    }
    for (const name of ['config.json', 'page.html', 'app.env', 'notes.txt']) {
      expect(classifyContent(name, oneLine), name).toBeNull();
    }
  });

  it('with scanMinified, skips binary content only', () => {
    const oneLine = Buffer.from(`{"notes":"${'x'.repeat(6000)}"}`);
    const scanMinified = { scanMinified: true };
    expect(classifyContent('a.min.js', text, scanMinified)).toBeNull();
    expect(classifyContent('bundle.js', oneLine, scanMinified)).toBeNull();
    expect(classifyContent('a.min.js', Buffer.from('a\0b'), scanMinified)).toBe('binary');
    expect(classifyContent('a.min.js', text, { scanMinified: false })).toBe('minified');
  });
});
