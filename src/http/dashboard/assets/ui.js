// Small helpers: build DOM without innerHTML (nothing the API returns is ever parsed as HTML),
// format numbers and times, and the shared pieces (KPI tiles, tables, states).

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const integer = new Intl.NumberFormat("en-US");
export const count = (n) => integer.format(n ?? 0);
/// "1 lead", "2 leads".
export const leadCount = (n) => `${count(n)} ${n === 1 ? "lead" : "leads"}`;
export const percent = (r) => (r === null || r === undefined ? "—" : `${(r * 100).toFixed(1)}%`);

/// A UTC time, with the reader's local time on hover.
export function time(iso) {
  if (!iso) return h("span", {}, "—");
  const at = new Date(iso);
  const utc = `${iso.slice(0, 16).replace("T", " ")} UTC`;
  return h("time", { datetime: iso, title: `${at.toLocaleString()} (your time)` }, utc);
}

export function ago(iso) {
  if (!iso) return "never";
  const minutes = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 60000));
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} minute${minutes === 1 ? "" : "s"} ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} hour${hours === 1 ? "" : "s"} ago`;
  return `${Math.round(hours / 24)} days ago`;
}

/// The headline kinds, with how their rate is computed (shown on hover).
export const KINDS = [
  ["sent", "Sent", null, null],
  ["opened", "Opened", "open_rate", "unique leads who opened ÷ unique leads sent to"],
  ["clicked", "Clicked", "click_rate", "unique leads who clicked ÷ unique leads sent to"],
  ["replied", "Replied", "reply_rate", "unique leads who replied ÷ unique leads sent to"],
  ["bounced", "Bounced", "bounce_rate", "unique leads who bounced ÷ unique leads sent to"],
  ["unsubscribed", "Unsubscribed", "unsubscribe_rate", "unique leads who unsubscribed ÷ unique leads sent to"],
];

/// What a tile's lead count means in a period: the leads whose first such event falls in it.
const FIRST_IN_PERIOD = {
  sent: "leads first sent to in this period",
  opened: "leads who first opened in this period",
  clicked: "leads who first clicked in this period",
  replied: "leads who first replied in this period",
  bounced: "leads who first bounced in this period",
  unsubscribed: "leads who first unsubscribed in this period",
};

/// The headline tiles: each kind's events, and its rate over all time. In a period a rate would
/// divide the leads first doing a thing in it by the leads first sent to in it, two different
/// sets of leads (opens of last week's sends count, their sends do not), and pass 100%: there
/// the tiles give each kind's leads instead.
export function tiles(stats, inPeriod = false) {
  return h("section", { class: "tiles", "aria-label": "Key numbers" },
    KINDS.map(([kind, label, rate, formula]) => {
      const c = stats.headline[kind];
      const leads = () => h("span", { class: "leads", title: inPeriod ? FIRST_IN_PERIOD[kind] : "unique leads sent to", "data-leads": c.unique_leads },
        leadCount(c.unique_leads));
      return h("div", { class: "tile", "data-kind": kind },
        h("div", { class: "tile-label" }, label),
        h("div", { class: "tile-value", "data-value": c.events }, count(c.events)),
        h("div", { class: "tile-sub" },
          rate && !inPeriod
            ? h("span", { class: "rate", title: formula, "data-rate": stats.rates[rate] ?? "" }, percent(stats.rates[rate]))
            : leads()));
    }));
}

/// A rate cell with its small bar.
export function rateCell(rate, formula) {
  const width = rate === null || rate === undefined ? 0 : Math.min(100, rate * 100);
  return h("td", { class: "num", title: formula },
    h("span", { class: "bar", "aria-hidden": "true" }, h("span", { style: null, "data-w": width })),
    percent(rate));
}

/// Applies the bar widths set in `data-w` (the CSP forbids inline style attributes).
export function sizeBars(root) {
  for (const bar of root.querySelectorAll("[data-w]")) bar.style.width = `${bar.dataset.w}%`;
}

export function loading(what) {
  return h("div", { class: "state loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), `Loading ${what}…`);
}

export function empty(message, hint) {
  return h("div", { class: "state empty" }, h("p", {}, message), hint ? h("p", { class: "hint" }, hint) : null);
}

/// What went wrong, with the API's error code (an error boundary for a page).
export function failure(error, retry) {
  const unavailable = error.status === 503 || error.status === 0;
  return h("div", { class: "state error", role: "alert" },
    h("p", {}, unavailable ? "The service is unavailable right now." : "Something went wrong."),
    h("p", { class: "hint" }, h("code", {}, error.code ?? "error"), " ", error.message ?? ""),
    unavailable ? h("p", { class: "hint" }, "It usually recovers within seconds.") : null,
    h("button", { type: "button", onclick: retry }, "Retry"));
}

export function badge(text, kind) {
  return h("span", { class: `badge ${kind ?? ""}` }, text);
}

/// A "More …" button under a list: on a click, `next(cursor)` fetches and shows the page after
/// `cursor` and returns the cursor after it (null on the last page, which hides the button).
export function moreButton(label, cursor, next) {
  const more = h("button", { type: "button", class: "more", hidden: !cursor }, label);
  more.addEventListener("click", async () => {
    more.disabled = true;
    try {
      cursor = await next(cursor);
      more.hidden = !cursor;
      more.textContent = label;
    } catch {
      more.textContent = `${label} (that failed: try again)`;
    }
    more.disabled = false;
  });
  return more;
}
