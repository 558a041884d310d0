import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import net from 'node:net';

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

/** Loopback, private, link-local (cloud metadata), carrier-grade NAT, unique-local and unspecified addresses. */
export function isPrivateAddress(address: string): boolean {
  if (net.isIPv4(address)) {
    const [a, b] = address.split('.').map(Number) as [number, number];
    return a === 0 || a === 10 || a === 127 || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || a >= 224;
  }
  if (net.isIPv6(address)) {
    const lower = address.toLowerCase();
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    if (mapped) return isPrivateAddress(mapped[1]!);
    return lower === '::' || lower === '::1' || /^f[cd]/.test(lower) || /^fe[89ab]/.test(lower) || /^ff/.test(lower);
  }
  return false;
}

/**
 * Checked again by the worker right before each delivery, on the addresses the name resolves to
 * now: a name registered while public that later points inside the network is refused then.
 */
export async function deliveryTargetProblem(url: string, { allowPrivate }: { allowPrivate: boolean }): Promise<string | undefined> {
  const problem = webhookUrlProblem(url, { allowPrivate });
  if (problem || allowPrivate) return problem;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const addresses = net.isIP(host) ? [{ address: host }] : await lookup(host, { all: true }).catch(() => []);
  if (addresses.length === 0) return `${host} does not resolve`;
  return addresses.some((entry) => isPrivateAddress(entry.address)) ? `${host} resolves to a private or local address` : undefined;
}
