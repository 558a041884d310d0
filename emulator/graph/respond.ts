import { randomUUID } from 'node:crypto';

/** What one Graph request answers: the same shape over HTTP and inside a $batch. */
export interface GraphResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export const JSON_CONTENT_TYPE =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

export function ok(body: unknown, status = 200): GraphResponse {
  return { status, headers: { 'Content-Type': JSON_CONTENT_TYPE }, body };
}

export function text(body: string): GraphResponse {
  return { status: 200, headers: { 'Content-Type': 'text/plain' }, body };
}

/** Graph's error shape: branch on `code`; `innerError` (camel case) carries request-id and date. */
export function graphError(
  status: number,
  code: string,
  message: string,
  clientRequestId?: string,
  extraHeaders: Record<string, string> = {},
): GraphResponse {
  const requestId = randomUUID();
  return {
    status,
    headers: { 'Content-Type': 'application/json', 'request-id': requestId, ...extraHeaders },
    body: {
      error: {
        code,
        message,
        innerError: {
          date: new Date().toISOString().slice(0, 19),
          'request-id': requestId,
          'client-request-id': clientRequestId ?? requestId,
        },
      },
    },
  };
}

export function throttled(retryAfterSeconds: number, clientRequestId?: string, scope?: string): GraphResponse {
  const response = graphError(429, 'TooManyRequests', 'Please retry again later.', clientRequestId, {
    'Retry-After': String(retryAfterSeconds),
    'x-ms-throttle-information': 'ResourceUnitLimitExceeded',
    ...(scope === undefined ? {} : { 'x-ms-throttle-scope': scope }),
  });
  const inner = (response.body as { error: { innerError: Record<string, string> } }).error.innerError;
  inner.code = '429';
  inner.message = 'Please retry after';
  inner.status = '429';
  return response;
}

export const notFound = (id: string, clientRequestId?: string) =>
  graphError(
    404,
    'Request_ResourceNotFound',
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
    clientRequestId,
  );

export const forbidden = (clientRequestId?: string) =>
  graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.', clientRequestId);

export const badRequest = (message: string, clientRequestId?: string) =>
  graphError(400, 'Request_BadRequest', message, clientRequestId);

export const unsupportedQuery = (message: string, clientRequestId?: string) =>
  graphError(400, 'Request_UnsupportedQuery', message, clientRequestId);
