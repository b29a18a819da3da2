// Which browser origins may call the API (GraphQL and /api): those of CORS_ORIGINS when set;
// otherwise, in development, the service's own origin and pages served from this machine
// (http://localhost or 127.0.0.1, any port), and none in production and test. API keys travel
// in the Authorization header, never in cookies, so credentials are never allowed.
import type { Env } from '../config/env.ts';

const LOCAL_PAGE = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

/** The origins listed in CORS_ORIGINS, normalised as browsers send them; a non-origin stops the start. */
export function parseCorsOrigins(list: string): string[] {
  return list
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const url = URL.canParse(entry) ? new URL(entry) : null;
      if (!url || !['http:', 'https:'].includes(url.protocol) || url.href !== `${url.origin}/`) {
        throw new Error(
          `Invalid configuration: CORS_ORIGINS: ${JSON.stringify(entry)} is not an origin (scheme://host[:port], e.g. https://soc.example.com)`,
        );
      }
      return url.origin;
    });
}

/** Yoga's `cors` option: CORS headers for an allowed origin, none at all for any other. */
export function corsPolicy(env: Env) {
  const listed = env.CORS_ORIGINS === undefined ? null : new Set(parseCorsOrigins(env.CORS_ORIGINS));
  const development = env.NODE_ENV === 'development';
  const allowed = (origin: string, request: Request) =>
    listed ? listed.has(origin) : development && (LOCAL_PAGE.test(origin) || origin === new URL(request.url).origin);
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (!origin || !allowed(origin, request)) return false as const;
    // For an origin found allowed above, `*` makes Yoga echo that origin with Vary: Origin.
    // The request id lets a page quote the answer it got when it reports a problem.
    return { origin: '*', credentials: false, maxAge: 600, exposedHeaders: ['x-request-id'] };
  };
}
