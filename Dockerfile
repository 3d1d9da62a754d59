# One image for every process; docker-compose.yml picks the command per service.
FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production

# Manifests first, so the dependency layer is rebuilt only when they change.
COPY package.json package-lock.json ./
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
COPY apps/sandbox/package.json apps/sandbox/
COPY packages/api-contract/package.json packages/api-contract/
COPY packages/json/package.json packages/json/
COPY packages/provider-client/package.json packages/provider-client/
COPY packages/queue/package.json packages/queue/
RUN npm ci --omit=dev --no-audit --no-fund

# Node 24 runs the TypeScript sources directly (type stripping): there is no build step.
COPY apps apps
COPY packages packages
USER node
CMD ["node", "--max-semi-space-size=32", "--max-old-space-size=192", "apps/api/src/server.ts"]
