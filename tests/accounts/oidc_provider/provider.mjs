// A real OpenID Provider (panva/oidc-provider) for the test suite, on loopback.
// Usage: node provider.mjs CONFIG.json   (prints "listening <port>" once it accepts requests)
// CONFIG: {issuer, port, clients: [...], peopleFile, jwks: {keys}}; peopleFile holds
// {login: {email, name, groups}} and is read again at every sign-in.
// The provider's own development login page signs in any listed login (any password).
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: config.jwks,
  cookies: { keys: ['firstfix-test-provider-cookie-key'] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
  // Put the requested claims into the ID token itself, as Entra ID and Keycloak do.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const people = JSON.parse(readFileSync(config.peopleFile, 'utf8'));
    const account = people[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email_verified: true, ...account };
      },
    };
  },
});

const server = provider.listen(config.port, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
