import { z } from 'zod';

function between(min: number, max: number, what: string) {
  const expected = `${what} between ${min} and ${max}`;
  return z.coerce.number({ error: expected }).min(min, expected).max(max, expected);
}

function port(expected: string) {
  return z.coerce.number({ error: expected }).int(expected).min(1, expected).max(65535, expected);
}

/**
 * Every setting the product reads from its environment, parsed once at start-up.
 * Unset optional values mean "use the embedded default" (see dev/start.ts), so a fresh
 * checkout runs with no configuration at all.
 */
const schema = z.object({
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/, error: 'a postgres:// connection URL' })
    .optional(),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:/]+:\d{1,5}$/, 'host:port, for example 127.0.0.1:7233')
    .optional(),
  TEMPORAL_NAMESPACE: z.string().regex(/^[A-Za-z0-9._-]{2,255}$/, 'a Temporal namespace name').default('default'),
  TEMPORAL_TASK_QUEUE: z.string().regex(/^\S{1,200}$/, 'a task queue name without spaces').default('directory-sync'),
  TEMPORAL_CLI_PATH: z.string().min(1, 'a path to the temporal binary').optional(),
  PORT: port('an integer port between 1 and 65535').default(3000),
  PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'an http(s) URL where browsers reach the app' }).optional(),
  SESSION_SECRET: z.string().min(32, 'at least 32 characters of random text').optional(),
  DATA_ENCRYPTION_KEY: z.string().min(32, 'at least 32 characters of random text').optional(),
  // While DATA_ENCRYPTION_KEY is rotated: the key it replaces, which still opens what it sealed.
  DATA_ENCRYPTION_KEY_PREVIOUS: z.string().min(32, 'at least 32 characters of random text').optional(),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  ENTRA_CLIENT_ID: z.string().regex(/^[0-9a-f-]{36}$/i, 'the application (client) id GUID of the Entra app registration').optional(),
  ENTRA_CLIENT_SECRET: z.string().min(8, 'the client secret value of the Entra app registration').optional(),
  ENTRA_LOGIN_HOST: z.string().regex(/^[a-z0-9.-]+(:\d+)?$/i, 'a host name such as login.microsoftonline.com').default('login.microsoftonline.com'),
  ENTRA_GRAPH_HOST: z.string().regex(/^[a-z0-9.-]+(:\d+)?$/i, 'a host name such as graph.microsoft.com').default('graph.microsoft.com'),
  SYNC_INTERVAL_MINUTES: between(1, 1440, 'a number of minutes').default(5),
  SYNC_FULL_RECONCILE_HOURS: between(1, 168, 'a number of hours').default(24),
  SYNC_MAX_REMOVAL_PERCENT: between(0, 100, 'a percentage').default(20),
  SYNC_MISSING_GROUP_GRACE_HOURS: between(0, 8760, 'a number of hours').default(168),
  PREVIEW_BUDGET_SECONDS: between(1, 300, 'a number of seconds').default(20),
  DATA_DIR: z.string().min(1, 'a folder for the state of npm start').optional(),
  DEV_POSTGRES_PORT: port('the port for the embedded PostgreSQL of npm start').default(54329),
  DEV_TEMPORAL_PORT: port('the gRPC port for the Temporal dev server of npm start (its UI uses this + 1000)').default(7233),
  DEV_EMULATOR_PORT: port('the https port of the Entra emulator of npm start').default(8443),
  DEV_EMULATOR_HTTP_PORT: port('the http port of the Entra emulator pages of npm start').default(8400),
  DEV_EMULATOR_WORLD: z.string().min(1, 'a path to a world JSON file for the emulator of npm start').optional(),
  WORKER_METRICS_PORT: port('a port for the Prometheus endpoint').optional(),
  WEB_METRICS_PORT: port('a port for the web process\'s Prometheus endpoint').optional(),
  // Webhook deliveries to loopback and private addresses (an SSRF door): for local development only.
  WEBHOOK_ALLOW_PRIVATE_TARGETS: z.enum(['true', 'false'], { error: 'true or false' }).default('false').transform((value) => value === 'true'),
  DATABASE_POOL_SIZE: between(2, 200, 'a number of connections').pipe(z.int('a whole number of connections')).default(10),
  WORKER_MAX_CONCURRENT_ACTIVITIES: between(1, 2000, 'a number of activity slots').pipe(z.int('a whole number of activity slots')).optional(),
  TRUST_PROXY: z
    .string()
    .regex(
      /^(\d{1,2}|(loopback|linklocal|uniquelocal|[0-9a-f.:]+(\/\d{1,3})?)(\s*,\s*(loopback|linklocal|uniquelocal|[0-9a-f.:]+(\/\d{1,3})?))*)$/i,
      'the proxies whose X-Forwarded-For to believe: a number of hops, or a comma-separated list of loopback, linklocal, uniquelocal, addresses and CIDR ranges',
    )
    .optional(),
});

