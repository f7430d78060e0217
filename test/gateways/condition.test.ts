import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConditionError, parseCondition } from '../../engine/domain/gateways/condition.ts';
import { aclNames, compileCondition, quoteHaproxy } from '../../adapters/gateway-agent/haproxy-acl.ts';

const acl = (src: string) => compileCondition(parseCondition(src)).map((t) => t.map((l) => `${l.negated ? '!' : ''}${l.criterion}`));

test('parses the documented predicates', () => {
  assert.deepEqual(parseCondition('user-agent == Firefox'), { type: 'compare', field: { kind: 'user-agent' }, op: 'equals', value: 'Firefox' });
  assert.deepEqual(parseCondition('host == shop.example.com'), { type: 'compare', field: { kind: 'host' }, op: 'equals', value: 'shop.example.com' });
  assert.deepEqual(parseCondition('has cookie beta'), { type: 'exists', source: 'cookie', name: 'beta' });
  assert.deepEqual(parseCondition('misses header X-Debug'), { type: 'not', operand: { type: 'exists', source: 'header', name: 'X-Debug' } });
  assert.deepEqual(parseCondition('header X-Canary contains yes'), {
    type: 'compare',
    field: { kind: 'header', name: 'X-Canary' },
    op: 'contains',
    value: 'yes',
  });
  assert.deepEqual(parseCondition('cookie group == beta'), { type: 'compare', field: { kind: 'cookie', name: 'group' }, op: 'equals', value: 'beta' });
  assert.deepEqual(parseCondition('path starts with /api'), { type: 'compare', field: { kind: 'path' }, op: 'starts-with', value: '/api' });
  assert.deepEqual(parseCondition('path ends with .json'), { type: 'compare', field: { kind: 'path' }, op: 'ends-with', value: '.json' });
  assert.deepEqual(parseCondition('method != GET'), { type: 'not', operand: { type: 'compare', field: { kind: 'method' }, op: 'equals', value: 'GET' } });
  assert.deepEqual(parseCondition('user-agent==Firefox'), parseCondition('user-agent == Firefox'), 'operators need no spaces');
  assert.deepEqual(parseCondition('HEADER x == "a b \\" c"'), { type: 'compare', field: { kind: 'header', name: 'x' }, op: 'equals', value: 'a b " c' });
});

test('and binds tighter than or; not tighter than and; parentheses group', () => {
  const ast = parseCondition('has cookie a or has cookie b and not has cookie c');
  assert.equal(ast.type, 'or');
  assert.equal(ast.type === 'or' && ast.right.type, 'and');
  const grouped = parseCondition('(has cookie a or has cookie b) and not (has cookie c)');
  assert.equal(grouped.type, 'and');
});

test('errors give the column of the fault', () => {
  const cases: Array<[string, RegExp]> = [
    ['user-agent ==', /^condition: column 14: expected a value after '=='$/],
    ['header X-Canary ==', /column 19: expected a value after '=='/],
    ['host shop.example.com', /column 6: expected '==', '!=', 'contains', 'starts with' or 'ends with' after 'host', got 'shop.example.com'/],
    ['has beta', /column 5: expected 'cookie' or 'header' after 'has', got 'beta'/],
    ['(has cookie a', /column 14: expected '\)' to close the '\(' at column 1/],
    ['has cookie a)', /column 13: unexpected '\)' without a matching '\('/],
    ['has cookie a has cookie b', /column 14: expected 'and', 'or' or the end of the condition, got 'has'/],
    ['colour == red', /column 1: unknown condition 'colour'/],
    ['path starts /api', /column 13: expected 'with' after 'starts'/],
    ['cookie "a b" == c', /column 8: 'a b' is not a valid cookie name/],
    ['header x == "open', /column 13: unterminated string/],
    ['header x == and', /column 13: expected a value after '==' \(quote it to use 'and' as a value\)/],
    ['', /column 1: the condition is empty/],
    ['header x == a\nbackend evil', /column 14: control characters/],
    ['header x == "a\nb"', /column 15: control characters/],
  ];
  for (const [src, re] of cases) {
    assert.throws(
      () => parseCondition(src),
      (err: unknown) => {
        assert.ok(err instanceof ConditionError, `${JSON.stringify(src)} → ConditionError`);
        assert.match(err.message, re, JSON.stringify(src));
        assert.equal(err.code, 'VALIDATION');
        return true;
      },
    );
  }
  assert.throws(() => parseCondition('not '.repeat(40) + 'has cookie a'), /nested too deeply/);
});

test('compiles to HAProxy ACL criteria', () => {
  assert.deepEqual(acl('user-agent == Firefox'), [["req.fhdr(user-agent) -i -m sub -- 'Firefox'"]]);
  assert.deepEqual(acl('host == Shop.example.com'), [["req.hdr(host),field(1,:) -i -m str -- 'Shop.example.com'"]]);
  assert.deepEqual(acl('has cookie beta'), [['req.cook_cnt(beta) gt 0']]);
  assert.deepEqual(acl('misses header X-Debug'), [['!req.hdr_cnt(X-Debug) gt 0']]);
  assert.deepEqual(acl('header X-Canary contains yes'), [["req.fhdr(X-Canary) -m sub -- 'yes'"]]);
  assert.deepEqual(acl('cookie group == beta'), [["req.cook(group) -m str -- 'beta'"]]);
  assert.deepEqual(acl('path starts with /api'), [["path -m beg -- '/api'"]]);
});

test('and/or/not become OR-of-ANDs (HAProxy has no parentheses)', () => {
  assert.deepEqual(acl('(has cookie a or has cookie b) and has cookie c'), [
    ['req.cook_cnt(a) gt 0', 'req.cook_cnt(c) gt 0'],
    ['req.cook_cnt(b) gt 0', 'req.cook_cnt(c) gt 0'],
  ]);
  assert.deepEqual(acl('not (has cookie a or has cookie b)'), [['!req.cook_cnt(a) gt 0', '!req.cook_cnt(b) gt 0']]);
  assert.deepEqual(acl('not (has cookie a and has cookie b)'), [['!req.cook_cnt(a) gt 0'], ['!req.cook_cnt(b) gt 0']]);
  const big = Array.from({ length: 7 }, (_, i) => `(has cookie a${i} or has cookie b${i})`).join(' and ');
  assert.throws(() => compileCondition(parseCondition(big)), /too complex: it expands to more than 64 alternatives/);
});

test('values are quoted so nothing can break out of the ACL', () => {
  assert.equal(quoteHaproxy('plain'), "'plain'");
  assert.equal(quoteHaproxy(`it's`), `'it'"'"'s'`);
  assert.equal(quoteHaproxy('$HOME #x \\ "q"'), `'$HOME #x \\ "q"'`);
  assert.throws(() => quoteHaproxy('a\nb'), /control characters/);
  assert.deepEqual(acl(`header X == "-i"`), [["req.fhdr(X) -m str -- '-i'"]], 'a value that looks like a flag comes after --');
});

test('named ACLs are shared between conditions', () => {
  const a = compileCondition(parseCondition('has cookie a and has cookie b'));
  const b = compileCondition(parseCondition('has cookie b or not has cookie a'));
  const { acls, terms } = aclNames([a, b], 'c_');
  assert.deepEqual(acls, ['acl c_0 req.cook_cnt(a) gt 0', 'acl c_1 req.cook_cnt(b) gt 0']);
  assert.deepEqual(terms, [['c_0 c_1'], ['c_1', '!c_0']]);
});
