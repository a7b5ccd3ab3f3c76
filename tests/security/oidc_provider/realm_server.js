// The npm `oidc-provider` configured from a Keycloak realm export (docker/keycloak/kyodo-realm.json), standing in
// for Keycloak where its distribution cannot be had (tests/deploy/test_topology.py). It reads the realm's own
// clients, users, realm roles, attributes and protocol mappers, and serves them on Keycloak's paths
// (<base>/realms/<realm>/protocol/openid-connect/...), so the gateway's configuration for Keycloak is used as is.
//
// What it interprets, the way Keycloak does:
// - `${VAR}` placeholders in the realm, filled from the environment (Keycloak's realm import does the same);
// - clients: public (authorization code + PKCE S256 when the realm asks for it) or confidential with a secret
//   and a service account (client credentials); `enabled`, `standardFlowEnabled`, `serviceAccountsEnabled`,
//   `redirectUris`;
// - users: `id` as the token's `sub`, `enabled`, the password credential, `realmRoles`, `attributes`;
//   a client's service account is the user whose `serviceAccountClientId` names it;
// - protocol mappers with `access.token.claim` true: oidc-usermodel-attribute-mapper,
//   oidc-usermodel-realm-role-mapper (with `multivalued`), oidc-audience-mapper (the token's `aud`).
// Anything else in a client's mappers stops the server: a realm it cannot read faithfully must not pass.
//
// Env: KYODO_REALM_FILE (the realm JSON), KYODO_REALM_BASE (the public base URL, e.g. the fronting proxy's).
// KYODO_REALM_PORT: a fixed port (default: a free one).
// Listens on a free 127.0.0.1 port and prints one JSON line {"issuer", "port"}.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { generateKeyPairSync, timingSafeEqual } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

const SUPPORTED_MAPPERS = new Set([
  'oidc-usermodel-attribute-mapper', 'oidc-usermodel-realm-role-mapper', 'oidc-audience-mapper',
]);
const KEYCLOAK_ROUTES = {
  authorization: '/protocol/openid-connect/auth',
  token: '/protocol/openid-connect/token',
  jwks: '/protocol/openid-connect/certs',
  userinfo: '/protocol/openid-connect/userinfo',
  end_session: '/protocol/openid-connect/logout',
  revocation: '/protocol/openid-connect/revoke',
  introspection: '/protocol/openid-connect/token/introspect',
};

function fillPlaceholders(value) {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g, (whole, name, fallback) => {
      const found = process.env[name] ?? fallback;
      if (found === undefined) throw new Error(`realm placeholder ${whole}: ${name} is not set`);
      return found;
    });
  }
  if (Array.isArray(value)) return value.map(fillPlaceholders);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillPlaceholders(v)]));
  }
  return value;
}

const realm = fillPlaceholders(JSON.parse(readFileSync(process.env.KYODO_REALM_FILE, 'utf8')));
const base = (process.env.KYODO_REALM_BASE || '').replace(/\/$/, '');
const prefix = `/realms/${realm.realm}`;
const issuer = `${base}${prefix}`;

const users = realm.users || [];
const userById = new Map(users.filter((u) => u.id).map((u) => [u.id, u]));
const userByName = new Map(users.map((u) => [u.username, u]));
const clientById = new Map((realm.clients || []).map((c) => [c.clientId, c]));

function tokenMappers(client) {
  const mappers = (client.protocolMappers || []).filter((m) => m.config?.['access.token.claim'] === 'true');
  for (const mapper of mappers) {
    if (!SUPPORTED_MAPPERS.has(mapper.protocolMapper)) {
      throw new Error(`client ${client.clientId}: mapper ${mapper.name} (${mapper.protocolMapper}) is not interpreted`);
    }
  }
  return mappers;
}

function audienceOf(client) {
  const audiences = tokenMappers(client).filter((m) => m.protocolMapper === 'oidc-audience-mapper')
    .map((m) => m.config['included.custom.audience']);
  return audiences[0];
}

function claimsFor(client, user) {
  const claims = {};
  for (const mapper of tokenMappers(client)) {
    const { config } = mapper;
    const multivalued = config.multivalued === 'true';
    let values;
    if (mapper.protocolMapper === 'oidc-usermodel-attribute-mapper') {
      values = user?.attributes?.[config['user.attribute']];
    } else if (mapper.protocolMapper === 'oidc-usermodel-realm-role-mapper') {
      values = user?.realmRoles;
    } else {
      continue;   // the audience mapper: the token's `aud`, set through the resource indicator
    }
    if (!values || values.length === 0) continue;
    claims[config['claim.name']] = multivalued ? [...values] : values[0];
  }
  return claims;
}

