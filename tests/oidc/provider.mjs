// A real OpenID Provider (the certified `oidc-provider` package) for the sign-in tests. Test-only.
//
//   node tests/oidc/provider.mjs CONFIG.json
//
// CONFIG: {"clients": [{client_id, client_secret, redirect_uris, post_logout_redirect_uris}],
//          "accounts": {"<sub>": {email, email_verified, name, groups}}}
// It listens on a free port of 127.0.0.1, prints "listening <issuer>" on stdout, and serves:
//   - the provider (discovery, /auth, /token, /me, /jwks, /session/end), PKCE required;
//   - a minimal sign-in page at /interaction/<uid>: any known account id signs in, consent is implied;
//   - test controls (loopback only, like everything here):
//       PUT /test/accounts/<sub>  {claims}   create or replace an account
//       PUT /test/mode            {"mode": "normal" | "wrong-key" | "replay-nonce" | "wrong-issuer"}
//     wrong-key:    /jwks publishes another key under the same kid (ID tokens fail signature checks);
//     replay-nonce: /auth swaps the RP's nonce for the one of the previous sign-in;
//     wrong-issuer: the token endpoint is answered by a second provider with another issuer.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';

import { Provider } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const accounts = { ...config.accounts };
let mode = 'normal';
let lastNonce = null;

function signingJwk() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', alg: 'RS256', use: 'sig' };
}
const key = signingJwk();
const { d, p, q, dp, dq, qi, ...otherPublic } = signingJwk(); // a stranger's public key, same kid
const wrongJwks = { keys: [otherPublic] };

const page = (title, body) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>${title}</title></head><body><main><h1>${title}</h1>${body}</main></body></html>`;
const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function providerFor(issuer) {
  const provider = new Provider(issuer, {
    clients: config.clients,
    jwks: { keys: [key] },
    cookies: { keys: ['tests-only-cookie-key'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    findAccount: (ctx, sub) => (accounts[sub] ? { accountId: sub, claims: () => ({ sub, ...accounts[sub] }) } : undefined),
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          ctx.body = page('Sign out of the test provider?', `${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>`);
        },
        postLogoutSuccessSource: (ctx) => {
          ctx.body = page('Signed out', '<p>You are signed out of the test provider.</p>');
        },
      },
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    ttl: { AccessToken: 600, AuthorizationCode: 120, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Provider error', `<pre>${escape(JSON.stringify(out))}</pre>`);
    },
  });
  provider.on('server_error', (ctx, err) => console.error('provider error:', err));
  return provider;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.on('data', (chunk) => { data += chunk; });
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = providerFor(issuer);
  const impostor = providerFor(`${issuer}/impostor`); // shares the in-memory store and the signing key
  const handle = provider.callback();
  const handleImpostor = impostor.callback();

  server.on('request', async (req, res) => {
    try {
      const url = new URL(req.url, issuer);
      const reply = (status, body, type = 'text/html') => {
        res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
        res.end(body);
      };

      if (url.pathname.startsWith('/test/') && req.method === 'PUT') {
        const body = JSON.parse((await readBody(req)) || '{}');
        if (url.pathname === '/test/mode') mode = body.mode;
        else accounts[decodeURIComponent(url.pathname.slice('/test/accounts/'.length))] = body;
        return reply(204, '');
      }

      const interaction = url.pathname.match(/^\/interaction\/([^/]+)(\/login)?$/);
      if (interaction) {
        const details = await provider.interactionDetails(req, res);
        if (details.prompt.name === 'consent') {
          // The portal is a first-party application: consent is implied.
          const grant = details.grantId
            ? await provider.Grant.find(details.grantId)
            : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
          if (details.prompt.details.missingOIDCScope) grant.addOIDCScope(details.prompt.details.missingOIDCScope.join(' '));
          if (details.prompt.details.missingOIDCClaims) grant.addOIDCClaims(details.prompt.details.missingOIDCClaims);
          return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
        }
        let error = '';
        if (req.method === 'POST' && interaction[2]) {
          const login = new URLSearchParams(await readBody(req)).get('login') || '';
          if (accounts[login]) {
            return provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
          }
          error = `<p role="alert">Unknown user ${escape(login)}.</p>`;
        }
        return reply(200, page('Test provider sign-in', `${error}
<form method="post" action="/interaction/${details.uid}/login">
<p><label for="login">Username</label> <input id="login" name="login" autocomplete="username" required></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password"></p>
<p><button type="submit">Sign in</button></p></form>`));
      }

      if (url.pathname === '/jwks' && mode === 'wrong-key') {
        return reply(200, JSON.stringify(wrongJwks), 'application/json');
      }
      if (url.pathname === '/auth') {
        const nonce = url.searchParams.get('nonce');
        if (mode === 'replay-nonce' && lastNonce) {
          url.searchParams.set('nonce', lastNonce);
          req.url = url.pathname + url.search;
        } else if (nonce) {
          lastNonce = nonce;
        }
      }
      if (url.pathname === '/token' && mode === 'wrong-issuer') {
        return handleImpostor(req, res);
      }
      return handle(req, res);
    } catch (err) {
      console.error(err);
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    }
  });
  console.log(`listening ${issuer}`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
