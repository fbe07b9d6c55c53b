// The read API, as the page uses it: the token from sessionStorage as a bearer token, answers as
// JSON, errors as {status, code, message} so pages can show what went wrong.

const KEY = "smartlead-hub-token";

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function urlOf(path, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(name, value);
  }
  return query.toString() ? `${path}?${query}` : path;
}

async function request(path, params) {
  let response;
  try {
    response = await fetch(urlOf(path, params), { headers: { Authorization: `Bearer ${token.get() ?? ""}` } });
  } catch {
    throw new ApiError(0, "network", "The service could not be reached.");
  }
  if (!response.ok) {
    const error = (await response.json().catch(() => null))?.error ?? {};
    throw new ApiError(response.status, error.code ?? "unknown", error.message ?? response.statusText);
  }
  return response;
}

export async function get(path, params = {}) {
  const response = await request(path, params);
  return response.json().catch(() => null);
}

/// Saves what `path` answers (a CSV export) as the file `filename`: the token goes in a header,
/// which a plain link cannot send, so the page fetches it and hands the browser the result. The
/// file starts with a byte-order mark: without one Excel reads UTF-8 as the system's code page
/// and garbles every "Müller" (the API's own answer has none, for programs).
export async function download(path, params, filename) {
  const answer = await (await request(path, params)).blob();
  const blob = new Blob(["\uFEFF", answer], { type: answer.type });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
}
