/**
 * Configs for bench:router's HAProxy and NGINX, written into the bench's temp dir. Both are set up
 * the way the router is: one stable version with one server, users kept on their cohort by the
 * `rollout-user` cookie (hashed per request, as the router hashes it), keep-alive on both sides,
 * and the `x-rollout-version` answer header the router adds. No access logs anywhere: the router
 * keeps none either.
 */

export const USER_COOKIE = 'rollout-user';
export const VERSION = 'v1';

/** The trivial upstream every proxy forwards to: NGINX answering `return 200` from memory. */
export function upstreamNginxConf(port: number, workers: number): string {
  return `# bench:router's upstream: costs next to nothing per request, so it is never the bottleneck.
worker_processes ${workers};
daemon off;
pid upstream.pid;
error_log upstream.error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  # 1.22 closes a keep-alive connection after 1000 requests by default; the proxies' pools would churn.
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  server {
    listen 127.0.0.1:${port};
    location / { default_type text/plain; return 200 "ok\\n"; }
  }
}
`;
}

export function proxyNginxConf(port: number, upstreamPort: number, workers: number): string {
  return `# bench:router's NGINX in front of the upstream: one stable server, users split by cookie.
worker_processes ${workers};
daemon off;
pid proxy.pid;
error_log proxy.error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  # As the nginx traffic provider does: the user's cookie picks the pool; here only stable exists.
  split_clients "\${cookie_${USER_COOKIE.replace(/-/g, '_')}}" $rollout_pool {
    * stable;
  }
  upstream stable {
    server 127.0.0.1:${upstreamPort};
    keepalive 128;
    keepalive_requests 10000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://$rollout_pool;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      add_header x-rollout-version ${VERSION} always;
    }
  }
}
`;
}

export function haproxyCfg(port: number, upstreamPort: number, threads: number): string {
  return `# bench:router's HAProxy in front of the upstream: one stable server, users hashed by cookie.
global
  nbthread ${threads}
  maxconn 4096

defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  timeout http-keep-alive 120s

frontend bench
  bind 127.0.0.1:${port}
  default_backend stable

backend stable
  # The user's cookie picks the server, consistently, as the router's cohort hash picks the version.
  balance hash req.cook(${USER_COOKIE})
  hash-type consistent
  http-response set-header x-rollout-version ${VERSION}
  server s1 127.0.0.1:${upstreamPort}
`;
}
