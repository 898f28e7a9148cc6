// The patrol app's API client: the crew's API token, never a cookie, never the HTTP cache.
import { apiClient } from "../common/api.js";
import { kv } from "./store.js";

export { ApiError, errorText, newKey } from "../common/api.js";

export const api = apiClient({
  credentials: "omit",
  cache: "no-store",
  authorize(headers) {
    const token = kv.get("token");
    if (token) headers.Authorization = "Token " + token;
  },
});
