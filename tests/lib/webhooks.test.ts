import { describe, expect, it } from 'vitest';
import { deliveryTargetProblem, isPrivateAddress, signWebhook, verifyWebhook, webhookUrlProblem } from '../../lib/webhooks.js';

describe('webhook signatures and targets', () => {
  const secret = 'whsec_test-secret';
  const body = '{"data":[{"id":"1"}]}';

  it('a signature verifies only for its body, its secret and within five minutes', () => {
    const now = 1_800_000_000;
    const header = signWebhook(secret, body, now);
    expect(header).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhook(secret, body, header, now + 299)).toBe(true);
    expect(verifyWebhook(secret, body, header, now + 301)).toBe(false); // replayed later
    expect(verifyWebhook(secret, `${body} `, header, now)).toBe(false);
    expect(verifyWebhook('whsec_other', body, header, now)).toBe(false);
    expect(verifyWebhook(secret, body, header.replace(/v1=./, 'v1=0'), now)).toBe(false);
    for (const forged of [undefined, '', 't=abc,v1=00', `t=${now}`, `v1=${header.split('v1=')[1]}`]) expect(verifyWebhook(secret, body, forged, now)).toBe(false);
  });

  it('refuses URLs that are not https, carry credentials, or point inside the network (unless allowed for development)', () => {
    expect(webhookUrlProblem('https://hooks.example.com/x', { allowPrivate: false })).toBeUndefined();
    for (const url of ['http://hooks.example.com/', 'https://127.0.0.1/', 'https://10.1.2.3/', 'https://169.254.169.254/latest/meta-data', 'https://[::1]/', 'https://[fd00::1]/', 'https://localhost:8443/', 'https://metadata.google.internal/']) {
      expect(webhookUrlProblem(url, { allowPrivate: false }), url).toBeDefined();
    }
    expect(webhookUrlProblem('http://127.0.0.1:9000/hook', { allowPrivate: true })).toBeUndefined();
    expect(webhookUrlProblem('https://a:b@hooks.example.com/', { allowPrivate: true })).toBe('Leave credentials out of the URL; deliveries are signed instead.');
    expect(webhookUrlProblem(`https://hooks.example.com/${'x'.repeat(2_000)}`, { allowPrivate: true })).toBe('The URL is longer than 2,000 characters.');
  });

  it('knows private and local addresses, IPv4, IPv6 and mapped', () => {
    for (const address of ['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fc00::1', '::ffff:127.0.0.1']) expect(isPrivateAddress(address), address).toBe(true);
    for (const address of ['8.8.8.8', '172.32.0.1', '2001:4860:4860::8888', '::ffff:8.8.8.8']) expect(isPrivateAddress(address), address).toBe(false);
  });

  it('refuses the other spellings of an inside address: mapped IPv6 as a URL writes it, IPv4-compatible, NAT64, a zone', () => {
    // A URL writes [::ffff:127.0.0.1] as [::ffff:7f00:1]; [::ffff:a9fe:a9fe] is 169.254.169.254, the cloud's metadata.
    for (const url of ['https://[::ffff:127.0.0.1]/h', 'https://[::ffff:7f00:1]/h', 'https://[0:0:0:0:0:ffff:7f00:1]/h', 'https://[::ffff:a9fe:a9fe]/h', 'https://[::ffff:a00:1]/h', 'https://[::7f00:1]/h', 'https://[64:ff9b::a9fe:a9fe]/h', 'https://[ff02::1]/h', 'https://2130706433/h', 'https://0x7f.1/h']) {
      expect(webhookUrlProblem(url, { allowPrivate: false }), url).toBe('Webhook URLs must reach the public internet, not a private or local address.');
    }
    for (const address of ['fe80::1%eth0', '198.18.0.1', '192.0.0.8', '255.255.255.255', '100::1']) expect(isPrivateAddress(address), address).toBe(true);
    for (const url of ['https://[2001:4860:4860::8888]/h', 'https://[::ffff:808:808]/h', 'https://8.8.8.8/h']) expect(webhookUrlProblem(url, { allowPrivate: false }), url).toBeUndefined();
  });

  it('checks where the name points at delivery time: localhost resolves inside', async () => {
    expect(await deliveryTargetProblem('https://localhost/hook', { allowPrivate: false })).toBeDefined();
    expect(await deliveryTargetProblem('https://127.0.0.1/hook', { allowPrivate: false })).toMatch(/private or local/);
    expect(await deliveryTargetProblem('http://127.0.0.1/hook', { allowPrivate: true })).toBeUndefined();
  });
});
