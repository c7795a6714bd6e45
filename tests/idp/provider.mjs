// A real OpenID Connect provider (panva/oidc-provider) for the end-to-end tests.
//
// Started by tests/idp_server.py; can also be run by hand:
//   cd tests/idp && npm ci && IDP_PORT=9000 IDP_REDIRECT_URIS=http://localhost:8050/oidc/callback node provider.mjs
//
// Listens on 127.0.0.1 only and prints "IDP READY <issuer>" once it accepts connections.
// IDP_PORT=0 (the default) lets the OS pick a free port; the issuer line tells which.
//
// Environment (all optional except IDP_REDIRECT_URIS):
//   IDP_PORT                       port to listen on, 0 = any free port (default 0)
//   IDP_CLIENT_ID / IDP_CLIENT_SECRET   the one confidential client (client_secret_basic)
//   IDP_REDIRECT_URIS              comma-separated, matched byte for byte by the provider
//   IDP_POST_LOGOUT_REDIRECT_URIS  comma-separated
//   IDP_USERS_JSON                 {"<login>": {"email", "email_verified", "name", "preferred_username",
//                                  "groups": [...], "realm_access": {"roles": [...]}}, ...}
//                                  A null value removes that claim. Logins not listed still work.
//   IDP_CLAIMS_IN_ID_TOKEN=1       put the scope claims into the ID token too (default: only in /userinfo,
//                                  as the spec says when an access token is issued)
//   IDP_SKIP_CONSENT=1             grant every requested scope without showing the consent page
//   IDP_REQUIRE_PKCE=0             do not require PKCE (default: required, S256 only)
//   IDP_EXIT_ON_STDIN_EOF=1        exit when stdin closes (the parent test process went away)
//   IDP_ACCESS_TOKEN_SECONDS       access-token lifetime (default 600); refresh tests use about 90
//   IDP_BACKCHANNEL_LOGOUT_URI     the client's back-channel logout URL (logout tokens carry sid)
//
// Refresh tokens: issued to the client whenever it may use the refresh_token grant, with or without
// offline_access (as Keycloak does), and rotated at each use. Revocation (/token/revocation),
// introspection (/token/introspection) and back-channel logout are on.
// Test-only: POST /test/backchannel-logout (client_secret_basic, form login=<login>) sends a logout
// token for each session that login has signed in with, as if the provider had ended them; it
// answers {"sent": n, "failed": [reasons]} (the app answering other than 200 is a failure).
//
// Dev login page (/interaction/<uid>): any login and any non-empty password are accepted; the login
// becomes the "sub". Consent page: input[name=prompt][value=consent] + button[type=submit].
// RP-initiated logout: the "sign out?" page submits itself ("yes") with JavaScript, no click needed.
import crypto from 'node:crypto';
import http from 'node:http';

import Provider from 'oidc-provider';

const env = process.env;
const HOST = '127.0.0.1';
const PORT = Number.parseInt(env.IDP_PORT || '0', 10);
const CLIENT_ID = env.IDP_CLIENT_ID || 'dash-app';
const CLIENT_SECRET = env.IDP_CLIENT_SECRET || 'dash-app-secret';
const list = (value) => (value || '').split(',').map((s) => s.trim()).filter(Boolean);
const REDIRECT_URIS = list(env.IDP_REDIRECT_URIS);
const POST_LOGOUT_REDIRECT_URIS = list(env.IDP_POST_LOGOUT_REDIRECT_URIS);
const CLAIMS_IN_ID_TOKEN = env.IDP_CLAIMS_IN_ID_TOKEN === '1';
const SKIP_CONSENT = env.IDP_SKIP_CONSENT === '1';
const REQUIRE_PKCE = env.IDP_REQUIRE_PKCE !== '0';
const USERS = env.IDP_USERS_JSON ? JSON.parse(env.IDP_USERS_JSON) : {};
const SCOPES = ['openid', 'email', 'profile', 'groups', 'offline_access'];
const ACCESS_TOKEN_SECONDS = Number.parseInt(env.IDP_ACCESS_TOKEN_SECONDS || '600', 10);
const BACKCHANNEL_LOGOUT_URI = env.IDP_BACKCHANNEL_LOGOUT_URI || '';

if (!REDIRECT_URIS.length) {
  console.error('IDP_REDIRECT_URIS is required (comma-separated list of the app\'s callback URLs)');
  process.exit(2);
}

function userClaims(login) {
  const claims = {
    email: `${login}@example.test`,
    email_verified: true,
    name: login,
    preferred_username: login,
    groups: [],
    ...(USERS[login] || {}),
    sub: login,
  };
  for (const [key, value] of Object.entries(claims)) {
    if (value === null || value === undefined) delete claims[key];
  }
  return claims;
}

// A fresh RS256 signing key for every run: no fixed private key ships with the repo.
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: crypto.randomBytes(8).toString('hex'),
  use: 'sig',
  alg: 'RS256',
};

const page = (title, body, script = '') => `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>${title}</title>${script}</head>
<body>${body}</body>
</html>`;

// oidc-provider asks "Do you want to sign-out?" at the end_session endpoint. This page answers
// "yes" by itself: the form gets a hidden logout=yes and is submitted on load.
async function logoutSource(ctx, form) {
  const autoForm = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/>'
    + '<noscript><button type="submit" name="logout" value="yes">Yes, sign me out</button></noscript></form>');
  ctx.body = page('Signing out', `<p>Signing out&hellip;</p>${autoForm}`,
    '<script>document.addEventListener("DOMContentLoaded", function () '
    + '{ document.getElementById("op.logoutForm").submit(); });</script>');
}

