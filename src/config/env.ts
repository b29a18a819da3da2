// Every setting of the service, read once from the environment and checked at start.
import { z } from 'zod';

const boolean = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** PostgreSQL to use; when unset an embedded PostgreSQL is started under DATA_DIR. */
  DATABASE_URL: z.string().url().optional(),
  /** Folder for the embedded database and the development API key. */
  DATA_DIR: z.string().default('.data'),
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  /** `all` runs API and workers in one process; `api` or `worker` split them for scale-out. */
  ROLE: z.enum(['all', 'api', 'worker']).default('all'),
  /** Import jobs one worker process runs at once. */
  IMPORT_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(2),
  /**
   * How often the job queue looks for jobs whose worker died (no heartbeat) to retry them,
   * and refreshes its statistics, in seconds. pg-boss's own default is 60.
   */
  JOB_SUPERVISE_SECONDS: z.coerce.number().int().min(1).max(3600).default(15),
  /** Indicators per community, all collections together. */
  INDICATOR_QUOTA: z.coerce.number().int().min(1).default(500_000),
  /** Largest text accepted by importIndicatorsFromText, in bytes. */
  TEXT_IMPORT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(50 * 1024 * 1024),
  /** Largest file accepted by previewIndicatorFile, in bytes (HTTP 413 past it). */
  UPLOAD_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(100 * 1024 * 1024),
  /** Hours an import's source is kept after the import was requested. */
  IMPORT_SOURCE_TTL_HOURS: z.coerce.number().int().min(1).default(72),
  /** Days ingested events are kept (for retrohunt and alert excerpts); dropped a day at a time. */
  EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(366).default(30),
  /** Days daily sighting counts are kept; telemetry reports look back a year. */
  SIGHTING_RETENTION_DAYS: z.coerce.number().int().min(1).max(3660).default(366),
  /** Largest body accepted by POST /api/events, in bytes (HTTP 413 past it). */
  EVENTS_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(256 * 1024 * 1024),
  /** Largest single event line, in bytes; longer lines are rejected, the rest still read. */
  EVENT_MAX_LINE_BYTES: z.coerce
    .number()
    .int()
    .min(64)
    .default(1024 * 1024),
  /** Largest WebSocket message accepted, in bytes; a larger one closes the socket with 1009. */
  WS_MAX_PAYLOAD_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(1024 * 1024),
  /** Subscriptions one WebSocket may hold open at once; one more is refused. */
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: z.coerce.number().int().min(1).default(50),
  /** Subscriptions one API key may hold open at once, over every socket, SSE stream and process. */
  SUBSCRIPTIONS_MAX_PER_KEY: z.coerce.number().int().min(1).default(500),
  /** Largest plain (non-multipart) GraphQL request body, in bytes; 413 past it, before it is parsed. */
  GRAPHQL_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** Deepest nesting of objects and arrays in one event line; a deeper line is rejected alone. */
  EVENT_MAX_DEPTH: z.coerce.number().int().min(2).max(1000).default(32),
  /** 1: unexpected errors carry their message and stack to clients (never by default, whatever NODE_ENV). */
  DEBUG_ERRORS: boolean.default(false),
  /**
   * Key that signs connection cursors (HMAC), shared by every process of a deployment.
   * Unset: a random key kept in the database, made on first start.
   */
  CURSOR_SECRET: z.string().min(32).optional(),
  /** Query limits (graphql-armor; the cost by the Pothos complexity plugin), the same over HTTP, SSE and WebSocket. */
  QUERY_MAX_DEPTH: z.coerce.number().int().min(1).default(12),
  QUERY_MAX_ALIASES: z.coerce.number().int().min(0).default(20),
  QUERY_MAX_DIRECTIVES: z.coerce.number().int().min(0).default(20),
  QUERY_MAX_TOKENS: z.coerce.number().int().min(1).default(2000),
  QUERY_MAX_COST: z.coerce.number().int().min(1).default(20_000),
  /** Requests (HTTP, SSE, WebSocket operations, /api/...) per API key and minute; 0: no limit. */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(1200),
  /**
   * Browser origins allowed to call the API (comma-separated, e.g. `https://soc.example.com`);
   * unset: the service's own origin and localhost in development, none in production.
   */
  CORS_ORIGINS: z.string().optional(),
  /** `only`: accept only the persisted documents of the known clients (by hash); `off`: any document. */
  TRUSTED_DOCUMENTS: z.enum(['off', 'only']).default('off'),
  GRAPHIQL: boolean.optional(),
  INTROSPECTION: boolean.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Seconds given to open requests, sockets and running jobs on SIGTERM. */
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).default(20),
});

export type Env = z.infer<typeof envSchema> & { GRAPHIQL: boolean; INTROSPECTION: boolean };

export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(source).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  const env = parsed.data;
  const production = env.NODE_ENV === 'production';
  return { ...env, GRAPHIQL: env.GRAPHIQL ?? !production, INTROSPECTION: env.INTROSPECTION ?? !production };
}

export const env = readEnv();
