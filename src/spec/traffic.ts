import { z } from 'zod';
import { duration } from './duration';
import { MAX_ENV } from './limits';
import { envKey, executable, httpUrl } from './patterns';

/**
 * What a load balancer routes to, by its own name: an HAProxy server, an NGINX upstream, a cloud
 * target group. Never a URL: those are what the checks probe (`targets`).
 */
export const routeName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/,
    'a load-balancer name: letters, digits, ".", "_", ":" and "-", at most 64 characters',
  );

export const MAX_ROUTES = 16;
export const routeList = z.array(routeName).min(1, 'at least one route').max(MAX_ROUTES);

/** An absolute file path the worker reads or writes; no "..", no control characters. */
export const absolutePath = z
  .string()
  .max(4096)
  .regex(/^\/[A-Za-z0-9_.@+/-]*$/, 'an absolute path of letters, digits and "_.@+/-"')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ".."');

/** HAProxy's Runtime API: `tcp://127.0.0.1:9999` or `unix:/run/haproxy/admin.sock`. */
export const runtimeApiAddress = z
  .string()
  .max(4096)
  .regex(
    /^(tcp:\/\/[A-Za-z0-9.-]+:[0-9]{1,5}|tcp:\/\/\[[0-9A-Fa-f:]+\]:[0-9]{1,5}|unix:\/[A-Za-z0-9_.@+/-]*)$/,
    'tcp://HOST:PORT or unix:/absolute/path/to/socket',
  );

/** An HTTP header name, lowercase as NGINX and HAProxy compare them. */
export const headerName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'a lowercase header name: letters, digits and "-", at most 64');

/**
 * A traffic step runs inside one activity attempt (12 s while restoring stable, see
 * activity-stubs.ts), so each provider call must fit in it with room to read back.
 */
const timeout = (ms: number, max: number) =>
  duration
    .refine((v) => v >= 100, 'must be at least 100ms')
    .refine((v) => v <= max, `at most ${max}ms: a traffic step must fit in its activity attempt`)
    .default(ms);
const literalArgs = z.array(z.string().max(1000)).max(64);

const trafficEmbedded = z
  .object({
    // The embedded router (src/router), driven through its admin API; it routes to `targets`.
    provider: z.literal('embedded').default('embedded'),
    adminUrl: httpUrl.default('http://127.0.0.1:9901'),
  })
  .strict();

const trafficHaproxy = z
  .object({
    // Debian's haproxy (2.6) steered through its Runtime API; versions' `routes` are server names.
    provider: z.literal('haproxy'),
    runtimeApi: runtimeApiAddress,
    backend: routeName,
    // The map file the config labels servers with (`srv_name,map(<file>)`): key server, value
    // version. Runtime changes are also written to the file, so a restart keeps the labels.
    versionsMap: absolutePath,
    // The config's header-route map (key: header value, value: server), with the header it reads.
    matchMap: absolutePath.optional(),
    matchHeader: headerName.optional(),
    // The config's `server-state-file`: rewritten after every change, so a reload keeps the split.
    stateFile: absolutePath.optional(),
    timeout: timeout(2_000, 5_000),
  })
  .strict()
  .superRefine((t, ctx) => {
    if ((t.matchMap === undefined) !== (t.matchHeader === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [t.matchMap === undefined ? 'matchMap' : 'matchHeader'],
        message: 'matchMap and matchHeader go together: the map the config looks the header up in',
      });
    }
  });

const cohortKey = z.union([
  z.object({ header: headerName }).strict(),
  z
    .object({ cookie: z.string().regex(/^[A-Za-z0-9_]{1,64}$/, 'a cookie name: letters, digits, "_"') })
    .strict(),
]);

