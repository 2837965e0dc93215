// The simulated dashboard: a small single-page app served at coderd's frontend routes. Like
// coderd's React app it loads once (the signed-in user, build info, regions), then navigates
// inside the page (history API) and each page makes the API calls the real page makes,
// authenticated by the `coder_session_token` cookie. Its DOM has the shape today's dashboard
// (coder/coder site/src) gives the elements the dashboard stage uses:
// - the dashboard layout's nav (modules/dashboard/Navbar): react-router NavLinks, the current
//   page's with `aria-current="page"` (prefix match), never an `active` class; no users link
//   (members have none; admins reach /deployment/users through a menu);
// - workspace and template rows `tr[role="button"][data-testid="workspace-…"|"template-…"]`
//   (hooks/useClickableTableRow);
// - the template layout's tabs (components/Tabs: links with `data-active`), the docs tab's
//   `#readme` (TemplateDocsPage);
// - the workspace page outside the dashboard layout (router.tsx): a topbar with a "Back to
//   workspaces" link, no builds table, each connected agent's Terminal link
//   `/@{owner}/{workspace}.{agent}/terminal` (opens a new tab).

/** The app's routes (coderd's frontend paths); anything else is not a dashboard page. */
const ROUTES = [
  /^\/workspaces\/?$/,
  /^\/templates\/?$/,
  /^\/templates\/[^/]+(?:\/docs)?\/?$/,
  /^\/users\/?$/,
  /^\/deployment\/users\/?$/,
  /^\/@[^/]+\/[^/.]+\/?$/,
  /^\/@[^/]+\/[^/.]+\/builds\/\d+\/?$/,
];

export function isDashboardRoute(pathname: string): boolean {
  return ROUTES.some((route) => route.test(pathname));
}

// The app itself, plain browser JavaScript (runs in the page, not in Node).
const APP_SCRIPT = String.raw`
const root = document.getElementById('root');
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
  const tr = el('tr', { role: 'button', tabindex: '0', 'data-testid': testid, 'data-href': href });
  for (const cell of cells) tr.append(el('td', {}, String(cell)));
  return tr;
}
// react-router's NavLink: aria-current="page" when the path is the link's or below it.
function navLink(href, text) {
  const path = decodeURIComponent(location.pathname);
  const active = path === href || path.startsWith(href + '/');
  return el('a', { href, ...(active ? { 'aria-current': 'page' } : {}) }, text);
}
// The dashboard layout: the navbar above the page.
function page(title, ...content) {
  const nav = el('nav', {}, navLink('/workspaces', 'Workspaces'), navLink('/templates', 'Templates'));
  root.replaceChildren(nav, el('main', {}, el('h1', {}, title), ...content));
  document.title = title + ' - Coder';
}
// Pages without the dashboard layout (the workspace page): their own topbar, no navbar.
function fullPage(title, topbar, ...content) {
  root.replaceChildren(topbar, el('main', {}, ...content));
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
    const tab = (href, text, active) => el('a', { href, 'data-active': String(active) }, text);
    const tabs = el('div', { role: 'tablist' },
      tab('/templates/' + t.name, 'Summary', !docs),
      tab('/templates/' + t.name + '/docs', 'Docs', Boolean(docs)));
    page(t.display_name || t.name, tabs, docs ? el('div', { id: 'readme' }, t.description) : el('p', {}, t.description));
  }],
  [/^\/users\/?$/, async () => {
    // router.tsx: /users/* → /deployment/users.
    history.replaceState(null, '', '/deployment/users');
    return render();
  }],
  [/^\/deployment\/users\/?$/, async () => {
    if (!me.roles.some((role) => role.name === 'owner' || role.name === 'user-admin')) {
      page('Users', el('p', { role: 'alert' }, "You don't have permission to view this page."));
      return;
    }
    const r = await api('/api/v2/users?q=&limit=25&offset=0');
    page('Users', table(r.users.map((u) => {
      const tr = el('tr', { 'data-testid': 'user-' + u.id });
      tr.append(el('td', {}, u.username), el('td', {}, u.email), el('td', {}, u.status));
      return tr;
    })));
  }],
  [/^\/@([^/]+)\/([^/.]+)\/builds\/(\d+)\/?$/, async (owner, name, number) => {
    const b = await api('/api/v2/users/' + enc(owner) + '/workspace/' + enc(name) + '/builds/' + number);
    const logs = await api('/api/v2/workspacebuilds/' + b.id + '/logs');
    page('Build #' + b.build_number, el('section', { 'aria-label': 'Build details' },
      table(logs.map((l) => el('tr', {}, el('td', {}, l.stage), el('td', {}, l.output))))));
  }],
  [/^\/@([^/]+)\/([^/.]+)\/?$/, async (owner, name) => {
    const w = await api('/api/v2/users/' + enc(owner) + '/workspace/' + enc(name) + '?include_deleted=true');
    const topbar = el('header', {},
      el('a', { href: '/workspaces', 'aria-label': 'Back to workspaces' }, '<'),
      el('span', {}, w.owner_name), el('span', {}, w.name), el('span', {}, w.latest_build.status));
    const agents = w.latest_build.resources.flatMap((r) => r.agents || []);
    const rows = agents.map((a) => el('div', { 'aria-label': a.name + ' agent' },
      el('span', {}, a.name), el('span', {}, a.status),
      ...(a.status === 'connected'
        ? [el('a', { href: '/@' + w.owner_name + '/' + w.name + '.' + a.name + '/terminal', target: '_blank' }, 'Terminal')]
        : [])));
    fullPage(w.name, topbar, el('section', {}, ...rows));
    // Like the real workspace page: live updates over the watch socket while it is open.
    live = new WebSocket(location.origin.replace(/^http/, 'ws') + '/api/v2/workspaces/' + w.id + '/watch-ws');
  }],
];
async function render() {
  if (live) live.close();
  live = undefined;
  const path = decodeURIComponent(location.pathname);
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
  root.replaceChildren(el('main', {}, el('h1', {}, 'Error'), el('p', { role: 'alert' }, String(error.message))));
}
document.addEventListener('click', (event) => {
  const target = event.target.closest('a[href^="/"]:not([target]), tr[data-href]');
  if (!target) return;
  event.preventDefault();
  navigate(target.getAttribute('href') || target.dataset.href);
});
addEventListener('popstate', () => render().catch(fail));
(async () => {
  // Loaded once per app start, as the real dashboard does (regions: the proxies and app host).
  [me] = await Promise.all([api('/api/v2/users/me'), api('/api/v2/buildinfo'), api('/api/v2/regions')]);
  await render();
})().catch(fail);
`;

/** The app shell for a dashboard route, or undefined when the path is not one. */
export function renderDashboardPage(pathname: string): string | undefined {
  if (!isDashboardRoute(pathname)) return undefined;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Coder</title>
<style>body{font-family:sans-serif;margin:2em}td{padding:2px 8px}nav a,[role=tablist] a{margin-right:1em}a[aria-current=page],a[data-active=true]{font-weight:bold}tr[role=button]{cursor:pointer}</style></head>
<body><div id="root"><p>Loading…</p></div>
<script>${APP_SCRIPT}</script></body></html>`;
}
