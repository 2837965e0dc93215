// The entry of dist/k8s-client.js: the parts of @kubernetes/client-node that src/k8s/cluster.ts
// uses, bundled on their own (CommonJS, minified) and loaded only when a command talks to a
// cluster. Inside dist/cli.js the client would add ~18 MB (unminified) that every CLI process
// (shards, the simulated deployment, the runner) parses at start-up.
export { BatchV1Api, CoreV1Api, KubeConfig, Log } from '@kubernetes/client-node';
