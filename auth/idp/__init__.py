"""The dev identity provider (`kyodo idp`): OIDC discovery, JWKS, authorization code + PKCE,
client credentials, refresh tokens and a card-tap sign-in, built on authlib's server components."""
