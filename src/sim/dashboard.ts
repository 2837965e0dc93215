// Dashboard pages of the simulated deployment, at coderd's frontend routes. Each is a small
// HTML page whose script calls the same API endpoints the real dashboard calls for that page
// (authenticated by the `coder_session_token` cookie, like a browser), renders the result and
// then marks itself ready: `<body data-ready="true">` (or `data-error="..."` on failure), which
// is what the dashboard stage waits for to time click-to-ready.

/** A page: its title, and the API calls its script makes in order. */
interface PageSpec {
  title: string;
  /** Script body: may use `api(path)` (fetch JSON) and `show(title, rows)`. */
  script: string;
}

function workspacePaths(owner: string, workspace: string): string {
  return `/api/v2/users/${encodeURIComponent(owner)}/workspace/${encodeURIComponent(workspace)}`;
}

/** The page for a frontend path, or undefined when it is not one of ours. */
function pageFor(pathname: string): PageSpec | undefined {
  if (pathname === '/workspaces') {
    return {
      title: 'Workspaces',
      script: `const r = await api('/api/v2/workspaces?q=owner:me&limit=25');
        show('Workspaces', r.workspaces.map((w) => [w.owner_name + '/' + w.name, w.latest_build.status]));`,
    };
  }
  if (pathname === '/templates') {
    return {
      title: 'Templates',
      script: `const r = await api('/api/v2/templates');
        show('Templates', r.map((t) => [t.name, t.display_name || '']));`,
    };
  }
  const template = /^\/templates\/([^/]+)(?:\/(docs|files|versions))?\/?$/.exec(pathname);
  if (template) {
    const name = JSON.stringify(decodeURIComponent(template[1]!));
    return {
      title: `Template ${template[2] ?? 'summary'}`,
      script: `const orgs = await api('/api/v2/organizations');
        const t = await api('/api/v2/organizations/' + orgs[0].id + '/templates/' + encodeURIComponent(${name}));
        show('Template ' + t.name, [['id', t.id], ['active version', t.active_version_id], ['description', t.description || '']]);`,
    };
  }
  if (pathname === '/users') {
    return {
      title: 'Users',
      script: `const r = await api('/api/v2/users?limit=25');
        show('Users (' + r.count + ')', r.users.map((u) => [u.username, u.email]));`,
    };
  }
  const build = /^\/@([^/]+)\/([^/.]+)\/builds\/(\d+)\/?$/.exec(pathname);
  if (build) {
    const path = JSON.stringify(`${workspacePaths(decodeURIComponent(build[1]!), decodeURIComponent(build[2]!))}/builds/${build[3]}`);
    return {
      title: 'Build',
      script: `const b = await api(${path});
        const logs = await api('/api/v2/workspacebuilds/' + b.id + '/logs');
        show('Build #' + b.build_number + ' (' + b.status + ')', logs.map((l) => [l.stage || '', l.output]));`,
    };
  }
  const workspace = /^\/@([^/]+)\/([^/.]+)\/?$/.exec(pathname);
  if (workspace) {
    const path = JSON.stringify(workspacePaths(decodeURIComponent(workspace[1]!), decodeURIComponent(workspace[2]!)));
    return {
      title: 'Workspace',
      // Like the real workspace page, it also keeps a live-update socket open (watch-ws).
      script: `const w = await api(${path});
        const builds = await api('/api/v2/workspaces/' + w.id + '/builds');
        show(w.owner_name + '/' + w.name, builds.map((b) => ['#' + b.build_number + ' ' + b.transition, b.status]));
        const live = new WebSocket(location.origin.replace(/^http/, 'ws') + '/api/v2/workspaces/' + w.id + '/watch-ws');
        live.onmessage = (message) => {
          const event = JSON.parse(message.data);
          if (event.type === 'data') document.body.dataset.status = event.data.latest_build.status;
        };`,
    };
  }
  return undefined;
}

/** HTML for a dashboard path, or undefined when the path is not a dashboard page. */
export function renderDashboardPage(pathname: string): string | undefined {
  const page = pageFor(pathname);
  if (!page) return undefined;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${page.title} - Coder</title>
<style>body{font-family:sans-serif;margin:2em}td{padding:2px 8px}</style></head>
<body><nav><a href="/workspaces">Workspaces</a> · <a href="/templates">Templates</a> · <a href="/users">Users</a></nav>
<h1 id="title">Loading…</h1><table id="rows"></table>
<script>
async function api(path) {
  const response = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(path + ' answered ' + response.status);
  return response.json();
}
function show(title, rows) {
  document.getElementById('title').textContent = title;
  const table = document.getElementById('rows');
  for (const cells of rows) {
    const tr = table.insertRow();
    for (const cell of cells) tr.insertCell().textContent = String(cell);
  }
}
(async () => {
  // Every page loads the signed-in user and build info first, as the real dashboard does.
  await Promise.all([api('/api/v2/users/me'), api('/api/v2/buildinfo')]);
  ${page.script}
})().then(
  () => { document.body.dataset.ready = 'true'; },
  (error) => { document.getElementById('title').textContent = 'Error'; document.body.dataset.error = String(error.message); },
);
</script></body></html>`;
}
