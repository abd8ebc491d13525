# Worker image of k0rdent-deploy: `docker compose` builds it for the `worker` service.
# Base images are pinned to an exact Node 20 release (the engines range of package.json).

FROM node:20.20.2-bookworm-slim AS build
WORKDIR /app
# The build compiles the emulated tools' small native program (dist/emulator-tools).
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build-emulated-tools.sh ./scripts/
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

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