function serviceAccountOf(clientId) {
  return users.find((u) => u.serviceAccountClientId === clientId);
}

function providerClients() {
  const out = [];
  for (const client of realm.clients || []) {
    if (!client.enabled || client.protocol !== 'openid-connect') continue;
    tokenMappers(client);   // refuse uninterpretable mappers at start
    if (client.publicClient) {
      if (!client.standardFlowEnabled) continue;
      out.push({
        client_id: client.clientId,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: client.redirectUris || [],
        scope: 'openid offline_access',
      });
    } else if (client.serviceAccountsEnabled) {
      out.push({
        client_id: client.clientId,
        client_secret: client.secret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
      });
    }
  }
  return out;
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256', kid: `realm-${Date.now()}` };

const provider = new Provider(issuer, {
  jwks: { keys: [signingKey] },
  clients: providerClients(),
  routes: KEYCLOAK_ROUTES,
  scopes: ['openid', 'offline_access'],
  claims: { openid: ['sub'] },
  pkce: {
    // Keycloak asks for PKCE where the client's `pkce.code.challenge.method` says so; oidc-provider always for
    // public clients. Either way S256 only.
    required: (ctx, client) => client.tokenEndpointAuthMethod === 'none'
      || Boolean(clientById.get(client.clientId)?.attributes?.['pkce.code.challenge.method']),
  },
  ttl: { AccessToken: realm.accessTokenLifespan || 300 },
  async findAccount(ctx, id) {
    const user = userById.get(id);
    if (!user || !user.enabled) return undefined;
    return { accountId: id, claims: async () => ({ sub: id }) };
  },
  interactions: { url: (ctx, interaction) => `${prefix}/login-actions/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // the token's audience is the one the client's oidc-audience-mapper names (Keycloak's `aud`)
      defaultResource: (ctx, client) => audienceOf(clientById.get(client.clientId)),
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resourceIndicator, client) => {
        if (!resourceIndicator || resourceIndicator !== audienceOf(clientById.get(client.clientId))) {
          throw new errors.InvalidTarget();
        }
        return { scope: '', audience: resourceIndicator, accessTokenTTL: realm.accessTokenLifespan || 300,
                 accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
      },
    },
  },
  extraTokenClaims(ctx, token) {
    if (token.kind !== 'AccessToken' && token.kind !== 'ClientCredentials') return undefined;
    const client = clientById.get(token.clientId);
    const user = token.accountId ? userById.get(token.accountId) : serviceAccountOf(token.clientId);
    return client ? claimsFor(client, user) : undefined;
  },
});

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function passwordMatches(user, given) {
  const credential = (user.credentials || []).find((c) => c.type === 'password');
  if (!credential || typeof given !== 'string') return false;
  const a = Buffer.from(credential.value);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10000) throw new Error('form too large');
  }
  return Object.fromEntries(new URLSearchParams(body));
}

function loginPage(res, action, message) {
  res.writeHead(message ? 401 : 200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><title>Sign in to ${escapeHtml(realm.displayName || realm.realm)}</title>`
    + (message ? `<p id="error">${escapeHtml(message)}</p>` : '')
    + `<form method="post" action="${escapeHtml(action)}">`
    + '<input name="username"><input name="password" type="password"><button>Sign in</button></form>');
}

// The sign-in page (Keycloak's login-actions): check the realm user's password, then grant what was asked.
async function interaction(req, res, path) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') return loginPage(res, path);
  const form = await readForm(req);
  const user = userByName.get(form.username);
  if (!user || !user.enabled || user.serviceAccountClientId || !passwordMatches(user, form.password)) {
    return loginPage(res, path, 'Invalid username or password.');
  }
  const { params } = details;
  const grant = new provider.Grant({ accountId: user.id, clientId: params.client_id });
  grant.addOIDCScope(String(params.scope || 'openid'));
  const audience = audienceOf(clientById.get(params.client_id));
  if (audience) grant.addResourceScope(audience, '');
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { login: { accountId: user.id }, consent: { grantId } },
    { mergeWithLastSubmission: false });
}

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://local');
    if (!url.pathname.startsWith(`${prefix}/`) && url.pathname !== prefix) {
      res.writeHead(404).end();
      return;
    }
    if (url.pathname.startsWith(`${prefix}/login-actions/`)) {
      await interaction(req, res, url.pathname);
      return;
    }
    // mounted at /realms/<realm>: the provider sees the rest, and the whole path as originalUrl
    req.originalUrl = req.url;
    req.url = req.url.slice(prefix.length) || '/';
    callback(req, res);
  } catch (error) {
    if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(String(error.message || error));
  }
});

server.listen(Number(process.env.KYODO_REALM_PORT || 0), '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