/** Never echoed in an error message: their values are secrets (DATABASE_URL is shown with its password masked). */
const SECRET_VARIABLES = new Set(['SESSION_SECRET', 'DATA_ENCRYPTION_KEY', 'DATA_ENCRYPTION_KEY_PREVIOUS', 'ENTRA_CLIENT_SECRET']);

export type Config = Omit<z.infer<typeof schema>, 'PUBLIC_URL'> & { PUBLIC_URL: string };

/** The names of every variable the product reads (for checks of deployment files). */
export const configKeys: readonly string[] = Object.keys(schema.shape);

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws a ConfigError whose message is one line naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "unset": `FOO= npm start` should not be an error.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0]);
    const got = present[variable];
    const shown = got === undefined ? '' : SECRET_VARIABLES.has(variable) ? ' (its value is a secret and is not shown)' : ` (got ${JSON.stringify(truncate(maskPassword(got)))})`;
    throw new ConfigError(`Invalid configuration: ${variable} must be ${issue.message}${shown}`);
  }
  const config = parsed.data;
  return { ...config, PUBLIC_URL: (config.PUBLIC_URL ?? `http://localhost:${config.PORT}`).replace(/\/$/, '') };
}

/**
 * For process entry points: parse, check that the named settings are present (production
 * processes do not run on embedded defaults), and on failure print the one-line reason and
 * exit instead of a stack trace.
 */
export function loadConfigOrExit<K extends keyof Config>(...required: K[]): Config & Required<Pick<Config, K>> {
  try {
    const config = loadConfig(process.env);
    for (const name of required) {
      if (config[name] === undefined) throw new ConfigError(`Invalid configuration: ${name} must be set for this process`);
    }
    return config as Config & Required<Pick<Config, K>>;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

/** A URL's password as asterisks: `postgres://hook:***@db/hook`. */
export function maskPassword(value: string): string {
  return value.replace(/(\/\/[^/@:]*:)[^@/]*@/, '$1***@');
}

function truncate(value: string): string {
  return value.length > 60 ? `${value.slice(0, 57)}...` : value;
}

/** The sync workflow's settings from the configuration (every start passes them). */
export function syncSettings(config: Config) {
  return {
    intervalMs: config.SYNC_INTERVAL_MINUTES * 60_000,
    maxRemovalShare: config.SYNC_MAX_REMOVAL_PERCENT / 100,
    missingGraceMs: config.SYNC_MISSING_GROUP_GRACE_HOURS * 3_600_000,
    fullReconcileMs: config.SYNC_FULL_RECONCILE_HOURS * 3_600_000,
  };
}

/**
 * How many activities a worker runs at once. Temporal's default is 100, but every activity of
 * this product writes to PostgreSQL through a pool of DATABASE_POOL_SIZE connections (10 by
 * default): a read activity holds a connection only while it stages the page it just read
 * (milliseconds, against the hundreds Graph takes to answer), a commit holds one for its whole
 * transaction (seconds on a large tenant). With 100 slots, 90 activities could queue behind ten
 * long commits and fail with "timeout exceeded when trying to connect" after 5 s, to be retried
 * for nothing. Twice the pool keeps every connection busy while reads wait on Graph, and bounds
 * a wait to about one staged write. More slots than that need a bigger pool, not just more slots.
 */
export function workerTuning(config: Pick<Config, 'DATABASE_POOL_SIZE' | 'WORKER_MAX_CONCURRENT_ACTIVITIES'>) {
  return { poolSize: config.DATABASE_POOL_SIZE, maxConcurrentActivities: config.WORKER_MAX_CONCURRENT_ACTIVITIES ?? 2 * config.DATABASE_POOL_SIZE };
}