// Shown after logout when no post_logout_redirect_uri was given (no external font import, unlike the default).
async function postLogoutSuccessSource(ctx) {
  ctx.body = page('Signed out', '<h1 id="idp-signed-out">Signed out</h1>');
}

const configuration = {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: REDIRECT_URIS,
    post_logout_redirect_uris: POST_LOGOUT_REDIRECT_URIS,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
    ...(BACKCHANNEL_LOGOUT_URI ? {
      backchannel_logout_uri: BACKCHANNEL_LOGOUT_URI,
      backchannel_logout_session_required: true,
    } : {}),
  }],
  jwks: { keys: [signingKey] },
  // scope -> claims it releases
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups', 'realm_access'],
  },
  scopes: SCOPES,
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() { return userClaims(id); },
    };
  },
  // true (library and spec default): scope claims only in /userinfo when an access token is issued.
  conformIdTokenClaims: !CLAIMS_IN_ID_TOKEN,
  pkce: { required: () => REQUIRE_PKCE }, // oidc-provider 9 supports S256 only
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  features: {
    devInteractions: { enabled: true }, // built-in "any login" form + consent page
    rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
    revocation: { enabled: true },
    introspection: { enabled: true },
    backchannelLogout: { enabled: true },
  },
  async issueRefreshToken(ctx, client) {
    return client.grantTypeAllowed('refresh_token');
  },
  rotateRefreshToken: true,
  // The library refuses outgoing requests to special-use addresses (SSRF protection), loopback
  // included; the app under test listens on loopback, so its dispatcher is dropped here.
  fetch: (url, { dispatcher, ...options }) => globalThis.fetch(url, options),
  ...(SKIP_CONSENT ? {
    // First-party app behaviour: grant every scope on first use, so no consent page is shown.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope(SCOPES.join(' '));
      await grant.save();
      return grant;
    },
  } : {}),
  ttl: {
    AccessToken: ACCESS_TOKEN_SECONDS,
    IdToken: 600,
    AuthorizationCode: 60,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
    RefreshToken: 3600,
  },
};

const server = http.createServer();

server.on('error', (err) => {
  console.error(`IDP FAILED ${err.message}`);
  process.exit(1);
});

server.listen(PORT, HOST, () => {
  // The issuer must contain the real port, so the provider is built once the port is known.
  const issuer = `http://${HOST}:${server.address().port}`;
  const provider = new Provider(issuer, configuration);
  for (const event of ['server_error', 'authorization.error', 'grant.error', 'end_session.error',
    'userinfo.error', 'revocation.error', 'introspection.error', 'backchannel.error']) {
    provider.on(event, (ctx, err) => {
      console.error(`IDP ${event}: ${err.message} ${err.error_description || ''}`.trim());
    });
  }
  provider.on('backchannel.success', (ctx, client, accountId, sid) => {
    console.log(`IDP backchannel.success ${accountId} ${sid}`);
  });
  // Which sessions each login signed in with (for the test-only back-channel logout below).
  const sessionsOf = new Map();
  provider.on('authorization.success', (ctx) => {
    const { session, client } = ctx.oidc;
    const sid = session?.accountId && client ? session.sidFor(client.clientId) : undefined;
    if (sid) {
      const sids = sessionsOf.get(session.accountId) || new Set();
      sessionsOf.set(session.accountId, sids.add(sid));
    }
  });
  const clientBasic = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;
  provider.use(async (ctx, next) => {
    if (ctx.path !== '/test/backchannel-logout' || ctx.method !== 'POST') {
      await next();
      return;
    }
    if (ctx.get('authorization') !== clientBasic) {
      ctx.status = 401;
      return;
    }
    const raw = await new Promise((resolve) => {
      let body = '';
      ctx.req.on('data', (chunk) => { body += chunk; });
      ctx.req.on('end', () => resolve(body));
    });
    const login = new URLSearchParams(raw).get('login') || '';
    const client = await provider.Client.find(CLIENT_ID);
    const sids = [...(sessionsOf.get(login) || [])];
    const results = await Promise.allSettled(sids.map((sid) => client.backchannelLogout(login, sid)));
    sessionsOf.delete(login);
    ctx.body = {
      sent: results.filter((result) => result.status === 'fulfilled').length,
      failed: results.filter((result) => result.status === 'rejected').map((result) => result.reason.message),
    };
  });
  // The dev login/consent pages import Google Fonts and browsers ask for /favicon.ico: both only add
  // console errors on a closed network, which would get in the way of "no console errors" assertions.
  provider.use(async (ctx, next) => {
    if (ctx.path === '/favicon.ico') {
      ctx.status = 204;
      return;
    }
    await next();
    if (typeof ctx.body === 'string' && ctx.response.is('html')) {
      ctx.body = ctx.body.replace(/@import url\(https:\/\/fonts\.googleapis\.com[^)]*\);?/g, '');
    }
  });
  server.on('request', provider.callback());
  console.log(`IDP READY ${issuer}`);
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections(); // keep-alive connections would otherwise hold close() open
  setTimeout(() => process.exit(0), 2000).unref();
}

process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
if (env.IDP_EXIT_ON_STDIN_EOF === '1') {
  process.stdin.on('end', shutdown);
  process.stdin.resume();
}
