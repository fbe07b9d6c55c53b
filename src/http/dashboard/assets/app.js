// The dashboard: a hash-routed page over the read API only (what it shows, a script can get).
import { ApiError, get, token } from "./api.js";
import { campaignPage, campaignStatus, chart } from "./campaign.js";
import { leadPage, repliesPage, searchPage } from "./leads.js";
import { KINDS, ago, count, empty, failure, h, loading, percent, rateCell, sizeBars, tiles } from "./ui.js";

/// What the sign-in page says when the API refused the stored token.
const REFUSED_TOKEN = "Your token was not accepted (unknown, revoked or expired). Paste a valid one.";

const main = document.getElementById("main");
const nav = document.getElementById("nav");

/// Renders a page: a loading state, then what `build` returns, or the error boundary. Marks
/// `data-ready` when done, for the browser tests (and anyone scripting the page).
async function render(title, build) {
  document.title = `${title} · smartlead-hub`;
  main.dataset.ready = "0";
  main.replaceChildren(h("h1", {}, title), loading(title.toLowerCase()));
  try {
    // A page may name itself once it has loaded (a campaign's name): `{ title, content }`.
    const built = await build();
    const [heading, content] = built instanceof Node ? [title, built] : [built.title, built.content];
    document.title = `${heading} · smartlead-hub`;
    main.replaceChildren(h("h1", {}, heading), content);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return signIn(REFUSED_TOKEN);
    main.replaceChildren(h("h1", {}, title), failure(error, route));
  }
  sizeBars(main);
  main.dataset.ready = "1";
}

function signIn(message) {
  token.clear();
  clearInterval(refreshTimer);
  nav.hidden = true;
  document.title = "Sign in · smartlead-hub";
  const input = h("input", { id: "token", name: "token", type: "password", required: true, autocomplete: "off", spellcheck: "false" });
  const form = h("form", { class: "signin", onsubmit: async (event) => {
    event.preventDefault();
    token.set(input.value.trim());
    location.hash = "#/";
    route();
  } },
    h("label", { for: "token" }, "API token"),
    input,
    h("button", { type: "submit" }, "Sign in"),
    h("p", { class: "hint" }, "Issue one with ", h("code", {}, "smartlead-hub tokens issue --user <id>"),
      " (", h("code", {}, "users list"), " shows the ids, ", h("code", {}, "users add"), " creates a user)",
      ", or run ", h("code", {}, "smartlead-hub serve --demo"), " and use the link it prints."));
  const notice = message ? [h("p", { class: "notice", role: "alert" }, message)] : [];
  main.replaceChildren(h("h1", {}, "Sign in"), ...notice, form);
  main.dataset.ready = "1";
  input.focus();
}

async function greet() {
  const me = await get("/api/me");
  const who = me.name ? `${me.name} · ${me.email}` : me.email;
  document.getElementById("who").replaceChildren(...[who, tokenExpiry(me.token_expires_at)].filter(Boolean));
  nav.hidden = false;
}

/// A token issued with `--expires-in` is refused from its expiry on, and only an operator can
/// issue another: say when, so that a lapse is not a surprise, and more loudly in its last 3 days.
function tokenExpiry(expiresAt) {
  if (!expiresAt) return null;
  const hours = (new Date(expiresAt).getTime() - Date.now()) / 3600000;
  const left = hours < 48
    ? `${Math.max(1, Math.round(hours))} hour${Math.round(hours) > 1 ? "s" : ""}`
    : `${Math.round(hours / 24)} days`;
  return h("span", { id: "token-expiry", class: hours < 72 ? "expiry soon" : "expiry",
    title: `${new Date(expiresAt).toLocaleString()} (your time). Ask an operator for a new token before then.` },
  ` · token expires in ${left}`);
}

const RANGES = [["7", "7 days"], ["30", "30 days"], ["90", "90 days"], ["all", "All time"], ["custom", "Custom"]];

