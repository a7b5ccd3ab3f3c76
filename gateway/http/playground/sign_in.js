// Playground sign-in against the dev IdP: authorization code + PKCE (S256) in the browser.
// The access token lives in this tab's sessionStorage only (gone when the tab closes, never
// in localStorage or a cookie); GraphiQL's fetcher sends it as `Authorization: Bearer …`.
// The refresh token is kept in memory only: it renews the short-lived access token until the
// page reloads, after which "Sign in" is needed again once the access token expires.
"use strict";

const KyodoSignIn = (() => {
  const TOKEN_KEY = "kyodo.playground.accessToken";
  const NAME_KEY = "kyodo.playground.name";
  const PENDING_KEY = "kyodo.playground.pendingSignIn";
  const RENEW_BEFORE_MS = 30000; // renew when the access token has less life than this left
  let control = null; // { config, element, notice, expiryTimer } once start() ran
  let renewal = null; // { tokenEndpoint, refreshToken } in memory only

  function base64url(bytes) {
    let binary = "";
    for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function randomToken() {
    return base64url(crypto.getRandomValues(new Uint8Array(32)));
  }

  async function s256(verifier) {
    return base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  }

  // The claims are only shown to the developer; the gateway verifies the signature.
  function claimsOf(token) {
    try {
      const binary = atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"));
      return JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
    } catch {
      return null;
    }
  }

  function redirectUri(config) {
    return new URL(config.redirectPath, window.location.href).toString();
  }

  async function discover(issuer) {
    let response;
    try {
      response = await fetch(issuer + "/.well-known/openid-configuration");
    } catch {
      throw new Error(`the dev IdP does not answer at ${issuer} (is \`make dev\` running?)`);
    }
    if (!response.ok) throw new Error(`the dev IdP's discovery answered ${response.status}`);
    return response.json();
  }

  async function signIn(config) {
    const provider = await discover(config.issuer);
    const verifier = randomToken();
    const state = randomToken();
    sessionStorage.setItem(PENDING_KEY, JSON.stringify({ state, verifier, tokenEndpoint: provider.token_endpoint }));
    const url = new URL(provider.authorization_endpoint);
    url.search = new URLSearchParams({
      response_type: "code",
      client_id: config.clientId,
      redirect_uri: redirectUri(config),
      scope: config.scope,
      state,
      code_challenge: await s256(verifier),
      code_challenge_method: "S256",
    }).toString();
    window.location.assign(url.toString());
  }

  // Back from the IdP with ?code=…&state=… (or ?error=…): trade the code for tokens.
  async function finishSignIn(config) {
    const params = new URLSearchParams(window.location.search);
    if (!params.has("code") && !params.has("error")) return;
    const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) || "null");
    sessionStorage.removeItem(PENDING_KEY);
    // The code is single-use: keep it out of the address bar and the history.
    window.history.replaceState(null, "", window.location.pathname);
    if (params.has("error")) throw new Error(params.get("error_description") || params.get("error"));
    if (!pending || pending.state !== params.get("state")) {
      throw new Error("the answer does not belong to a sign-in started in this tab");
    }
    const response = await fetch(pending.tokenEndpoint, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: params.get("code"),
        redirect_uri: redirectUri(config),
        client_id: config.clientId,
        code_verifier: pending.verifier,
      }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok || !body.access_token) {
      throw new Error(body.error_description || body.error || `the token endpoint answered ${response.status}`);
    }
    keep(body, pending.tokenEndpoint);
    // The ID token's name is only shown beside the subject; nothing trusts it.
    const name = body.id_token && (claimsOf(body.id_token) || {}).name;
    if (name) sessionStorage.setItem(NAME_KEY, name);
    else sessionStorage.removeItem(NAME_KEY);
  }

  function keep(tokens, tokenEndpoint) {
    sessionStorage.setItem(TOKEN_KEY, tokens.access_token);
    renewal = tokens.refresh_token ? { tokenEndpoint, refreshToken: tokens.refresh_token } : null;
    if (control) control.notice = null;
  }

  // The stored token and its claims, or null; an expired token is dropped.
  function current() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) return null;
    const claims = claimsOf(token);
    if (!claims || (claims.exp && claims.exp * 1000 <= Date.now())) {
      forget();
      if (control) control.notice = "Signed out: the token expired.";
      return null;
    }
    return { token, claims };
  }

  // Trade the in-memory refresh token for a new access token (the IdP rotates the refresh token).
  async function renew() {
    const { tokenEndpoint, refreshToken } = renewal;
    renewal = null; // used once, whatever happens
    const response = await fetch(tokenEndpoint, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "refresh_token", refresh_token: refreshToken, client_id: control.config.clientId,
      }),
    }).catch(() => null);
    const body = response && response.ok ? await response.json().catch(() => ({})) : {};
    if (body.access_token) keep(body, tokenEndpoint);
  }

  function forget() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(NAME_KEY);
    renewal = null;
  }

  function signOut() {
    forget();
    render();
  }

  function render(message) {
    if (!control) return;
    const { config, element } = control;
    const signedIn = current();
    clearTimeout(control.expiryTimer);
    const status = document.createElement("span");
    status.className = "kyodo-sign-in-status";
    const button = document.createElement("button");
    button.type = "button";
    if (signedIn) {
      const { sub, roles = [], muni } = signedIn.claims;
      const name = sessionStorage.getItem(NAME_KEY);
      const details = [name ? sub : "", roles.join(", "), muni].filter(Boolean).join(" · ");
      status.textContent = `Signed in as ${name || sub} (${details})`;
      status.dataset.subject = sub;
      button.textContent = "Sign out";
      button.addEventListener("click", signOut);
      // Show the sign-out when the token runs out unless a request renews it first.
      const left = signedIn.claims.exp ? signedIn.claims.exp * 1000 - Date.now() : null;
      if (left !== null) control.expiryTimer = setTimeout(() => render(), left + 1000);
    } else {
      status.textContent = message || control.notice || `Not signed in · dev IdP ${config.issuer}`;
      control.notice = null;
      button.textContent = "Sign in";
      button.addEventListener("click", () => {
        button.disabled = true;
        signIn(config).catch((error) => render(`Sign-in failed: ${error.message}`));
      });
    }
    element.replaceChildren(status, button);
  }

  async function start(config, element) {
    control = { config, element };
    let message;
    try {
      await finishSignIn(config);
    } catch (error) {
      message = `Sign-in failed: ${error.message}`;
    }
    render(message);
  }

  // Headers for the next GraphQL request, renewing a token about to expire.
  async function headers() {
    let signedIn = current();
    const expiresAt = signedIn && signedIn.claims.exp ? signedIn.claims.exp * 1000 : Infinity;
    if (renewal && (!signedIn || expiresAt - Date.now() < RENEW_BEFORE_MS)) {
      await renew();
      signedIn = current();
      render();
    } else if (!signedIn && control && control.notice) {
      render();
    }
    return signedIn ? { Authorization: `Bearer ${signedIn.token}` } : {};
  }

  return { start, headers, signOut };
})();
