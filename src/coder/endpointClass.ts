// Groups of Coder endpoints, shared by the client's request accounting (API latency and error
// counts per class) and the simulator's fault injection.
export const endpointClasses = [
  'auth',
  'users',
  'templates',
  'workspaces',
  'builds',
  'stats',
  'health',
  'dashboard',
  'apps',
  'pty',
  'other',
] as const;

export type EndpointClass = (typeof endpointClasses)[number];
