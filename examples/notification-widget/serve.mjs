// A tiny static file server for the notification widget, with no dependencies.
//
//   node examples/notification-widget/serve.mjs [--host 127.0.0.1] [--port 8080]
//
// It serves the repository root, but only two folders of it: `examples/` (the widget) and
// `node_modules/graphql-ws/umd/` (the graphql-ws browser build the widget loads). Anything
// else answers 403; paths that climb out of the root (`..`, encoded or not, symbolic links)
// never reach the file system outside those folders.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The repository root: two folders up from this file. */
export const REPO_ROOT = path.resolve(HERE, '..', '..');
/** Where the widget's page is, relative to the root served. */
export const WIDGET_PATH = '/examples/notification-widget/';

/** The only folders served, relative to the root. */
const ALLOWED = ['examples', 'node_modules/graphql-ws/umd'];

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.gz': 'application/gzip',
};

const contentType = (file) => CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';

/** `child` is `parent` or inside it (both absolute and normalised). */
const isWithin = (parent, child) => child === parent || child.startsWith(parent + path.sep);

/**
 * Starts the server; answers its base URL (`http://host:port`, the real port when `port`
 * is 0), the widget's URL and `close()`.
 */
export async function startWidgetServer({ host = '127.0.0.1', port = 8080, root = REPO_ROOT } = {}) {
  const rootDir = path.resolve(root);
  const allowedDirs = ALLOWED.map((dir) => path.join(rootDir, ...dir.split('/')));

  /** The file to send for a URL path, or an HTTP status to answer instead. */
  async function resolveFile(urlPath) {
    let decoded;
    try {
      decoded = decodeURIComponent(urlPath);
    } catch {
      return 400;
    }
    if (decoded.includes('\0') || decoded.includes('\\')) return 400;
    // Resolved against the root: `..` segments cannot climb above it, and the result must
    // be inside one of the allowed folders.
    const candidate = path.join(rootDir, path.posix.normalize(decoded));
    if (!allowedDirs.some((dir) => isWithin(dir, candidate))) return 403;
    let file = candidate;
    let info = await stat(file).catch(() => null);
    if (info?.isDirectory()) {
      if (!urlPath.endsWith('/')) return { redirect: `${urlPath}/` };
      file = path.join(file, 'index.html');
      info = await stat(file).catch(() => null);
    }
    if (!info?.isFile()) return 404;
    // A symbolic link inside an allowed folder must not lead out of it.
    const [real, realAllowed] = await Promise.all([
      realpath(file),
      Promise.all(allowedDirs.map((dir) => realpath(dir).catch(() => null))),
    ]);
    if (!realAllowed.some((dir) => dir && isWithin(dir, real))) return 403;
    return { file: real, size: info.size };
  }

  const server = createServer(async (req, res) => {
    const plain = (status, text, headers = {}) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
      res.end(req.method === 'HEAD' ? undefined : `${text}\n`);
    };
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return plain(405, 'Method Not Allowed', { allow: 'GET, HEAD' });
      const { pathname } = new URL(req.url ?? '/', 'http://localhost');
      if (pathname === '/') return plain(302, 'Found', { location: WIDGET_PATH });
      const found = await resolveFile(pathname);
      if (typeof found === 'number') {
        const text = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found' }[found];
        return plain(found, text);
      }
      if ('redirect' in found) return plain(301, 'Moved Permanently', { location: found.redirect });
      res.writeHead(200, {
        'content-type': contentType(found.file),
        'content-length': found.size,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      });
      if (req.method === 'HEAD') return res.end();
      createReadStream(found.file)
        .on('error', () => res.destroy())
        .pipe(res);
    } catch {
      if (!res.headersSent) plain(500, 'Internal Server Error');
      else res.destroy();
    }
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${actualPort}`;
  return {
    url,
    widgetUrl: `${url}${WIDGET_PATH}`,
    close: () =>
      new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

// Run directly: serve the repository root and say where the widget is.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '8080' } },
  });
  const served = await startWidgetServer({ host: values.host, port: Number(values.port) });
  console.log(`Notification widget: ${served.widgetUrl}`);
  console.log('Serving examples/ and node_modules/graphql-ws/umd/ only. Ctrl+C to stop.');
  const stop = () => served.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