// nginx's own variables, which a map or split_clients may not redefine.
const NGINX_BUILTIN_PREFIXES = ['http_', 'sent_http_', 'cookie_', 'arg_', 'upstream_', 'ssl_'];
const NGINX_BUILTINS = new Set([
  'host',
  'uri',
  'args',
  'query_string',
  'request',
  'request_uri',
  'request_id',
  'request_method',
  'request_body',
  'request_length',
  'request_time',
  'remote_addr',
  'remote_port',
  'remote_user',
  'server_addr',
  'server_name',
  'server_port',
  'server_protocol',
  'scheme',
  'status',
  'document_uri',
  'document_root',
  'realpath_root',
  'hostname',
  'pid',
  'msec',
  'time_local',
  'time_iso8601',
  'binary_remote_addr',
  'body_bytes_sent',
  'bytes_sent',
  'connection',
  'connection_requests',
  'content_length',
  'content_type',
  'cookie',
  'is_args',
  'limit_rate',
  'nginx_version',
  'pipe',
  'proxy_add_x_forwarded_for',
  'proxy_host',
  'proxy_port',
  'request_filename',
  'https',
  'date_local',
  'date_gmt',
  'fastcgi_script_name',
  'fastcgi_path_info',
  'proxy_protocol_addr',
  'proxy_protocol_port',
]);

const trafficNginx = z
  .object({
    // Debian's nginx: an include file with split_clients is rendered, checked and reloaded;
    // versions' `routes` are upstream names from the user's config.
    provider: z.literal('nginx'),
    includeFile: absolutePath,
    // The variable the include file sets to the chosen upstream: `proxy_pass http://$<variable>;`.
    variable: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,47}$/, 'an nginx variable name without "$", at most 48 characters')
      .refine(
        (v) => !NGINX_BUILTIN_PREFIXES.some((p) => v.startsWith(p)) && !NGINX_BUILTINS.has(v),
        "names one of nginx's own variables (nginx -t would refuse it); pick another, e.g. rollout_upstream",
      ),
    // A user keeps their cohort as the weight grows; requests without the key are split per request.
    cohort: cohortKey.default({ cookie: 'rollout_user' }),
    // Optional: a URL on this nginx answering `$<variable>_split_id` (see docs/nginx.conf). With it,
    // a step waits until the running workers serve the new split, and read-back asks them.
    statusUrl: httpUrl.optional(),
    test: z.array(z.string().max(4096)).min(1).max(64).default(['nginx', '-t']),
    reload: z.array(z.string().max(4096)).min(1).max(64).default(['nginx', '-s', 'reload']),
    timeout: timeout(5_000, 5_000),
  })
  .strict();

const trafficCommand = z
  .object({
    // Any other load balancer: the desired split as JSON on stdin, the applied split as JSON on stdout.
    provider: z.literal('command'),
    command: executable,
    args: literalArgs.default([]),
    env: z
      .record(envKey, z.string().max(4000))
      .refine((env) => Object.keys(env).length <= MAX_ENV, `at most ${MAX_ENV} variables`)
      .default({}),
    timeout: timeout(10_000, 10_000),
  })
  .strict();

export const trafficSchema = z.discriminatedUnion(
  'provider',
  [trafficEmbedded, trafficHaproxy, trafficNginx, trafficCommand],
  { error: 'provider must be one of: embedded, haproxy, nginx, command' },
);

export type TrafficConfig = z.output<typeof trafficSchema>;
export type EmbeddedTrafficConfig = Extract<TrafficConfig, { provider: 'embedded' }>;
export type HaproxyTrafficConfig = Extract<TrafficConfig, { provider: 'haproxy' }>;
export type NginxTrafficConfig = Extract<TrafficConfig, { provider: 'nginx' }>;
export type CommandTrafficConfig = Extract<TrafficConfig, { provider: 'command' }>;

/** Testers routed by header: a request carrying every one of these goes to the canary. */
export const MAX_MATCH_HEADERS = 4;
export const headerMatchSchema = z
  .object({
    headers: z
      .record(
        headerName,
        z.string().regex(/^[A-Za-z0-9._:=-]{1,128}$/, 'letters, digits and "._:=-", at most 128'),
      )
      .refine((h) => Object.keys(h).length >= 1, 'at least one header')
      .refine((h) => Object.keys(h).length <= MAX_MATCH_HEADERS, `at most ${MAX_MATCH_HEADERS} headers`),
  })
  .strict();
export type HeaderMatch = z.output<typeof headerMatchSchema>;
