# The runner image for sharded runs on Kubernetes (docs/kubernetes.md): Node, Debian's Chromium
# (dashboard stage) and the bundled CLI. Non-root; the root filesystem can be mounted read-only
# (Chromium and the reports write under /tmp).
#   docker build -t REGISTRY/coder-scaletest:VERSION .

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# No install scripts: ssh2's optional native add-on is not needed (pure-JS fallback).
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN node esbuild.mjs --production

FROM node:20-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends chromium fonts-liberation ca-certificates \
  && rm -rf /var/lib/apt/lists/* \
  && groupadd --gid 10001 scaletest \
  && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp scaletest
WORKDIR /opt/coder-scaletest
# The CLI bundle, its echo worker thread script, and playwright-core beside them (it loads its own files at run time).
COPY --from=build /src/dist/cli.js /src/dist/echoWorker.js ./dist/
COPY --from=build /src/node_modules/playwright-core ./node_modules/playwright-core
ENV HOME=/tmp \
  CODER_SCALETEST_CHROMIUM=/usr/bin/chromium \
  NODE_ENV=production
USER 10001:10001
ENTRYPOINT ["node", "/opt/coder-scaletest/dist/cli.js"]
