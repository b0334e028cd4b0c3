# Tally's API and worker: one image, two commands (docker-compose.yml runs both).
FROM node:20-slim

WORKDIR /app
ENV NODE_ENV=production

# Dependencies first, so a code change does not reinstall them. tsx is a runtime dependency: the
# services run the TypeScript sources as they are, like `npm run api` and `npm run worker` do.
COPY package.json package-lock.json ./
# patch-package applies patches/ at install (a guard in postgres.js; see patches/README.md).
COPY patches ./patches
RUN npm ci --omit=dev && npm cache clean --force

COPY . .

# Never run as root; the services write nothing but temp files.
USER node
EXPOSE 3000

# The API; the worker service overrides this with `npx tsx worker/main.ts`.
CMD ["npx", "tsx", "api/main.ts"]
