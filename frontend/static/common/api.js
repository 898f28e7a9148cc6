// fetch() for the JSON API. Each page makes its client with its own credentials: the patrol app
// an API token, the command map the session cookie and its CSRF token. A network failure throws
// TypeError (the app queues); an HTTP error throws ApiError with the server's body.
export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.detail || JSON.stringify(body))) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

// authorize(headers, hasBody) adds the client's credentials to a request's headers.
export function apiClient({ authorize, credentials, cache }) {
  return async function api(path, { method = "GET", body, key } = {}) {
    const headers = { Accept: "application/json" };
    // A FormData body (a photo) goes as multipart, its boundary set by the browser.
    const form = typeof FormData !== "undefined" && body instanceof FormData;
    if (body !== undefined && !form) headers["Content-Type"] = "application/json";
    if (key) headers["Idempotency-Key"] = key;
    authorize(headers, body !== undefined);
    const res = await fetch(path, {
      method,
      headers,
      body: body === undefined || form ? body : JSON.stringify(body),
      cache,
      credentials,
    });
    let data = null;
    try {
      data = await res.json();
    } catch {
      data = null;
    }
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  };
}

// What to tell the user of a failed request: the server's reason, else the status or the error.
export function errorText(error) {
  if (!(error instanceof ApiError)) return error.message;
  const body = error.body;
  if (body && body.detail) return body.detail;
  // A 400 names its fields: the first message says what to fix.
  const first = body && typeof body === "object" ? Object.values(body).flat()[0] : null;
  return typeof first === "string" ? first : error.status;
}

// An Idempotency-Key: a retried request is applied once.
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
