# One image for both apps: the notification service (default command) and the provider sandbox
# (`node dist/apps/sms-provider-sandbox/main.js`, see docker-compose.yml).
#
# Node 24 is an LTS line (maintenance until April 2028); override with --build-arg NODE_VERSION=...
ARG NODE_VERSION=24

# --- deps: every dependency, dev ones included (Nest CLI, TypeScript), from the lockfile ---------
FROM node:${NODE_VERSION}-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# --- build: compile both apps into dist/ ---------------------------------------------------------
FROM deps AS build
COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY libs ./libs
COPY apps ./apps
COPY scripts ./scripts
RUN npm run build

# --- runtime: production dependencies and the compiled output only -------------------------------
FROM node:${NODE_VERSION}-slim AS runtime
ENV NODE_ENV=production
# V8 sized for a service container: without a cap it lets the old generation grow towards a
# quarter of the host's memory before collecting (bench/RESULTS.md, memory). The live heap under
# load is ~70 MB; 192 MB leaves room for 1,000-recipient bursts and reports.
ENV NODE_OPTIONS="--max-old-space-size=192"
# In a container the published port is the boundary: listen on every interface inside it.
ENV HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Files stay owned by root: the app only reads them, and cannot rewrite its own code.
USER node
EXPOSE 3000 4010
CMD ["node", "dist/apps/notification-service/main.js"]
