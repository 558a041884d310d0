import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';

export class TemporalConfigError extends Error {
  override name = 'TemporalConfigError';
}

export interface TemporalConnectConfig {
  connectionOptions: NativeConnectionOptions & { address: string };
  namespace: string;
}

/**
 * How the web, the worker and the CLI reach Temporal, configured the way Temporal's own tooling
 * is (`@temporalio/envconfig`): `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`,
 * `TEMPORAL_TLS`, `TEMPORAL_TLS_CLIENT_CERT_PATH` / `_KEY_PATH` (mTLS), `TEMPORAL_TLS_SERVER_CA_CERT_PATH`,
 * `TEMPORAL_TLS_SERVER_NAME`, and profiles from a TOML file (`TEMPORAL_CONFIG_FILE`,
 * `TEMPORAL_PROFILE`); environment variables override the file. An API key turns TLS on, as
 * Temporal Cloud needs. The result serves both `Connection.connect` and `NativeConnection.connect`.
 */
export function temporalConnectConfig(env: NodeJS.ProcessEnv = process.env): TemporalConnectConfig {
  const vars = Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''));
  let loaded;
  try {
    loaded = loadClientConnectConfig({ overrideEnvVars: vars, ...(vars.TEMPORAL_PROFILE ? { profile: vars.TEMPORAL_PROFILE } : {}) });
  } catch (error) {
    throw new TemporalConfigError(`Temporal connection settings could not be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  const address = loaded.connectionOptions.address;
  if (!address) throw new TemporalConfigError('TEMPORAL_ADDRESS (or an address in the TEMPORAL_CONFIG_FILE profile) is required, for example 127.0.0.1:7233 or <namespace>.<account>.tmprl.cloud:7233');
  return { connectionOptions: { ...loaded.connectionOptions, address }, namespace: loaded.namespace ?? 'default' };
}

/** For entry points: the settings, or the reason they are wrong and exit code 78 (EX_CONFIG), as for the rest of the configuration. */
export function temporalConnectConfigOrExit(env: NodeJS.ProcessEnv = process.env): TemporalConnectConfig {
  try {
    return temporalConnectConfig(env);
  } catch (error) {
    if (!(error instanceof TemporalConfigError)) throw error;
    console.error(`Invalid configuration: ${error.message}`);
    process.exit(78);
  }
}
