# Image for the durable-rollouts worker (the default command) and the embedded router
# (`node --import tsx src/router/main.ts ...`, see docker-compose.yml).
#
# TypeScript runs through tsx at run time, as in development, so there is no compile step: the
# image ships src/ as it is, and tsx (a production dependency) stays in node_modules.
#
#   docker build -t durable-rollouts .
#   docker run --init -e TEMPORAL_ADDRESS=temporal.example.internal:7233 durable-rollouts

# Node 20 is what package.json's engines field and CI use. Override with
# --build-arg NODE_IMAGE=... to move both stages to another base at once.
ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------
# deps: production node_modules only.
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app

# Only the files `npm ci` reads, so this layer stays cached until the lockfile changes.
# The package's postinstall hook runs scripts/install-temporal.sh, so it has to be present.
COPY package.json package-lock.json ./
COPY scripts/install-temporal.sh scripts/install-temporal.sh

# DURABLE_ROLLOUTS_SKIP_TEMPORAL_INSTALL=1 turns the postinstall hook into a no-op: the Temporal
# CLI and test server it would download are for local development and tests. The worker in this
# image talks to an external Temporal service and needs neither.
# Install scripts of dependencies (esbuild, @swc/core, protobufjs) must still run, so no
# --ignore-scripts here.
RUN DURABLE_ROLLOUTS_SKIP_TEMPORAL_INSTALL=1 npm ci --omit=dev --no-audit --no-fund

# ---------------------------------------------------------------------------------------------
# runtime
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app

# Everything is owned by root and read-only for the user that runs the process.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY bin ./bin
COPY src ./src

# The 'process' deploy provider keeps pid files under DURABLE_ROLLOUTS_STATE_DIR (default:
# ./.state, which is not writable here). Give it a directory the runtime user owns.
RUN mkdir -p /var/lib/durable-rollouts && chown 1000:1000 /var/lib/durable-rollouts
ENV DURABLE_ROLLOUTS_STATE_DIR=/var/lib/durable-rollouts

# The official Node image's unprivileged 'node' user. Numeric, so that Kubernetes'
# runAsNonRoot can verify it.
USER 1000:1000

# No HEALTHCHECK, on purpose. The worker opens no port: it only makes outbound long polls to
# Temporal, so there is nothing local to probe. If it loses Temporal for good or crashes, the
# process exits and the restart policy brings it back; whether it is polling is visible from
# Temporal itself (`temporal task-queue describe --task-queue durable-rollouts` lists pollers).
# The router, which does serve HTTP, gets its health check in docker-compose.yml instead,
# because a HEALTHCHECK here would apply to the worker too.
#
# The worker shuts down gracefully on SIGTERM (in-flight activities finish first); give the
# container enough time to stop (compose: stop_grace_period, Kubernetes:
# terminationGracePeriodSeconds). Run with an init process (--init / `init: true`) so that
# signals are forwarded and child processes are reaped.
CMD ["node", "--import", "tsx", "src/worker/main.ts"]
