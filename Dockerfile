# hookflow: one image, two roles. The command picks the role:
#   node --import tsx src/cli/main.ts api      (the default CMD: HTTP API on $PORT)
#   node --import tsx src/cli/main.ts worker   (the Temporal delivery worker; no HTTP port)
# Both need DATABASE_URL and TEMPORAL_ADDRESS; the api also needs API_KEYS. See docker-compose.yml.
#
# TypeScript runs through tsx (a runtime dependency in package.json), so there is no compile step;
# `node --import tsx` keeps node itself as the main process, so SIGTERM reaches hookflow's own
# shutdown handler (drain the worker, close the HTTP server) instead of a wrapper.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- deps: production node_modules only, from the lockfile ------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# tsx, @temporalio/* (with @swc/core and webpack, which bundle the workflows at worker start),
# pg, express ... are all in "dependencies", so --omit=dev leaves everything the roles need.
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# --- runtime ---------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOOKFLOW_DATA_DIR=/home/node/.hookflow
WORKDIR /app

# Code and dependencies stay owned by root: the node user can read them, not change them.
COPY --from=deps /app/node_modules ./node_modules
# .dockerignore is an allowlist: package.json, package-lock.json, tsconfig.json, src/, workflows/,
# activities/ and bin/ (when it exists) are all that reach this COPY.
COPY . ./

# The one writable place, for `hookflow start` (embedded Postgres/Temporal files, generated key).
# api and worker write nothing to disk except tsx's compile cache under /tmp.
RUN mkdir -p "$HOOKFLOW_DATA_DIR" && chown node:node "$HOOKFLOW_DATA_DIR"

USER node
EXPOSE 3000

# Liveness of the default (api) role. The worker role serves no HTTP: docker-compose.yml gives it
# its own healthcheck; other orchestrators running the worker should override or disable this one.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

CMD ["node", "--import", "tsx", "src/cli/main.ts", "api"]