/// `from`/`to` for a range choice, as whole UTC days ending tomorrow (so today counts).
function rangeParams(choice, customFrom, customTo) {
  if (choice === "all") return {};
  if (choice === "custom") return { from: customFrom ? `${customFrom}T00:00:00Z` : "", to: customTo ? `${customTo}T00:00:00Z` : "" };
  const end = new Date();
  end.setUTCHours(24, 0, 0, 0);
  const start = new Date(end.getTime() - Number(choice) * 86400000);
  return { from: start.toISOString(), to: end.toISOString() };
}

/// The overview chart's series: the period's hours for 7 days, its days otherwise; all time (or
/// an open start) runs from the first event, at most 400 days back.
function activityRange(choice, range, all) {
  const DAY = 86400000;
  // A period ends tomorrow (so that today counts); its chart ends within the hour, not at zeros.
  const end = range.to ? new Date(Math.min(new Date(range.to).getTime(), Date.now() + 3600000)) : new Date(new Date(all.last_event_at ?? Date.now()).getTime() + 3600000);
  const first = range.from ? new Date(range.from) : new Date(all.first_event_at ?? end.getTime() - DAY);
  const start = new Date(Math.min(end.getTime() - DAY, Math.max(first.getTime(), end.getTime() - 400 * DAY)));
  return { bucket: choice === "7" ? "hour" : "day", from: start.toISOString(), to: end.toISOString() };
}

function overview(params) {
  // All time by default: the rates are over all time (see `tiles`), and a first look at the
  // campaigns is about them.
  const choice = params.get("range") ?? "all";
  return render("Overview", async () => {
    const range = rangeParams(choice, params.get("from"), params.get("to"));
    const [stats, all, campaigns, held, me] = await Promise.all([
      get("/api/stats", range),
      range.from || range.to ? get("/api/stats") : null,
      get("/api/campaigns", { limit: 500 }),
      get("/api/held-deliveries"),
      get("/api/me"),
    ]).then(([stats, all, campaigns, held, me]) => [stats, all ?? stats, campaigns, held, me]);
    if (!stats.stats.last_event_at && campaigns.campaigns.length === 0) {
      return h("div", {}, secretNotice(me), heldNotice(held), empty("No events yet.", firstSteps(me)));
    }
    const picker = h("form", { class: "range", onchange: (event) => {
      const form = event.currentTarget;
      const next = new URLSearchParams({ range: form.range.value });
      if (form.range.value === "custom") { next.set("from", form.from.value); next.set("to", form.to.value); }
      location.hash = `#/?${next}`;
    } },
      h("label", { for: "range" }, "Period"),
      h("select", { id: "range", name: "range" }, RANGES.map(([value, label]) => h("option", { value, selected: value === choice }, label))),
      choice === "custom" ? [
        h("label", { for: "from" }, "From"), h("input", { id: "from", name: "from", type: "date", value: params.get("from") ?? "" }),
        h("label", { for: "to" }, "To"), h("input", { id: "to", name: "to", type: "date", value: params.get("to") ?? "" }),
      ] : null);
    const series = await get("/api/timeseries", activityRange(choice, range, all.stats));
    return h("div", {},
      h("div", { class: "bar-row" }, picker,
        h("p", { class: "muted", id: "last-event" }, `Last event ${ago(all.stats.last_event_at)}`),
        autoRefresh()),
      secretNotice(me),
      heldNotice(held),
      tiles(stats.stats, Boolean(range.from || range.to)),
      range.from || range.to
        ? h("p", { class: "muted", id: "period-note" }, "In a period each tile counts its events, and the leads doing it for the first time; rates are over all time.")
        : null,
      h("section", { "aria-labelledby": "activity" },
        h("h2", { id: "activity" }, "Activity ", h("span", { class: "muted" }, series.bucket === "hour" ? "(per hour)" : "(per day)")),
        chart(series)),
      h("h2", {}, "Campaigns ", h("span", { class: "muted" }, "(all time)")),
      campaignTable(campaigns.campaigns));
  });
}

