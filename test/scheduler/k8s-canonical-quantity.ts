/**
 * The Kubernetes double's model of the API server's quantity canonicalisation. It lives beside the
 * scheduler tests (not in test/doubles/) only because of where this change could add files; it is
 * part of test/doubles/kubernetes.ts. Independent of adapters/scheduler/k8s-quantity.ts on purpose:
 * the parser is tested against this, so sharing code would let one bug hide the other.
 */
const BIN_STEPS: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const BIN_SUFFIX = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const DEC_EXP: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const DEC_SUFFIX: Record<number, string> = Object.fromEntries(Object.entries(DEC_EXP).map(([k, v]) => [v, k]));

/**
 * apimachinery's canonical form (pkg/api/resource/quantity.go: ParseQuantity rounds up to nano;
 * CanonicalizeBytes keeps the input's format — binary suffix, decimal suffix or exponent — picks
 * the largest exact suffix, and shows binary values below 1024 or with a fraction as decimal).
 * Exact integer arithmetic (BigInt), independent of the driver's parser so each checks the other.
 * Examples from the Quantity docs: 1.5 → 1500m, 1.5Gi → 1536Mi.
 */
export function canonicalQuantity(input: string): string | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/.exec(input);
  if (!m || (!m[2] && !m[3])) return undefined;
  const [, sign, int, frac = '', suffix = ''] = m;
  let n = BigInt((int + frac).replace(/^0+(?=.)/, '') || '0');
  let scale = frac.length; // value = n × 10^-scale
  let format: 'binary' | 'decimal' | 'exponent' = 'decimal';
  if (suffix in BIN_STEPS) {
    n *= 1024n ** BigInt(BIN_STEPS[suffix]);
    format = 'binary';
  } else if (/^[eE]/.test(suffix)) {
    scale -= Number(suffix.slice(1));
    format = 'exponent';
  } else scale -= DEC_EXP[suffix];
  if (scale > 9) {
    const d = 10n ** BigInt(scale - 9);
    n = (n + d - 1n) / d;
    scale = 9;
  }
  if (n === 0n) return '0';
  const minus = sign === '-' ? '-' : '';
  if (format === 'binary') {
    const unit = 10n ** BigInt(Math.max(scale, 0));
    const whole = scale <= 0 ? n * 10n ** BigInt(-scale) : n / unit;
    if ((scale <= 0 || n % unit === 0n) && whole >= 1024n) {
      let step = 0;
      let v = whole;
      while (step < 6 && v % 1024n === 0n) {
        v /= 1024n;
        step++;
      }
      return `${minus}${v}${BIN_SUFFIX[step]}`;
    }
  }
  let exp = -scale;
  while (n % 10n === 0n) {
    n /= 10n;
    exp++;
  }
  while (((exp % 3) + 3) % 3 !== 0) {
    n *= 10n;
    exp--;
  }
  const out = format === 'exponent' ? (exp === 0 ? '' : `e${exp}`) : (DEC_SUFFIX[exp] ?? `e${exp}`);
  return `${minus}${n}${out}`;
}
