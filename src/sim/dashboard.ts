// The simulated dashboard: a small single-page app served at coderd's frontend routes. Like
// coderd's React app it loads once (the signed-in user and build info), then navigates inside
// the page (history API) and each page makes the API calls the real page makes, authenticated
// by the `coder_session_token` cookie. Its DOM carries the hooks the reference dashboard
// runner (coder/coder scaletest/dashboard/chromedp.go) clicks and waits for: nav links,
// `tr[role="button"][data-testid="workspace-…"|"build-…"|"template-…"]`, `tr[data-testid="user-…"]`,
// the "Build details" region and the template's `#readme`.

/** The app's routes (coderd's frontend paths); anything else is not a dashboard page. */
const ROUTES = [
  /^\/workspaces\/?$/,
  /^\/templates\/?$/,
  /^\/templates\/[^/]+(?:\/docs)?\/?$/,
  /^\/users\/?$/,
  /^\/@[^/]+\/[^/.]+\/?$/,
  /^\/@[^/]+\/[^/.]+\/builds\/\d+\/?$/,
];

export function isDashboardRoute(pathname: string): boolean {
  return ROUTES.some((route) => route.test(pathname));
}

// The app itself, plain browser JavaScript (runs in the page, not in Node).
const APP_SCRIPT = String.raw`
const main = document.getElementById('main');
let me;
let live;
async function api(path) {
  const response = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(path + ' answered ' + response.status);
  return response.json();
}
const enc = encodeURIComponent;
function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}
function table(rows) {
  const body = el('tbody');
  for (const row of rows) body.append(row);
  return el('table', {}, body);
}
function rowLink(testid, href, cells) {
  const tr = el('tr', { role: 'button', 'data-testid': testid, 'data-href': href });
  for (const cell of cells) tr.append(el('td', {}, String(cell)));
  return tr;
}
function page(title, ...content) {
  main.replaceChildren(el('h1', {}, title), ...content);
  document.title = title + ' - Coder';
}
const pages = [
  [/^\/workspaces\/?$/, async () => {
    const r = await api('/api/v2/workspaces?q=' + enc('owner:me') + '&limit=25');
    page('Workspaces', table(r.workspaces.map((w) =>
      rowLink('workspace-' + w.id, '/@' + w.owner_name + '/' + w.name, [w.name, w.template_display_name, w.latest_build.status]))));
  }],
  [/^\/templates\/?$/, async () => {
    const r = await api('/api/v2/organizations/' + me.organization_ids[0] + '/templates');
    page('Templates', table(r.map((t) => rowLink('template-' + t.id, '/templates/' + t.name, [t.display_name || t.name, t.active_user_count]))));
  }],
  [/^\/templates\/([^/]+)(\/docs)?\/?$/, async (name, docs) => {
    const t = await api('/api/v2/organizations/' + me.organization_ids[0] + '/templates/' + enc(name));
    const tabs = el('nav', { 'aria-label': 'Template tabs' },
      el('a', { href: '/templates/' + t.name, ...(docs ? {} : { 'aria-current': 'page' }) }, 'Summary'),
      el('a', { href: '/templates/' + t.name + '/docs', ...(docs ? { 'aria-current': 'page' } : {}) }, 'Docs'));
    page(t.display_name || t.name, tabs, docs ? el('article', { id: 'readme' }, t.description) : el('p', {}, t.description));
  }],
  [/^\/users\/?$/, async () => {
    const r = await api('/api/v2/users?q=&limit=25&offset=0');
    const rows = r.users.map((u) => {
      const tr = el('tr', { 'data-testid': 'user-' + u.id });
      tr.append(el('td', {}, u.username), el('td', {}, u.email), el('td', {}, u.status));
      return tr;
    });
    page('Users', table(rows));
  }],
  [/^\/@([^/]+)\/([^/.]+)\/builds\/(\d+)\/?$/, async (owner, name, number) => {
    const b = await api('/api/v2/users/' + enc(owner) + '/workspace/' + enc(name) + '/builds/' + number);
    const logs = await api('/api/v2/workspacebuilds/' + b.id + '/logs');
    page('Build #' + b.build_number, el('section', { 'aria-label': 'Build details' },
      table(logs.map((l) => el('tr', {}, el('td', {}, l.stage), el('td', {}, l.output))))));
  }],
  [/^\/@([^/]+)\/([^/.]+)\/?$/, async (owner, name) => {
    const w = await api('/api/v2/users/' + enc(owner) + '/workspace/' + enc(name) + '?include_deleted=true');
    const builds = await api('/api/v2/workspaces/' + w.id + '/builds');
    page(w.name, table(builds.map((b) =>
      rowLink('build-' + b.id, '/@' + owner + '/' + name + '/builds/' + b.build_number, ['#' + b.build_number, b.transition, b.status]))));
    // Like the real workspace page: live updates over the watch socket while it is open.
    live = new WebSocket(location.origin.replace(/^http/, 'ws') + '/api/v2/workspaces/' + w.id + '/watch-ws');
  }],
];
async function render() {
  if (live) live.close();
  live = undefined;
  const path = decodeURIComponent(location.pathname);
  for (const link of document.querySelectorAll('nav.top a')) link.classList.toggle('active', path.startsWith(link.getAttribute('href')));
  for (const [route, show] of pages) {
    const match = route.exec(path);
    if (match) return show(...match.slice(1));
  }
  page('Not found');
}
function navigate(href) {
  history.pushState(null, '', href);
  render().catch(fail);
}
function fail(error) {
  page('Error', el('p', { role: 'alert' }, String(error.message)));
}
document.addEventListener('click', (event) => {
  const target = event.target.closest('a[href^="/"], tr[data-href]');
  if (!target) return;
  event.preventDefault();
  navigate(target.getAttribute('href') || target.dataset.href);
});
addEventListener('popstate', () => render().catch(fail));
(async () => {
  // Loaded once per app start, as the real dashboard does.
  [me] = await Promise.all([api('/api/v2/users/me'), api('/api/v2/buildinfo')]);
  await render();
})().catch(fail);
`;

/** The app shell for a dashboard route, or undefined when the path is not one. */
export function renderDashboardPage(pathname: string): string | undefined {
  if (!isDashboardRoute(pathname)) return undefined;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Coder</title>
<style>body{font-family:sans-serif;margin:2em}td{padding:2px 8px}nav a{margin-right:1em}a.active{font-weight:bold}tr[role=button]{cursor:pointer}</style></head>
<body><nav class="top"><a href="/workspaces">Workspaces</a><a href="/templates">Templates</a><a href="/users">Users</a></nav>
<main id="main"><p>Loading…</p></main>
<script>${APP_SCRIPT}</script></body></html>`;
}