/// What to do on a first visit: the exact webhook URL to paste into Smartlead (this page's own
/// address, the user's org), or how to give the user an org.
function firstSteps(me) {
  if (!me.smartlead_org_id) {
    return h("span", {}, "This user has no Smartlead org yet: ", h("code", {}, `smartlead-hub users set-org ${me.id} --org-id <org>`),
      " gives it one and its webhook URL; or try ", h("code", {}, "smartlead-hub serve --demo"), ".");
  }
  const url = `${location.origin}/api/webhooks/smartlead?org_id=${encodeURIComponent(me.smartlead_org_id)}`;
  return h("span", {}, "In Smartlead, point a webhook at ", h("code", { id: "webhook-url" }, url),
    " (with the webhook secret ", h("code", {}, "smartlead-hub credentials set-smartlead"), " stored), or try ",
    h("code", {}, "smartlead-hub serve --demo"), ".");
}

/// An org without a webhook secret (and no service-wide default) has every delivery refused
/// with 401, which Smartlead never retries: nothing on this page can change until one is stored.
function secretNotice(me) {
  if (me.webhook_secret !== "none" || !me.smartlead_org_id) return null;
  return h("p", { class: "notice", id: "secret-notice", role: "alert" },
    h("strong", {}, "Deliveries for this org are refused"),
    ": it has no webhook secret, so nothing Smartlead sends can be authenticated (and Smartlead does not retry a refusal). Store Smartlead's ",
    h("code", {}, "secret_key"), " with ", h("code", {}, `smartlead-hub credentials set-smartlead --user ${me.id} --webhook-secret <secret>`), ".");
}

const HELD_REASONS = {
  missing_event_type: "no event type",
  missing_lead_email: "no lead address",
  invalid_lead_email: "an unusable lead address",
  missing_campaign_id: "no campaign",
  invalid_timestamp: "an unreadable time",
  invalid_field_type: "a field of an unexpected type",
};

/// Deliveries Smartlead sent that this version could not read are held, not counted: the
/// numbers below lack them until an operator replays them, so say so where the numbers are.
function heldNotice(held) {
  if (!held.total) return null;
  const reasons = held.reasons.map((r) => `${HELD_REASONS[r.reason] ?? r.reason} (${count(r.count)})`).join(", ");
  const newest = held.reasons.map((r) => r.latest_received_at).sort().at(-1);
  return h("p", { class: "notice", id: "held-notice" },
    h("strong", {}, `${count(held.total)} ${held.total === 1 ? "delivery" : "deliveries"} from Smartlead held, not counted`),
    `: this version could not read ${held.total === 1 ? "it" : "them"} as an event (${reasons}; the newest ${ago(newest)}). `,
    "An operator stores them with ", h("code", {}, "smartlead-hub deliveries replay --all"),
    " once a version reads them (", h("code", {}, "deliveries list"), " shows why).");
}

const REFRESH = "smartlead-hub-refresh";
let refreshTimer = null;

/// "Refresh every 30 s": re-renders the current page while checked (remembered for the tab).
function autoRefresh() {
  const on = sessionStorage.getItem(REFRESH) === "1";
  const box = h("input", { id: "refresh", type: "checkbox", checked: on, onchange: (event) => {
    sessionStorage.setItem(REFRESH, event.currentTarget.checked ? "1" : "0");
    schedule();
  } });
  schedule();
  return h("span", { class: "refresh" }, box, h("label", { for: "refresh" }, " Refresh every 30 s"));
}

function schedule() {
  clearInterval(refreshTimer);
  refreshTimer = null;
  if (sessionStorage.getItem(REFRESH) === "1") {
    refreshTimer = setInterval(() => {
      if (!document.hidden && main.dataset.ready === "1") route();
    }, 30000);
  }
}

