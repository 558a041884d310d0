import type { RequestHandler } from 'express';

/**
 * No inline script or style anywhere and nothing from another origin: htmx and the stylesheet
 * are served by the app, and htmx's own inline indicator styles are switched off in the layout.
 */
export function securityHeaders(extraFormTargets: string[] = []): RequestHandler {
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
    `form-action 'self'${extraFormTargets.map((origin) => ` ${origin}`).join('')}`,
  ].join('; ');
  return (_req, res, next) => {
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'same-origin');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    next();
  };
}
