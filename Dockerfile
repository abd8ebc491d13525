# Worker image of k0rdent-deploy: `docker compose` builds it for the `worker` service. It holds the
# product alone, without the emulator package: a worker built from it deploys to Azure only.
# Base images are pinned to an exact Node 20 release (the engines range of package.json).

FROM node:20.20.2-bookworm-slim AS build
WORKDIR /app
# The emulator workspace's manifest lets `npm ci` follow the lockfile; its code stays out.
COPY package.json package-lock.json ./
COPY emulator/package.json ./emulator/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json ./
COPY src ./src
RUN npx tsc -p src && node dist/src/bundle.js && npm prune --omit=dev --no-audit --no-fund

FROM node:20.20.2-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY config ./config
USER node
CMD ["node", "bin/k0rdent-deploy", "worker"]
