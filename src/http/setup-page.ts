import type { FastifyInstance } from 'fastify';

// The first-run setup page the server's start-up line links to. The console (a later issue)
// replaces it; until then this page is the browser way to create the first Owner. It is a
// client of POST /api/v1/setup like any other.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hush — first-run setup</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 28rem; margin: 3rem auto; padding: 0 1rem; }
  label { display: block; margin-top: 1rem; font-weight: 600; }
  input { width: 100%; padding: .5rem; font: inherit; box-sizing: border-box; }
  button { margin-top: 1.5rem; padding: .6rem 1.2rem; font: inherit; }
  [role=alert] { color: #a00; margin-top: 1rem; }
</style>
</head>
<body>
<main>
<h1>Set up Hush</h1>
<p>Create the first Owner and organization. The one-time token from the server's output is in this page's link.</p>
<form id="setup">
  <label for="email">E-mail</label><input id="email" name="email" type="email" autocomplete="username" required>
  <label for="password">Password (8 characters or more)</label><input id="password" name="password" type="password" autocomplete="new-password" minlength="8" required>
  <label for="org">Organization slug</label><input id="org" name="org" pattern="[a-z0-9][a-z0-9-]{1,62}" required>
  <button type="submit">Create</button>
  <p id="result" role="alert"></p>
</form>
</main>
<script>
  const token = new URLSearchParams(location.search).get('token') || '';
  document.getElementById('setup').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const body = { token, email: form.get('email'), password: form.get('password'), org: form.get('org') };
    const res = await fetch('/api/v1/setup', { method: 'POST', headers: { 'content-type': 'application/json', 'x-hush-tool': 'console' }, body: JSON.stringify(body) });
    const out = document.getElementById('result');
    if (res.ok) {
      out.setAttribute('role', 'status');
      out.textContent = 'Done. Sign in from the CLI: hush login --email ' + body.email;
      event.target.querySelector('button').disabled = true;
    } else {
      const err = (await res.json()).error;
      out.textContent = err.code + ': ' + err.message;
    }
  });
</script>
</body>
</html>
`;

/** Serves the first-run setup page at /setup. */
export function registerSetupPage(app: FastifyInstance): void {
  app.get('/setup', (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE));
}
