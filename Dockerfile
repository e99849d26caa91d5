# hookflow: one image, two roles. The command picks the role:
#   node bin/hookflow.js api      (the default CMD: HTTP API on $PORT)
#   node bin/hookflow.js worker   (the Temporal delivery worker; no HTTP port)
# Both need DATABASE_URL and TEMPORAL_ADDRESS; the api also needs API_KEYS. See docker-compose.yml.
#
# The image runs what `npm run build` made: JavaScript compiled by tsc into dist/ and the workflow
# code bundled once (dist/workflow-bundle*.js), so a worker starts without webpack and without tsx.
# `node bin/hookflow.js` keeps node itself as the main process, so SIGTERM reaches hookflow's own
# shutdown handler (drain the worker, close the HTTP server) instead of a wrapper.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: all dependencies, then tsc and the workflow bundles ----------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# The workspace's package.json too: npm ci installs @hookflow/client (packages/client) as a link.
COPY package.json package-lock.json ./
COPY packages/client/package.json ./packages/client/
# --ignore-scripts: the package's own `prepare` (the build) needs the sources, copied below; the
# dependencies' binaries (esbuild, @swc/core) come as per-platform packages, not from install scripts.
RUN npm ci --ignore-scripts --no-audit --no-fund
# .dockerignore is an allowlist: package files, tsconfig*.json, src/, workflows/, activities/, bin/ and the
# client package's sources. The build compiles @hookflow/client first: the CLI's client commands use it.
COPY . ./
RUN npm run build

# --- deps: production node_modules only, from the lockfile ------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY packages/client/package.json ./packages/client/
# Neither role needs the optional embedded-postgres and @temporalio/testing (only `hookflow start`
# without DATABASE_URL / a Temporal CLI does), nor the dev tools (tsx, tsc). --ignore-scripts keeps
# `prepare` (the build, done above) from running here without its tools.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

# --- runtime ---------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    PORT=3000 \
    HOOKFLOW_DATA_DIR=/home/node/.hookflow
WORKDIR /app

# Code and dependencies stay owned by root: the node user can read them, not change them.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# node_modules/@hookflow/client links here: the built client, for the client commands and `hookflow listen`.
COPY --from=build /app/packages/client/package.json ./packages/client/
COPY --from=build /app/packages/client/dist ./packages/client/dist
COPY package.json ./
COPY bin ./bin

# The one writable place, for `hookflow start` (embedded Postgres/Temporal files, generated key).
# api and worker write nothing to disk.
RUN mkdir -p "$HOOKFLOW_DATA_DIR" && chown node:node "$HOOKFLOW_DATA_DIR"

USER node
EXPOSE 3000

# Liveness of the default (api) role. The worker role serves no HTTP: docker-compose.yml gives it
# its own healthcheck; other orchestrators running the worker should override or disable this one.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

CMD ["node", "bin/hookflow.js", "api"]
