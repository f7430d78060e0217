/**
 * Kubernetes resource quantities (`resource.Quantity`) as numbers. The API server returns them in
 * canonical form, which keeps the family of the suffix it was given but not its spelling:
 * `1024Mi` comes back `1Gi`, `0.5` comes back `500m`, `1e3` stays an exponent and `0.0001`
 * becomes `100u`. So a reader must accept every form the grammar allows, not only what Veer writes.
 * Grammar and suffixes: k8s.io/apimachinery pkg/api/resource/quantity.go (the `<quantity>`
 * comment, and suffix.go for `n` and `u`);
 * https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/
 */

const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Ti: 40, Gi: 30, Pi: 50, Ei: 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

// <signedNumber><suffix>; a decimal exponent is an integer (apimachinery parses it with ParseInt).
const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

/**
 * The value of a quantity (`'1Gi'` → 1073741824, `'250m'` → 0.25, `'12e-3'` → 0.012), or
 * undefined when the string is not one (including `1K`: only `k` is kilo, and `1Mb`).
 * Decimal forms go through one `Number('<digits>e<exp>')`, which rounds once, exactly as JS
 * parses a literal; binary suffixes scale by a power of two, which is exact.
 */
export function parseQuantity(value: string): number | undefined {
  const m = QUANTITY.exec(value.trim());
  if (!m) return undefined;
  const [, number, suffix = ''] = m;
  if (suffix in BINARY) return Number(number) * 2 ** BINARY[suffix];
  const exponent = suffix in DECIMAL ? DECIMAL[suffix] : Number(suffix.slice(1));
  const n = Number(`${number}e${exponent}`);
  return Number.isFinite(n) ? n : undefined;
}

/** Bytes for a memory quantity, rounded up like `Quantity.Value()` (`'1500m'` → 2). */
export function quantityBytes(value: string): number | undefined {
  const n = parseQuantity(value);
  return n === undefined ? undefined : Math.ceil(n);
}
