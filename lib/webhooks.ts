import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net, { BlockList, type LookupFunction } from 'node:net';

// Webhook signatures and where deliveries may go: one module for the worker that signs and
// sends, the web that registers endpoints, and the receivers' verification in the README.

export const SIGNATURE_HEADER = 'Hook-Signature';
/** A receiver refuses a signature older than this: a captured delivery cannot be replayed later. */
export const SIGNATURE_TOLERANCE_SECONDS = 5 * 60;

export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the endpoint's secret>`. */
export function signWebhook(secret: string, body: string, timestampSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${mac}`;
}

/** What a receiver does with a delivery: the signature matches the body and is recent. */
export function verifyWebhook(secret: string, body: string, header: string | null | undefined, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
  const parts = new Map((header ?? '').split(',').map((part) => part.split('=', 2) as [string, string]));
  const timestamp = Number(parts.get('t'));
  const given = Buffer.from(parts.get('v1') ?? '', 'hex');
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > SIGNATURE_TOLERANCE_SECONDS) return false;
  const expected = Buffer.from(signWebhook(secret, body, timestamp).split('v1=')[1]!, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * A URL an admin may register: https (http only where private targets are allowed, for local
 * development), no credentials in it, at most 2,000 characters. Returns why not, or undefined.
 */
export function webhookUrlProblem(text: string, { allowPrivate }: { allowPrivate: boolean }): string | undefined {
  if (text.length > 2_000) return 'The URL is longer than 2,000 characters.';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'Enter a full URL, such as https://hooks.example.com/hook.';
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) return 'Webhook URLs must start with https://.';
  if (url.username || url.password) return 'Leave credentials out of the URL; deliveries are signed instead.';
  if (!allowPrivate && (isPrivateAddress(url.hostname.replace(/^\[|\]$/g, '')) || /^localhost$|\.localhost$|\.internal$/i.test(url.hostname))) {
    return 'Webhook URLs must reach the public internet, not a private or local address.';
  }
  return undefined;
}

/**
 * Where deliveries never go: loopback, private, link-local (cloud metadata), carrier-grade NAT,
 * IETF-reserved, benchmarking, multicast and reserved IPv4; and in IPv6 the unspecified, loopback
 * and IPv4-compatible addresses, NAT64 (which reaches IPv4 behind it), discard, unique-local,
 * link-local and multicast. An IPv4-mapped IPv6 address (`::ffff:7f00:1`, the form a URL gives
 * `[::ffff:127.0.0.1]`) is checked by the IPv4 rules.
 */
const PRIVATE = new BlockList();
for (const [prefix, bits] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 3]] as const) PRIVATE.addSubnet(prefix, bits, 'ipv4');
for (const [prefix, bits] of [['::', 96], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) PRIVATE.addSubnet(prefix, bits, 'ipv6');

/** Whether a literal IP address is one deliveries never go to (see PRIVATE). */
export function isPrivateAddress(address: string): boolean {
  const plain = address.replace(/%.*$/, ''); // fe80::1%eth0: the zone says which interface, not where
  if (net.isIPv4(plain)) return PRIVATE.check(plain, 'ipv4');
  if (net.isIPv6(plain)) return PRIVATE.check(plain, 'ipv6');
  return false;
}

/** How a name resolves: `dns.lookup`'s shape, so tests can stand in for DNS. */
export type Resolver = LookupFunction;

/** A resolver's addresses for a name, all of them. */
function resolveAll(resolver: Resolver, host: string): Promise<dns.LookupAddress[]> {
  return new Promise((resolve) => {
    resolver(host, { all: true }, (error, addresses) => resolve(error || !Array.isArray(addresses) ? [] : addresses));
  });
}

/** Why a delivery to this host is refused; the connection's look-up fails with it as a `PRIVATE_TARGET` error. */
const privateTargetProblem = (host: string) => `${host} resolves to a private or local address`;
const PRIVATE_TARGET = 'HOOK_PRIVATE_TARGET';

/**
 * Checked again by the worker right before each delivery, on the addresses the name resolves to
 * now: a name registered while public that later points inside the network is refused then.
 */
export async function deliveryTargetProblem(url: string, { allowPrivate, resolver = dns.lookup }: { allowPrivate: boolean; resolver?: Resolver }): Promise<string | undefined> {
  const problem = webhookUrlProblem(url, { allowPrivate });
  if (problem || allowPrivate) return problem;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const addresses = net.isIP(host) ? [{ address: host }] : await resolveAll(resolver, host);
  if (addresses.length === 0) return `${host} does not resolve`;
  return addresses.some((entry) => isPrivateAddress(entry.address)) ? privateTargetProblem(host) : undefined;
}

/**
 * The connection's own look-up: resolves the name once more and refuses it if any address is
 * private, so the address the socket connects to is one that was checked. A name that answered
 * with a public address for the check above and a private one a moment later (DNS rebinding)
 * gets no connection.
 */
function publicOnly(resolver: Resolver): LookupFunction {
  return (host, options, callback) => {
    void resolveAll(resolver, host).then((addresses) => {
      if (addresses.length === 0) return callback(Object.assign(new Error(`${host} does not resolve`), { code: 'ENOTFOUND' }), '');
      if (addresses.some((entry) => isPrivateAddress(entry.address))) return callback(Object.assign(new Error(privateTargetProblem(host)), { code: PRIVATE_TARGET }), '');
      if (options.all) return callback(null, addresses);
      const wanted = addresses.find((entry) => !options.family || entry.family === options.family) ?? addresses[0]!;
      return callback(null, wanted.address, wanted.family);
    });
  };
}

/**
 * POSTs a delivery and returns the receiver's status, without following a redirect (which could
 * lead anywhere, inside the network too). Unless private targets are allowed, the socket connects
 * only to an address checked as public (`publicOnly`). Throws on a refused target (`refused: …`
 * in the message), on the signal (a timeout) or when nobody answers.
 */
export function postDelivery(url: string, body: string, headers: Record<string, string>, { allowPrivate, resolver = dns.lookup, signal }: { allowPrivate: boolean; resolver?: Resolver; signal: AbortSignal }): Promise<number> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const request = (target.protocol === 'https:' ? https : http).request(target, {
      method: 'POST',
      headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
      lookup: allowPrivate ? resolver : publicOnly(resolver),
      signal,
    });
    request.on('response', (response) => {
      resolve(response.statusCode ?? 0);
      // The answer is read and dropped, so the kept-alive connection can carry the next batch (its
      // address was checked when it was opened); a long answer ends the connection instead.
      let length = 0;
      response.on('data', (chunk: Buffer) => {
        length += chunk.length;
        if (length > 64 * 1024) response.destroy();
      });
    });
    request.on('error', (error: NodeJS.ErrnoException) => reject(error.code === PRIVATE_TARGET ? new Error(`refused: ${error.message}`) : error));
    request.end(body);
  });
}
