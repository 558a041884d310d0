import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TemporalConfigError, temporalConnectConfig } from '../../lib/temporal-connection.js';

const dir = mkdtempSync(path.join(tmpdir(), 'hook-temporal-config-'));
const file = (name: string, text: string) => {
  const target = path.join(dir, name);
  writeFileSync(target, text);
  return target;
};
// No config file of the machine's user may leak into these cases.
const isolated = { TEMPORAL_CONFIG_FILE: file('default.toml', '[profile.default]\n') };

describe('connecting to Temporal from the environment (@temporalio/envconfig)', () => {
  it('a local server: the address and namespace, no TLS, no key', () => {
    const config = temporalConnectConfig({ ...isolated, TEMPORAL_ADDRESS: '127.0.0.1:7233' });
    expect(config).toEqual({ connectionOptions: { address: '127.0.0.1:7233' }, namespace: 'default' });
  });

  it('Temporal Cloud with an API key: the key is sent and TLS is on', () => {
    const config = temporalConnectConfig({ ...isolated, TEMPORAL_ADDRESS: 'hook-prod.a1b2c.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'hook-prod.a1b2c', TEMPORAL_API_KEY: 'key-from-the-cloud-ui' });
    expect(config.namespace).toBe('hook-prod.a1b2c');
    expect(config.connectionOptions).toMatchObject({ address: 'hook-prod.a1b2c.tmprl.cloud:7233', apiKey: 'key-from-the-cloud-ui' });
    expect(config.connectionOptions.tls).toBeTruthy();
  });

  it('a secured cluster with mTLS: the client certificate and key, the server CA and name', () => {
    const config = temporalConnectConfig({
      ...isolated,
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'hook',
      TEMPORAL_TLS_CLIENT_CERT_PATH: file('client.pem', 'CLIENT CERT'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: file('client.key', 'CLIENT KEY'),
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.pem', 'SERVER CA'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    const tls = config.connectionOptions.tls as { clientCertPair?: { crt: Uint8Array; key: Uint8Array }; serverRootCACertificate?: Uint8Array; serverNameOverride?: string };
    const text = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('utf8');
    expect(text(tls.clientCertPair?.crt)).toBe('CLIENT CERT');
    expect(text(tls.clientCertPair?.key)).toBe('CLIENT KEY');
    expect(text(tls.serverRootCACertificate)).toBe('SERVER CA');
    expect(tls.serverNameOverride).toBe('temporal.internal');
  });

  it('a profile from a TOML file, with the environment overriding it', () => {
    const toml = file('temporal.toml', ['[profile.prod]', 'address = "hook-prod.a1b2c.tmprl.cloud:7233"', 'namespace = "hook-prod.a1b2c"', 'api_key = "from-the-file"', ''].join('\n'));
    const fromFile = temporalConnectConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' });
    expect(fromFile).toMatchObject({ namespace: 'hook-prod.a1b2c', connectionOptions: { address: 'hook-prod.a1b2c.tmprl.cloud:7233', apiKey: 'from-the-file' } });
    const overridden = temporalConnectConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod', TEMPORAL_API_KEY: 'from-the-environment' });
    expect(overridden.connectionOptions.apiKey).toBe('from-the-environment');
  });

  it('no address anywhere, or a profile that does not exist: a clear error, before any connection', () => {
    expect(() => temporalConnectConfig({ ...isolated })).toThrow(TemporalConfigError);
    expect(() => temporalConnectConfig({ ...isolated })).toThrow(/TEMPORAL_ADDRESS/);
    expect(() => temporalConnectConfig({ ...isolated, TEMPORAL_PROFILE: 'nowhere' })).toThrow(TemporalConfigError);
  });
});
