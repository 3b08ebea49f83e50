import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { queryTokenMatches, sessionCookie } from './access';

const STATIC_DIR = path.join(__dirname, 'static');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** The page's own files, by the name the page asks for; nothing else under static/ is served. */
const PAGE_FILES = [
  'dashboard.css',
  'app.js',
  'dom.js',
  'format.js',
  'http.js',
  'list.js',
  'rollout.js',
  'charts.js',
  'timeline.js',
  'evidence.js',
  'controls.js',
];

/** Chart.js's self-contained build, from the installed package (its exports do not list dist/). */
const CHART_JS = path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js');

interface Asset {
  type: string;
  body: Buffer;
}

/**
 * No origin but this server's own, for anything; no inline script or style. Chart.js sizes its
 * canvas through the CSSOM, which style-src does not govern.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of PAGE_FILES) {
    assets.set(name, { type: TYPES[path.extname(name)]!, body: readFileSync(path.join(STATIC_DIR, name)) });
  }
  assets.set('chart.umd.min.js', { type: TYPES['.js']!, body: readFileSync(CHART_JS) });
  return assets;
}

/** The page (one shell for the list and for a rollout) and the files it loads. */
export function registerAssets(app: FastifyInstance, token: string | undefined): void {
  const assets = loadAssets();
  const page = readFileSync(path.join(STATIC_DIR, 'page.html'));

  app.addHook('onSend', async (_request, reply) => {
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    reply.header('x-content-type-options', 'nosniff');
    // The first URL may carry ?token=: never pass it on to the Web UI link or anywhere else.
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cache-control', 'no-store');
  });

  const servePage = async (
    request: FastifyRequest<{ Querystring: { token?: unknown } }>,
    reply: FastifyReply,
  ) => {
    // The one way a browser gets the session: ?token= once. The page then drops it from the URL.
    if (token !== undefined && queryTokenMatches(request.query.token, token))
      reply.header('set-cookie', sessionCookie(token));
    reply.type(TYPES['.html']!);
    return page;
  };
  app.get('/', servePage);
  app.get('/rollouts/:id', servePage);

  // Browsers ask for one by themselves; none is an answer, not a 404 in the console.
  app.get('/favicon.ico', async (_request, reply) => reply.code(204).send());

  app.get('/static/:name', async (request, reply) => {
    const asset = assets.get((request.params as { name: string }).name);
    if (!asset) return reply.code(404).send({ error: 'not found' });
    return reply.type(asset.type).send(asset.body);
  });
}
