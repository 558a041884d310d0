import type { RequestHandler } from 'express';

/**
 * No inline script or style anywhere and nothing from another origin: htmx and the stylesheet
 * are served by the app, and htmx's own inline indicator styles are switched off in the layout.
 */
export function securityHeaders(extraFormTargets: string[] = [], options: { https?: boolean } = {}): RequestHandler {
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
    // Nothing of the app (pages, assets) is for other sites to embed or read.
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    // Served over https: browsers must never fall back to http (and leak the session cookie).
    if (options.https) res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    next();
  };
}
