// The service's public API, called with the admin key of this browser session.
// The key lives in sessionStorage only: it is gone when the tab is closed.

const KEY_ITEM = "routing.console.key";
const ADMIN_ITEM = "routing.console.admin";
const MAX_RETRIES_429 = 3;

export class ApiError extends Error {
  /** status 0 means the service could not be reached. */
  constructor(status, detail, errors = null) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.detail = detail || "";
    this.errors = errors;
  }
}

const authListeners = new Set();

/** Call `listener(error)` whenever the service refuses the key (401). */
export function onAuthFailure(listener) {
  authListeners.add(listener);
}

export const session = {
  key: () => sessionStorage.getItem(KEY_ITEM),
  admin: () => sessionStorage.getItem(ADMIN_ITEM) || null,
  save(key, admin) {
    sessionStorage.setItem(KEY_ITEM, key);
    if (admin) sessionStorage.setItem(ADMIN_ITEM, admin);
    else sessionStorage.removeItem(ADMIN_ITEM);
  },
  clear() {
    sessionStorage.removeItem(KEY_ITEM);
    sessionStorage.removeItem(ADMIN_ITEM);
  },
};

function url(path, query) {
  // relative to the page, so the console also works behind a path prefix
  const target = new URL(`../${path}`, document.baseURI);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== null && value !== undefined && value !== "") target.searchParams.set(name, value);
  }
  return target;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** One API call; resolves to the JSON body, rejects with ApiError. */
export async function call(method, path, { body, query, key = session.key() } = {}) {
  const headers = { Accept: "application/json" };
  if (key) headers["X-API-Key"] = key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  for (let attempt = 0; ; attempt += 1) {
    let response;
    try {
      response = await fetch(url(path, query), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
      });
    } catch {
      throw new ApiError(0, "");
    }
    if (response.status === 429 && attempt < MAX_RETRIES_429) {
      const wait = Number(response.headers.get("Retry-After")) || 1;
      await sleep(Math.min(wait, 30) * 1000);
      continue;
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (response.ok) return data;
    const error = new ApiError(response.status, data?.detail, data?.errors ?? null);
    if (response.status === 401) for (const listener of authListeners) listener(error);
    throw error;
  }
}

export const api = {
  predict: (text, topK, complaintId, location) =>
    call("POST", "v1/predict", {
      // similar past complaints are only sent when asked for: the admin reads them here
      body: { text, top_k: topK, complaint_id: complaintId || null, location: location || null, include_similar: true },
    }),
  predictBatch: (items, topK) => call("POST", "v1/predict/batch", { body: { items, top_k: topK } }),
  feedback: ({ predictionId, agency, newAgency = false, note = null, jurisdiction = null }) =>
    call("POST", "v1/feedback", {
      body: {
        prediction_id: predictionId,
        agency,
        new_agency: newAgency,
        admin: session.admin(),
        note: note || null,
        jurisdiction: jurisdiction || null,
      },
    }),
  agencies: () => call("GET", "v1/agencies"),
  model: () => call("GET", "v1/model"),
  stats: (since, key) => call("GET", "v1/stats", { query: { since }, key }),
};
