import assert from 'node:assert/strict';
import { test } from 'node:test';
import { globMatches } from '../../engine/domain/glob.ts';

test('permission globs: * is any run, ? one character, everything else literal', () => {
  const cases: Array<[string, string, boolean]> = [
    ['shop-*', 'shop-eu', true],
    ['shop-*', 'shop-', true],
    ['shop-*', 'shop', false],
    ['*', '', true],
    ['*', 'anything', true],
    ['', '', true],
    ['', 'x', false],
    ['s?op', 'shop', true],
    ['s?op', 'sop', false],
    ['*-canary', 'shop-canary', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXbY', false],
    ['shop.*', 'shopx1', false],
    ['shop.*', 'shop.eu', true],
    ['[a]', '[a]', true],
    ['(x|y)', 'x', false],
    ['**', 'ab', true],
  ];
  for (const [pattern, name, want] of cases) assert.equal(globMatches(pattern, name), want, `${pattern} vs ${name}`);
});

test('a pattern built to make a backtracking RegExp explode still answers at once', () => {
  // With `^a.*a.*…b$` as a RegExp this takes exponential time; the matcher's work is bounded by pattern × name.
  const pattern = 'a*'.repeat(40) + 'b';
  const name = 'a'.repeat(5000);
  assert.equal(globMatches(pattern, name), false);
  assert.equal(globMatches(pattern, name + 'b'), true);
});
