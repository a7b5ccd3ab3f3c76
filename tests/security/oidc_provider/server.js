// Runs the npm `oidc-provider` (OpenID certified) for kyodo's interoperability tests.
// Listens on a free 127.0.0.1 port, then prints one JSON line {"issuer": ...} on stdout.
// A client-credentials client gets RFC 9068 JWT access tokens for the resource
// `urn:kyodo:gateway` (resource indicators must be on for JWT access tokens).
import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

const AUDIENCE = process.env.KYODO_INTEROP_AUDIENCE || 'urn:kyodo:gateway';
const RESOURCE_SCOPES = 'identity:read childcare:read';
// Extra clients for the multi-issuer tests: [{"client_id", "client_secret", "claims": {...}}].
// A client-credentials token's `sub` is its client id, so a test can make this issuer claim any subject.
const EXTRA_CLIENTS = JSON.parse(process.env.KYODO_INTEROP_EXTRA_CLIENTS || '[]');
const DEFAULT_CLAIMS = { muni: '282103', roles: ['staff'] };
const CLAIMS_BY_CLIENT = Object.fromEntries(EXTRA_CLIENTS.map((c) => [c.client_id, c.claims || {}]));

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256', kid: `interop-${Date.now()}` };

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    jwks: { keys: [signingKey] },
    clients: [{
      client_id: 'kyodo-interop',
      client_secret: 'kyodo-interop-secret',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: RESOURCE_SCOPES,
    }, ...EXTRA_CLIENTS.map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: RESOURCE_SCOPES,
    }))],
    scopes: ['openid', ...RESOURCE_SCOPES.split(' ')],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resourceIndicator) => {
          if (resourceIndicator !== AUDIENCE) throw new errors.InvalidTarget();
          return {
            scope: RESOURCE_SCOPES,
            audience: AUDIENCE,
            accessTokenTTL: 300,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    // Claims kyodo's default claim mapping reads (muni, roles) on top of the standard ones.
    extraTokenClaims: (ctx, token) => CLAIMS_BY_CLIENT[token.clientId] || DEFAULT_CLAIMS,
  });
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
