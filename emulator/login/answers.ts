import { randomUUID } from 'node:crypto';
import type { Response } from 'express';

/** AAD's error body: `error` to branch on, AADSTS numbers in `error_codes`, Trace/Correlation lines. */
export function tokenError(res: Response, status: number, error: string, code: number, description: string) {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date().toISOString().replace('T', ' ').slice(0, 19);
  res
    .status(status)
    .type('application/json; charset=utf-8')
    .send({
      error,
      error_description: `AADSTS${code}: ${description}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}Z`,
      error_codes: [code],
      timestamp: `${timestamp}Z`,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    });
}


/** An AADSTS description as the redirects carry it: the message, then Trace, Correlation and Timestamp lines. */
export function aadstsDescription(code: number, message: string): string {
  return `AADSTS${code}: ${message}\r\nTrace ID: ${randomUUID()}\r\nCorrelation ID: ${randomUUID()}\r\nTimestamp: ${new Date().toISOString().replace('T', ' ').slice(0, 19)}Z`;
}

export function redirect(res: Response, redirectUri: string, params: Record<string, string | undefined>) {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  res.redirect(302, url.toString());
}

/** A query or form value as text; repeated or nested values (?a=1&a=2) count as missing. */
export function textOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
