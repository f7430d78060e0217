import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { PermissionError } from '../shared/errors.ts';

/**
 * Where a script's request must not go unless a pattern names the host literally: link-local
 * addresses (169.254.0.0/16, fe80::/10) and the cloud metadata services on them or beside
 * them (AWS/GCP/Azure 169.254.169.254, AWS fd00:ec2::254, Alibaba 100.100.100.200, GCP's
 * metadata.google.internal). A request to one of these from inside a VPC hands out the host's
 * credentials (the Capital One breach). Hostnames are resolved and every address checked, so a
 * DNS name pointing at 169.254.169.254 is refused too. Between this lookup and fetch's own one
 * a rebinding DNS server could answer differently; pinning the address would need a custom
 * dispatcher and is left for later (noted in the README).
 */
const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata', 'metadata.goog']);
const METADATA_ADDRESSES = new Set(['169.254.169.254', '100.100.100.200', 'fd00:ec2::254']);

/** An IPv4 address, also IPv4-mapped IPv6 in either spelling (`::ffff:169.254.169.254`, and `::ffff:a9fe:a9fe` as URL normalises it). */
function v4(address: string): number[] | undefined {
  const m = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/i.exec(address);
  if (m) return m.slice(1, 5).map(Number);
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return undefined;
  const [hi, lo] = [parseInt(hex[1], 16), parseInt(hex[2], 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255];
}

/** Why `address` is off limits, or undefined. */
export function restrictedAddress(address: string): string | undefined {
  const a = address.toLowerCase().replace(/^\[|\]$/g, '');
  if (METADATA_ADDRESSES.has(a)) return 'a cloud metadata address';
  const four = v4(a);
  if (four) {
    if (METADATA_ADDRESSES.has(four.join('.'))) return 'a cloud metadata address';
    if (four[0] === 169 && four[1] === 254) return 'a link-local address';
    return undefined;
  }
  if (isIP(a) === 6 && /^fe[89ab][0-9a-f]?:/.test(a)) return 'a link-local address';
  return undefined;
}

export type Resolve = (host: string) => Promise<string[]>;
export const systemResolve: Resolve = async (host) => (await lookup(host, { all: true, verbatim: true })).map((r) => r.address);

/**
 * Refuses `url` when its host is, or resolves to, a restricted address, unless `literalHost`
 * (the allowing pattern's own host, written without `*`) is that very host. Resolution
 * failures are left to fetch, which reports them as the request's error.
 */
export async function assertEgressAllowed(url: URL, literalHost: string | undefined, resolve: Resolve): Promise<void> {
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (literalHost !== undefined && literalHost.replace(/^\[|\]$/g, '') === host) return;
  const refuse = (why: string, address: string): never => {
    throw new PermissionError(
      `ctx.http.fetch: ${url.origin} is ${why}${address !== host ? ` (${host} resolves to ${address})` : ''}; requests there are refused unless a pattern in permissions.http names the host itself, e.g. "${url.protocol}//${url.host}/*"`,
      { url: url.origin, address },
    );
  };
  if (METADATA_HOSTS.has(host)) refuse('a cloud metadata host', host);
  const direct = restrictedAddress(host);
  if (direct) refuse(direct, host);
  if (isIP(host)) return;
  let addresses: string[] = [];
  try {
    addresses = await resolve(host);
  } catch {
    return;
  }
  for (const address of addresses) {
    const why = restrictedAddress(address);
    if (why) refuse(why, address);
  }
}
