import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout, one object a line: what log shippers and `jq` expect. */
export function createLogger(level: string, name: string): Logger {
  return pino({ level, name, base: { service: name }, timestamp: pino.stdTimeFunctions.isoTime });
}
