# The API on the official Bun image. Build from the repository root: docker build -t raptscallions .
FROM oven/bun:1.4.5-slim AS deps
WORKDIR /app
COPY package.json bun.lock bunfig.toml ./
COPY apps/api/package.json apps/api/package.json
COPY packages/core/package.json packages/core/package.json
COPY packages/db/package.json packages/db/package.json
COPY packages/gateway/package.json packages/gateway/package.json
COPY packages/bus/package.json packages/bus/package.json
COPY packages/blob/package.json packages/blob/package.json
COPY packages/modules/package.json packages/modules/package.json
COPY packages/client/package.json packages/client/package.json
COPY apps/web/package.json apps/web/package.json
RUN bun install --frozen-lockfile --production

FROM oven/bun:1.4.5-slim
WORKDIR /app
ENV NODE_ENV=production PORT=3000
# JavaScriptCore's options, read only when the process starts: apps/api/src/runtime-options.ts (a test keeps them equal).
ENV BUN_JSC_useFTLJIT=false BUN_JSC_useWarmUpMarkedBlocks=false
COPY --from=deps /app/node_modules node_modules
COPY . .
# The web console, prebuilt (hashed files in apps/web/dist), so no instance builds it on its first request.
RUN bun apps/web/build.ts
USER bun
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s CMD ["bun", "-e", "fetch('http://127.0.0.1:3000/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]
CMD ["bun", "apps/api/src/server.ts"]
