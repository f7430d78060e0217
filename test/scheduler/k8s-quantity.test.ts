import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseQuantity, quantityBytes } from '../../adapters/scheduler/k8s-quantity.ts';
import { canonicalQuantity } from './k8s-canonical-quantity.ts';

describe('k8s-quantity: every form of resource.Quantity', () => {
  it('parses binary, decimal, milli/micro/nano and exponent forms', () => {
    const cases: Array<[string, number]> = [
      ['1Ki', 1024],
      ['1Mi', 1024 ** 2],
      ['1Gi', 1024 ** 3],
      ['1.5Gi', 1.5 * 1024 ** 3],
      ['1Ti', 1024 ** 4],
      ['1Pi', 1024 ** 5],
      ['1Ei', 1024 ** 6],
      ['1k', 1e3],
      ['1M', 1e6],
      ['1G', 1e9],
      ['1T', 1e12],
      ['1P', 1e15],
      ['1E', 1e18],
      ['500m', 0.5],
      ['1', 1],
      ['0.5', 0.5],
      ['.5', 0.5],
      ['2.', 2],
      ['+3', 3],
      ['100u', 0.0001],
      ['5n', 5e-9],
      ['1e3', 1000],
      ['1E6', 1e6],
      ['12e-3', 0.012],
      ['1.5e+2', 150],
      ['128974848', 128974848],
    ];
    for (const [s, want] of cases) assert.equal(parseQuantity(s), want, s);
  });

  it('refuses what the grammar does not allow', () => {
    for (const s of ['', 'lots', '1K', '1Mb', '1GiB', 'e3', '1e', '1e1.5', '1 Gi', '0x10', 'Gi']) assert.equal(parseQuantity(s), undefined, s);
  });

  it('memory bytes round up like Quantity.Value()', () => {
    assert.equal(quantityBytes('1500m'), 2);
    assert.equal(quantityBytes('0.1Ki'), 103);
    assert.equal(quantityBytes('1Gi'), 1024 ** 3);
    assert.equal(quantityBytes('nope'), undefined);
  });

  it("the double's canonical form (the API server's) matches the documented examples", () => {
    const cases: Array<[string, string]> = [
      ['1.5', '1500m'],
      ['1.5Gi', '1536Mi'],
      ['1024Mi', '1Gi'],
      ['0.5', '500m'],
      ['1000m', '1'],
      ['0.5Ki', '512'],
      ['1E6', '1e6'],
      ['12e-3', '12e-3'],
      ['0.0001', '100u'],
    ];
    for (const [s, want] of cases) assert.equal(canonicalQuantity(s), want, s);
  });

  it('reads back every canonical form as the same value', () => {
    const inputs = ['1.5', '1.5Gi', '1024Mi', '2048Ki', '0.5Ki', '1e3', '1E6', '12e-3', '0.1', '0.0001', '1500m', '256Mi', '1024Pi', '3000k', '0.25', '7e0'];
    for (const s of inputs) {
      const c = canonicalQuantity(s)!;
      assert.ok(Math.abs(parseQuantity(c)! - parseQuantity(s)!) <= Math.abs(parseQuantity(s)!) * 1e-15, `${s} → ${c}`);
    }
  });
});
