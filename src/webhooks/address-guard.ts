import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { BLOCKED_ADDRESS_CODE } from './classify';

/**
 * SSRF guard: only public unicast addresses are reachable unless ALLOW_PRIVATE_NETWORK is set.
 * Loopback, private (RFC 1918), CGNAT, link-local (169.254.169.254), unique-local, multicast,
 * unspecified and reserved ranges are refused; an IPv4-mapped IPv6 address is judged as its IPv4.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return parsed.range() === 'unicast';
}

export function blockedAddressError(host: string, address: string): Error {
  return Object.assign(
    new Error(`blocked: ${host} resolves to ${address}, a non-public address (set ALLOW_PRIVATE_NETWORK=true to allow it)`),
    { code: BLOCKED_ADDRESS_CODE },
  );
}

/** The host of a URL as an IP literal, or undefined for a name. WHATWG URL has already normalised odd IPv4 spellings. */
export function ipLiteral(url: URL): string | undefined {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return isIP(host) ? host : undefined;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net.connect that refuses non-public answers. The socket connects to the address
 * checked here, so a DNS answer that changes between check and connect (rebinding) cannot slip through.
 */
export function guardedLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const blocked = addresses.find((a) => !isPublicAddress(a.address));
    if (blocked) return callback(blockedAddressError(hostname, blocked.address), []);
    if (options.all) return callback(null, addresses);
    const first = addresses[0]!;
    return callback(null, first.address, first.family);
  });
}
