import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Query parameters that carry something replayable: consent states, codes, nonces, tokens, secrets. */
const SECRET_PARAMS = ['state', 'code', 'nonce', 'code_verifier', 'code_challenge', 'client_secret', 'client_info', 'id_token', 'access_token', 'refresh_token', 'session_state'];
const SECRET_PARAM = new RegExp(`([?&#](?:${SECRET_PARAMS.join('|')})=)[^&#\\s"]*`, 'gi');
const CENSOR = '[REDACTED]';

/** A URL (or any text holding one) with the values of its secret-bearing parameters replaced. */
export function scrubUrl(text: string): string {
  return text.replace(SECRET_PARAM, `$1${CENSOR}`);
}

/**
 * Headers and fields no log line may hold, in any process: session cookies (replayable for
 * hours), bearer tokens, client secrets, passwords. URLs are scrubbed by the HTTP serializers
 * (web/app.ts) with scrubUrl.
 */
const REDACT = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'headers.cookie',
  'headers.authorization',
  'password',
  'clientSecret',
  'client_secret',
  'accessToken',
  'access_token',
  'idToken',
  'id_token',
  '*.password',
  '*.clientSecret',
  '*.accessToken',
  '*.idToken',
];

/** JSON logs on stdout, one object a line: what log shippers and `jq` expect. */
export function createLogger(level: string, name: string, destination?: DestinationStream): Logger {
  return pino({ level, name, base: { service: name }, timestamp: pino.stdTimeFunctions.isoTime, redact: { paths: REDACT, censor: CENSOR } }, destination);
}
