import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValidationError } from '../../engine/shared/errors.ts';
import { validateGateway } from '../../engine/domain/gateways/validate.ts';
import { describeWeightChange, normaliseWeights } from '../../engine/domain/gateways/weights.ts';

test('explicit weights summing to 100 or all 0 are kept', () => {
  assert.deepEqual(
    normaliseWeights([
      ['a', 90],
      ['b', 10],
    ]),
    { a: 90, b: 10 },
  );
  assert.deepEqual(
    normaliseWeights([
      ['a', 0],
      ['b', 0],
    ]),
    { a: 0, b: 0 },
  );
});

test('missing weights share the rest evenly, remainder to the first routes', () => {
  assert.deepEqual(
    normaliseWeights([
      ['a', undefined],
      ['b', undefined],
      ['c', undefined],
    ]),
    { a: 34, b: 33, c: 33 },
  );
  assert.deepEqual(
    normaliseWeights([
      ['a', 50],
      ['b', undefined],
      ['c', undefined],
      ['d', undefined],
    ]),
    { a: 50, b: 17, c: 17, d: 16 },
  );
  assert.deepEqual(
    normaliseWeights([
      ['a', 100],
      ['b', undefined],
    ]),
    { a: 100, b: 0 },
    'a new route next to a full one gets 0%',
  );
});

test('a wrong sum is a ValidationError saying what the sum was', () => {
  assert.throws(
    () =>
      normaliseWeights([
        ['a', 60],
        ['b', 30],
      ]),
    (err: unknown) => {
      assert.ok(err instanceof ValidationError);
      assert.match(err.message, /add up to 100 \(or all be 0\), but they add up to 90 \(a 60 \+ b 30\)/);
      return true;
    },
  );
  assert.throws(
    () =>
      normaliseWeights([
        ['a', 80],
        ['b', 30],
        ['c', undefined],
      ]),
    /already add up to 110 .* before filling in c/,
  );
  assert.throws(() => normaliseWeights([['a', 101]]), /whole percentage between 0 and 100, got 101/);
  assert.throws(
    () =>
      normaliseWeights([
        ['a', 2.5],
        ['b', 97.5],
      ]),
    /routes\.a\.weight: must be a whole percentage/,
  );
  assert.throws(() => normaliseWeights([]), /at least one route/);
});

test('validateGateway normalises weights and condition strength', () => {
  const g = validateGateway('shop', {
    port: 8080,
    routes: {
      v1: { targets: [{ host: '127.0.0.1', port: 9001 }] },
      v2: { condition: 'header X-Canary == yes', targets: [{ host: '127.0.0.1', port: 9002 }] },
    },
  });
  assert.equal(g.mode, 'http');
  assert.equal(g.sticky, 'none');
  assert.deepEqual({ v1: g.routes.v1.weight, v2: g.routes.v2.weight }, { v1: 50, v2: 50 });
  assert.equal(g.routes.v2.conditionStrength, 100);
  assert.equal(g.routes.v1.conditionStrength, 0);
});

test('validateGateway rejects what HAProxy could not serve, naming the field', () => {
  const base = { port: 8080, routes: { v1: { targets: [] } } };
  assert.throws(() => validateGateway('Shop', base), /name: must be 1-63 lowercase/);
  assert.throws(() => validateGateway('shop', { ...base, port: 70000 }), /port:/);
  assert.throws(() => validateGateway('shop', { ...base, routes: {} }), /at least one route/);
  assert.throws(() => validateGateway('shop', { port: 8080, routes: { 'v 1': {} } }), /route names must be/);
  assert.throws(() => validateGateway('shop', { port: 8080, routes: { v1: { targets: [{ host: 'a b', port: 1 }] } } }), /host name/);
  assert.throws(() => validateGateway('shop', { port: 8080, mode: 'tcp', sticky: 'route', routes: { v1: {} } }), /sticky: .*need mode 'http'/);
  assert.throws(
    () => validateGateway('shop', { port: 8080, mode: 'tcp', routes: { v1: { condition: 'has cookie a' } } }),
    /routes\.v1\.condition: conditions inspect HTTP/,
  );
  assert.throws(() => validateGateway('shop', { port: 8080, routes: { v1: { conditionStrength: 50 } } }), /needs a condition/);
  assert.throws(
    () => validateGateway('shop', { port: 8080, routes: { v1: { condition: 'header X ==' } } }),
    /routes\.v1\.condition: column 12: expected a value after '=='/,
  );
  assert.throws(() => validateGateway('shop', { port: 8080, routes: { v1: {} }, extra: 1 }), /Unrecognized key/);
});

test('deployment targets are accepted as a shape', () => {
  const g = validateGateway('shop', { port: 8080, routes: { v2: { targets: { deployment: 'shop-v2', port: 'http' } } } });
  assert.deepEqual(g.routes.v2.targets, { deployment: 'shop-v2', port: 'http' });
});

test('describeWeightChange lists only changed routes', () => {
  assert.equal(describeWeightChange({ a: 90, b: 10, c: 0 }, { a: 80, b: 20, c: 0 }), 'a 90 → 80, b 10 → 20');
  assert.equal(describeWeightChange({ a: 100 }, { a: 100 }), 'unchanged');
});
