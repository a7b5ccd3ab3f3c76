// kyodo's GraphiQL page: example tabs, the signed-in token on every request, a sign-in hint when an
// answer is refused for lack of one, a query-plan panel once the gateway returns plans, and a line
// showing the parts of an @defer answer as they arrive (GraphiQL merges them into the response pane).
// Served inline by page.py (nothing is fetched from elsewhere).
"use strict";

const KyodoPlayground = (() => {
  // Error codes that mean "who you are does not allow this": the hint suggests signing in.
  const REFUSED = new Set(["UNAUTHENTICATED", "FORBIDDEN", "UNAUTHORIZED_FIELD_OR_TYPE"]);
  const PLAN_HEADER = "apollo-expose-query-plan";
  const h = React.createElement;

  let latestPlan = "";
  const planListeners = new Set();
  let rerender = () => {};
  let planPluginShown = false;

  function refusedCodes(result) {
    const errors = (result && Array.isArray(result.errors)) ? result.errors : [];
    return errors.map((e) => e && e.extensions && e.extensions.code).filter((code) => REFUSED.has(code));
  }

  function showHint(hint, codes, signInOffered, sentToken) {
    if (!codes.length) {
      hint.hidden = true;
      hint.textContent = "";
      return;
    }
    const code = codes[0];
    let text;
    if (sentToken) {
      text = `${code}: the account of this token may not read this. Personal data goes only to the person, their ` +
        "guardian, or staff of their municipality with the right scope: sign in as one of them.";
    } else if (signInOffered) {
      text = `${code}: this needs a signed-in user. Press "Sign in" above (demo accounts, dev password ` +
        "kyodo-dev), or put an Authorization header from `kyodo token` in the Headers tab.";
    } else {
      text = `${code}: this needs an access token. Put {"Authorization": "Bearer <token>"} in the Headers ` +
        "tab (a dev token comes from `kyodo token`; `kyodo token --list` shows the demo accounts).";
    }
    hint.textContent = text;
    hint.dataset.code = code;
    hint.hidden = false;
  }

  // Incremental delivery (@defer): the initial part, then each later one as the gateway streams it.
  function partsTracker(status) {
    let later = 0;
    let entries = 0;
    const labels = new Set();
    return (part) => {
      if (!part || typeof part !== "object") return;
      const incremental = Array.isArray(part.incremental) ? part.incremental : null;
      if (!incremental && !("hasNext" in part)) return;   // a plain answer: nothing streamed
      if (incremental) {
        later += 1;
        entries += incremental.length;
        incremental.forEach((entry) => { if (entry && entry.label) labels.add(entry.label); });
      }
      const named = labels.size ? ` (${[...labels].join(", ")})` : "";
      const done = part.hasNext === false;
      status.textContent = `@defer: initial part, then ${later} deferred part${later === 1 ? "" : "s"} ` +
        `with ${entries} entr${entries === 1 ? "y" : "ies"}${named}` + (done ? " — complete" : " — receiving…");
      status.dataset.parts = String(later);
      status.dataset.entries = String(entries);
      status.dataset.complete = String(done);
      status.hidden = false;
    };
  }

  function notePlan(result) {
    const plan = result && result.extensions && result.extensions.apolloQueryPlan;
    if (!plan || typeof plan.text !== "string") return;
    latestPlan = plan.text;
    planListeners.forEach((listener) => listener(latestPlan));
    if (!planPluginShown) {
      planPluginShown = true;   // the gateway exposes plans: offer the panel from now on
      rerender();
    }
  }

  // GraphiQL keeps the operation name of a tab's earlier text (an example's) after the text is replaced
  // by an anonymous operation; the gateway would then refuse "Unknown operation named …".
  function withDefinedOperationName(params) {
    const name = params && params.operationName;
    if (!name || typeof params.query !== "string") return params;
    const defined = new RegExp(`\\b(query|mutation|subscription)\\s+${name}\\b`).test(params.query);
    return defined ? params : { ...params, operationName: undefined };
  }

  function PlanIcon() {
    return h("svg", { viewBox: "0 0 24 24", width: "1em", height: "1em", fill: "none", stroke: "currentColor",
      strokeWidth: 1.5, "aria-hidden": "true" },
      h("path", { d: "M4 5h6v4H4zM14 15h6v4h-6zM7 9v8h7M14 7h6" }));
  }

  function PlanPanel() {
    const [text, setText] = React.useState(latestPlan);
    React.useEffect(() => {
      planListeners.add(setText);
      return () => planListeners.delete(setText);
    }, []);
    return h("div", { className: "kyodo-plan" },
      h("div", { className: "graphiql-doc-explorer-title" }, "Query plan"),
      h("p", null, "How the gateway splits the last operation into subgraph fetches (sent with " +
        "Apollo-Expose-Query-Plan: true)."),
      h("pre", { className: "kyodo-plan-text" }, text || "Run an operation to see its plan."));
  }

  const planPlugin = { title: "Query plan", icon: PlanIcon, content: PlanPanel };

  function start(config, root, hint, partsStatus) {
    const url = new URL(config.endpoint, window.location.href).toString();
    const signInHeaders = async () => (typeof KyodoSignIn === "undefined" ? {} : KyodoSignIn.headers());
    // Subscriptions go over graphql-transport-ws to the same path; the token travels in connection_init
    // (a browser cannot set headers on a WebSocket). Lazy: the socket opens with the first subscription
    // and closes after the last, so the next one carries the token current then.
    let socketHeaders = {};
    const wsClient = graphqlWs.createClient({
      url: url.replace(/^http/, "ws"),
      connectionParams: () => {
        const found = Object.keys(socketHeaders).find((name) => name.toLowerCase() === "authorization");
        return found ? { Authorization: socketHeaders[found] } : {};
      },
    });
    const baseFetcher = GraphiQL.createFetcher({ url, wsClient, headers: { "apollo-require-preflight": "true" } });
    // Headers typed into GraphiQL's header editor win over the signed-in token.
    const fetcher = async (params, options) => {
      const headers = { [PLAN_HEADER]: "true", ...(await signInHeaders()), ...(options && options.headers) };
      const sentToken = Object.keys(headers).some((name) => name.toLowerCase() === "authorization");
      socketHeaders = headers;
      const inspect = (result) => {
        showHint(hint, refusedCodes(result), config.signInOffered, sentToken);
        notePlan(result);
      };
      const result = await baseFetcher(withDefinedOperationName(params), { ...options, headers });
      if (partsStatus) partsStatus.hidden = true;
      if (result && typeof result === "object" && Symbol.asyncIterator in result) {
        // GraphiQL's fetcher streams (multipart incremental delivery, subscriptions): look at each part as it
        // passes. Not an async generator: GraphiQL's "stop" calls return(), which must reach the source at once
        // (ending the subscription) rather than wait until the next event.
        const notePart = partsStatus ? partsTracker(partsStatus) : () => {};
        const source = result[Symbol.asyncIterator]();
        const parts = {
          async next() {
            const step = await source.next();
            if (!step.done) {
              // (the multipart reader yields the payloads that arrived together as one array)
              for (const payload of (Array.isArray(step.value) ? step.value : [step.value])) {
                inspect(payload);
                notePart(payload);
              }
            }
            return step;
          },
          return(value) {
            return source.return ? source.return(value) : Promise.resolve({ done: true, value });
          },
          [Symbol.asyncIterator]() { return parts; },
        };
        return parts;
      }
      if (result && typeof result === "object") inspect(result);
      return result;
    };
    const explorer = GraphiQLPluginExplorer.explorerPlugin();
    const reactRoot = ReactDOM.createRoot(root);
    rerender = () => reactRoot.render(h(GraphiQL, {
      fetcher,
      plugins: planPluginShown ? [explorer, planPlugin] : [explorer],
      defaultTabs: config.tabs,
      defaultEditorToolsVisibility: true,
    }));
    rerender();
  }

  return { start };
})();