const COLUMNS = [
  ["campaign", "Campaign", (c) => c.name ?? c.campaign_id],
  ["sent", "Sent", (c) => c.stats.headline.sent.events],
  ["leads", "Leads", (c) => c.stats.headline.sent.unique_leads],
  ...KINDS.slice(1, 5).map(([kind, label, rate]) => [kind, `${label} %`, (c) => c.stats.rates[rate] ?? -1]),
];

function campaignTable(campaigns, sortBy = "sent", descending = true) {
  const key = COLUMNS.find(([name]) => name === sortBy)[2];
  const rows = [...campaigns].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    const order = typeof x === "string" ? x.localeCompare(y, undefined, { numeric: true }) : x - y;
    return descending ? -order : order;
  });
  const wrap = h("div", { class: "table-wrap" });
  const head = COLUMNS.map(([name, label]) => {
    const sorted = name === sortBy;
    return h("th", { scope: "col", "aria-sort": sorted ? (descending ? "descending" : "ascending") : "none", class: name === "campaign" ? "" : "num" },
      h("button", { type: "button", class: "sort", onclick: () => {
        const table = campaignTable(campaigns, name, sorted ? !descending : name !== "campaign");
        wrap.replaceWith(table);
        sizeBars(table);
        table.querySelector(`[data-col="${name}"]`)?.focus();
      }, "data-col": name }, label, sorted ? (descending ? " ▼" : " ▲") : ""));
  });
  const body = rows.map((c) => h("tr", {},
    h("th", { scope: "row" }, h("a", { href: `#/campaign/${encodeURIComponent(c.campaign_id)}` }, c.name ?? c.campaign_id),
      c.status ? [" ", campaignStatus(c.status)] : null,
      c.name ? h("span", { class: "campaign-id muted" }, c.campaign_id) : null),
    h("td", { class: "num" }, count(c.stats.headline.sent.events)),
    h("td", { class: "num" }, count(c.stats.headline.sent.unique_leads)),
    KINDS.slice(1, 5).map(([, , rate, formula]) => rateCell(c.stats.rates[rate], formula))));
  wrap.append(h("table", { class: "campaigns" }, h("caption", { class: "visually-hidden" }, "Campaigns; the column buttons sort"), h("thead", {}, h("tr", {}, head)), h("tbody", {}, body)));
  return wrap;
}

export async function route() {
  const hash = location.hash.replace(/^#/, "");
  // `#token=…` signs in directly: fragments never reach the server.
  if (hash.startsWith("token=")) {
    token.set(decodeURIComponent(hash.slice("token=".length)));
    // Whoever was signed in before, the header must name the link's user.
    nav.hidden = true;
    history.replaceState(null, "", "#/");
    return route();
  }
  if (!token.get()) return signIn();
  try {
    if (nav.hidden) await greet();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return signIn(REFUSED_TOKEN);
    return render("Overview", () => { throw error; });
  }
  const [path, query] = (hash || "/").split("?");
  const params = new URLSearchParams(query ?? "");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "campaign" && parts[1]) return render(`Campaign ${parts[1]}`, () => campaignPage(parts[1], params));
  if (parts[0] === "lead" && parts[1]) return render("Lead", () => leadPage(parts[1]));
  // `email=` is what the search links said before it searched names too.
  if (parts[0] === "search") return render("Search", () => searchPage(params.get("q") ?? params.get("email") ?? ""));
  if (parts[0] === "replies") return render("Replies", () => repliesPage(params));
  return overview(params);
}

document.getElementById("sign-out").addEventListener("click", () => signIn("Signed out."));
document.getElementById("search").addEventListener("submit", (event) => {
  event.preventDefault();
  const q = event.currentTarget.q.value.trim();
  if (q) location.hash = `#/search?q=${encodeURIComponent(q)}`;
});
window.addEventListener("hashchange", route);
route();

export { percent };
