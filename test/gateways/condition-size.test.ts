import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileCondition } from '../../adapters/gateway-agent/haproxy-acl.ts';
import { MAX_CONDITION_ALTERNATIVES, parseCondition } from '../../engine/domain/gateways/condition.ts';
import { validateGateway } from '../../engine/domain/gateways/validate.ts';
import { ValidationError } from '../../engine/shared/errors.ts';

/**
 * The domain parser is the only gate for conditions (the engine must not depend on the agent's
 * ACL compiler): whatever it accepts compiles within MAX_CONDITION_ALTERNATIVES terms, and it
 * counts alternatives exactly as the compiler expands them.
 */

const ors = (n: number, tag: string) => `(${Array.from({ length: n }, (_, i) => `has cookie ${tag}${i}`).join(' or ')})`;
const groups = (count: number, width: number) => Array.from({ length: count }, (_, g) => ors(width, `g${g}_`)).join(' and ');

test('the limit is 64, as the compiler used to enforce', () => {
  assert.equal(MAX_CONDITION_ALTERNATIVES, 64);
});

test('a condition at the limit parses and compiles to exactly that many alternatives', () => {
  for (const src of [groups(6, 2), groups(3, 4), groups(2, 8), ors(64, 'a'), groups(1, 64)]) {
    assert.equal(compileCondition(parseCondition(src)).length, 64, src);
  }
});

test('one more alternative is refused by the parser, with the path and no column', () => {
  for (const src of [groups(7, 2), ors(65, 'a'), `${groups(6, 2)} or has cookie z`]) {
    assert.throws(
      () => parseCondition(src, 'routes.v2.condition'),
      (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        assert.equal(
          err.message,
          'routes.v2.condition: condition is too complex: it expands to more than 64 alternatives in HAProxy; simplify the and/or nesting',
        );
        assert.deepEqual((err.details as { issues: unknown[] }).issues, [
          { path: 'routes.v2.condition', message: 'condition is too complex: it expands to more than 64 alternatives in HAProxy; simplify the and/or nesting' },
        ]);
        return true;
      },
      src,
    );
  }
});

test('negation is counted after De Morgan, as the compiler expands it', () => {
  // not (a and b) is (not a or not b): negating an or of 7 ands gives an and of 7 two-way ors, 2^7 alternatives.
  const negatedAnds = `not (${Array.from({ length: 7 }, (_, g) => `(has cookie a${g} and has cookie b${g})`).join(' or ')})`;
  assert.throws(() => parseCondition(negatedAnds), /more than 64 alternatives/);
  const negatedOrs = `not (${groups(7, 2)})`;
  const dnf = compileCondition(parseCondition(negatedOrs));
  assert.equal(dnf.length, 7, 'not of an and of 7 ors becomes an or of 7 ands of 2 negated literals');
  assert.ok(dnf.every((term) => term.length === 2 && term.every((l) => l.negated)));
  const fits = `not (${Array.from({ length: 6 }, (_, g) => `(has cookie a${g} and has cookie b${g})`).join(' or ')})`;
  assert.equal(compileCondition(parseCondition(fits)).length, 64);
});

test('validateGateway refuses a too complex condition at PUT time, naming the route', () => {
  assert.throws(
    () => validateGateway('shop', { port: 8080, routes: { v1: { weight: 100 }, v2: { weight: 0, condition: groups(7, 2) } } }),
    /routes\.v2\.condition: condition is too complex/,
  );
});
