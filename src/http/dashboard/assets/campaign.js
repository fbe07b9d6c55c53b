// A campaign: its numbers, activity chart, funnel, breakdown by type, and its leads.
import { download, get } from "./api.js";
import { badge, count, empty, failure, h, leadCount, moreButton, percent, tiles, time } from "./ui.js";

const SERIES = [
  ["sent", "Sent", "#4c6ef5"],
  ["opened", "Opened", "#12b886"],
  ["clicked", "Clicked", "#fab005"],
  ["replied", "Replied", "#e64980"],
  ["bounced", "Bounced", "#868e96"],
];

export async function campaignPage(id, params) {
  const bucket = params.get("bucket") === "hour" ? "hour" : "day";
  const campaign = await get(`/api/campaigns/${encodeURIComponent(id)}/stats`);
  const stats = campaign.stats;
  const last = stats.last_event_at ? new Date(stats.last_event_at) : new Date();
  const end = new Date(last.getTime() + 3600000);
  const span = bucket === "hour" ? 7 * 86400000 : Math.max(30 * 86400000, end - new Date(stats.first_event_at ?? end));
  const start = new Date(Math.max(end.getTime() - span, end.getTime() - 400 * 86400000));
  const [series, leads, steps, kept] = await Promise.all([
    get(`/api/campaigns/${encodeURIComponent(id)}/timeseries`, { bucket, from: start.toISOString(), to: end.toISOString() }),
    get("/api/leads", { campaign_id: id, limit: 25 }),
    get(`/api/campaigns/${encodeURIComponent(id)}/steps`),
    get("/api/kept-events", { campaign_id: id, limit: 20 }),
  ]);
  const content = h("div", {},
    h("p", { class: "muted" }, campaign.status ? [campaignStatus(campaign.status), " "] : null,
      campaign.name ? `Campaign ${id} · ` : "", "First event ", time(stats.first_event_at), " · last event ", time(stats.last_event_at),
      " · ", h("a", { href: `#/replies?campaign=${encodeURIComponent(id)}` }, "its replies")),
    tiles(stats),
    h("section", { "aria-labelledby": "activity" },
      h("div", { class: "bar-row" },
        h("h2", { id: "activity" }, "Activity"),
        h("div", { class: "switch", role: "group", "aria-label": "Bucket" },
          ["day", "hour"].map((b) => h("a", { href: `#/campaign/${encodeURIComponent(id)}?bucket=${b}`, "aria-current": b === bucket ? "true" : null }, b === "day" ? "Daily" : "Hourly")))),
      chart(series)),
    h("div", { class: "columns" },
      h("section", { "aria-labelledby": "funnel" }, h("h2", { id: "funnel" }, "Funnel"), funnel(stats)),
      h("section", { "aria-labelledby": "types" }, h("h2", { id: "types" }, "By event type"), byType(stats))),
    h("section", { "aria-labelledby": "steps" }, h("h2", { id: "steps" }, "Sequence steps"), stepTable(steps.steps)),
    leadsSection(id, leads),
    h("section", { "aria-labelledby": "kept" }, h("h2", { id: "kept" }, "Other Smartlead events ", h("span", { class: "muted" }, "(newest received first)")), keptPages(id, kept)));
  return { title: campaign.name ?? `Campaign ${id}`, content };
}

/// Smartlead's status of a campaign (`PAUSED`, …) as a badge: as its newest event said.
export function campaignStatus(status) {
  const label = status.toLowerCase();
  return h("span", { class: `badge status-${label}`, title: "Smartlead's status, as the campaign's newest event said" }, label);
}

const STEP_KINDS = [["sent", "Sent"], ["opened", "Opened"], ["clicked", "Clicked"], ["replied", "Replied"], ["bounced", "Bounced"], ["unsubscribed", "Unsub."]];

/// Each step's events of each kind, the leads behind them underneath (a lead opening the
/// step's email five times: 5 opens, 1 lead), and its open and reply rates over leads.
function stepTable(steps) {
  if (steps.length === 0) return empty("No sequence steps yet.");
  const per = (n, sent) => (sent ? percent(n / sent) : "—");
  return h("div", { class: "table-wrap" }, h("table", { class: "steps" },
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Step"),
      STEP_KINDS.map(([, label]) => h("th", { scope: "col", class: "num", title: "events, and the leads they came from" }, label)),
      h("th", { scope: "col", class: "num", title: "leads who opened this step's email ÷ leads it was sent to" }, "Opened / sent"),
      h("th", { scope: "col", class: "num", title: "leads who replied to this step's email ÷ leads it was sent to" }, "Replied / sent"))),
    h("tbody", {}, steps.map((s) => h("tr", { "data-step": s.step },
      h("th", { scope: "row" }, `Step ${s.step}`),
      STEP_KINDS.map(([kind]) => h("td", { class: "num", "data-kind": kind, "data-leads": s.unique_leads[kind] },
        h("span", { class: "events" }, count(s[kind])),
        s[kind] ? h("span", { class: "cell-note muted" }, leadCount(s.unique_leads[kind])) : null)),
      h("td", { class: "num" }, per(s.unique_leads.opened, s.unique_leads.sent)),
      h("td", { class: "num" }, per(s.unique_leads.replied, s.unique_leads.sent)))))));
}

/// What a kept event says, in a few words.
function keptSummary(event) {
  const data = event.event_data ?? {};
  const category = data.lead_category?.new_name ?? data.category;
  if (category) return `category → ${category}`;
  if (data.campaign_status ?? data.status) return `status: ${data.campaign_status ?? data.status}`;
  return "";
}

/// The campaign's kept events (`first`, a page of `/api/kept-events`), 20 at a time.
function keptPages(campaign, first) {
  if (first.events.length === 0) return empty("No other events.");
  const body = h("tbody", {}, first.events.map(keptRow));
  return h("div", {},
    h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Event"), h("th", { scope: "col" }, "Lead"), h("th", { scope: "col" }, "What"), h("th", { scope: "col" }, "When"))),
      body)),
    moreButton("More events", first.next_cursor, async (cursor) => {
      const page = await get("/api/kept-events", { campaign_id: campaign, limit: 20, cursor });
      body.append(...page.events.map(keptRow));
      return page.next_cursor;
    }));
}

function keptRow(event) {
  return h("tr", { "data-event": event.id },
    h("th", { scope: "row" }, event.event_type.toLowerCase().replaceAll("_", " ")),
    h("td", {}, event.lead_id ? h("a", { href: `#/lead/${event.lead_id}` }, event.email) : event.email ?? "—"),
    h("td", {}, keptSummary(event)),
    h("td", {}, time(event.event_timestamp ?? event.received_at)));
}

/// A time series (a campaign's or the user's) as one line per kind. The holder names the range
/// and each line's total, for screen readers (its label) and scripts (`data-*`).
export function chart(series) {
  const x = series.series.map((b) => new Date(b.start).getTime() / 1000);
  const kind = (name) => (b) => (b.counts[`email_${name}`] ?? 0) + (b.counts[`email_follow_up_${name}`] ?? 0);
  const data = [x, ...SERIES.map(([name]) => series.series.map(kind(name)))];
  const totals = Object.fromEntries(SERIES.map(([name], i) => [name, data[i + 1].reduce((sum, n) => sum + n, 0)]));
  const holder = h("div", {
    class: "chart", role: "img",
    "aria-label": `Events per ${series.bucket}: ${SERIES.map(([name, label]) => `${label.toLowerCase()} ${count(totals[name])}`).join(", ")}`,
    "data-bucket": series.bucket, "data-from": series.from, "data-to": series.to, "data-totals": JSON.stringify(totals),
  });
  // uPlot needs the holder's width: draw once it is in the document.
  requestAnimationFrame(() => {
    if (!window.uPlot || !holder.isConnected) return;
    const width = Math.max(280, holder.clientWidth);
    const plot = new window.uPlot({
      width, height: 240,
      scales: { x: { time: true } },
      axes: [{ stroke: "currentColor" }, { stroke: "currentColor" }],
      series: [{}, ...SERIES.map(([, label, stroke]) => ({ label, stroke, width: 2 }))],
      legend: { live: true },
    }, data, holder);
    new ResizeObserver(() => plot.setSize({ width: Math.max(280, holder.clientWidth), height: 240 })).observe(holder);
  });
  return holder;
}

function funnel(stats) {
  const steps = [["sent", "Sent"], ["opened", "Opened"], ["clicked", "Clicked"], ["replied", "Replied"]];
  const top = stats.headline.sent.unique_leads || 1;
  let previous = null;
  return h("ol", { class: "funnel" }, steps.map(([kind, label]) => {
    const leads = stats.headline[kind].unique_leads;
    const share = previous === null ? null : previous ? leads / previous : null;
    previous = leads;
    return h("li", { "data-kind": kind },
      h("span", { class: "funnel-label" }, label),
      h("span", { class: "bar wide", "aria-hidden": "true" }, h("span", { "data-w": Math.min(100, (leads / top) * 100) })),
      h("span", { class: "num", "data-leads": leads }, leadCount(leads)),
      h("span", { class: "num muted", title: "of the step before" }, share === null ? "" : percent(share)));
  }));
}

function byType(stats) {
  const rows = Object.entries(stats.by_type).filter(([, c]) => c.events > 0);
  if (rows.length === 0) return empty("No email events.");
  return h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Type"), h("th", { scope: "col", class: "num" }, "Events"), h("th", { scope: "col", class: "num" }, "Unique leads"))),
    h("tbody", {}, rows.map(([type, c]) => h("tr", {}, h("th", { scope: "row" }, type.replace(/^email_/, "").replaceAll("_", " ")), h("td", { class: "num" }, count(c.events)), h("td", { class: "num" }, count(c.unique_leads)))))));
}

/// Who the lead is, as Smartlead named them: "First Last · Company" (empty when unknown).
export function leadWho(lead) {
  const name = [lead.first_name, lead.last_name].filter(Boolean).join(" ");
  return [name, lead.company].filter(Boolean).join(" · ");
}

export function leadBadges(lead) {
  const badges = [];
  if (lead.last_email_event) badges.push(badge(lead.last_email_event.replace(/^email_/, "").replaceAll("_", " "), lead.last_email_event.replace(/^email_(follow_up_)?/, "")));
  if (lead.smartlead_category) badges.push(badge(lead.smartlead_category, "category"));
  return badges;
}

/// The campaign's leads, 25 at a time, and a search among them (the list's `q`).
function leadsSection(id, first) {
  const params = { campaign_id: id, limit: 25 };
  const holder = h("div", {}, leadPages(first, params, "No leads yet."));
  const input = h("input", { type: "search", name: "q", placeholder: "Name, company or email", maxlength: "100", "aria-label": "Find a lead of this campaign" });
  const kind = h("select", { name: "last_kind", "aria-label": "Latest activity" },
    h("option", { value: "" }, "Any activity"),
    LAST_KINDS.map(([value, label]) => h("option", { value }, label)));
  const form = h("form", { class: "lead-filter", role: "search" }, kind, input, h("button", { type: "submit" }, "Find"));
  kind.addEventListener("change", () => form.requestSubmit());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const q = input.value.trim();
    const query = { ...params, ...(q ? { q } : {}), ...(kind.value ? { last_kind: kind.value } : {}) };
    const none = q || kind.value ? "No lead of this campaign matches." : "No leads yet.";
    holder.dataset.ready = "0";
    try {
      const found = await get("/api/leads", query);
      holder.replaceChildren(leadPages(found, query, none));
    } catch (error) {
      holder.replaceChildren(failure(error, () => form.requestSubmit()));
    }
    holder.dataset.ready = "1";
  });
  return h("section", { "aria-labelledby": "leads" },
    h("div", { class: "bar-row" }, h("h2", { id: "leads" }, "Leads, newest activity first"), form),
    holder);
}

/// The leads of `first` (a page of `/api/leads?…params`) as a table, the next page on demand.
export function leadPages(first, params, none) {
  if (first.leads.length === 0) return empty(none);
  const table = leadTable(first.leads);
  return h("div", {}, table, h("div", { class: "list-actions" },
    moreButton("More leads", first.next_cursor, async (cursor) => {
      const page = await get("/api/leads", { ...params, cursor });
      table.querySelector("tbody").append(...page.leads.map(leadRow));
      return page.next_cursor;
    }),
    exportButton(params)));
}

/// A lead's latest activity, as the campaign's lead filter offers it (`last_kind`).
const LAST_KINDS = [["replied", "Replied"], ["opened", "Opened"], ["clicked", "Clicked"], ["sent", "Sent"], ["bounced", "Bounced"], ["unsubscribed", "Unsubscribed"]];

/// "Download CSV": every lead of the list (all pages), as `/api/leads/export` writes them.
function exportButton(params) {
  const { campaign_id, q, last_kind } = params;
  const name = `leads${campaign_id ? `-${campaign_id}` : ""}${last_kind ? `-${last_kind}` : ""}${q ? "-search" : ""}.csv`;
  const button = h("button", { type: "button", class: "download" }, "Download CSV");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await download("/api/leads/export", { campaign_id, q, last_kind }, name);
      button.textContent = "Download CSV";
    } catch {
      button.textContent = "Download CSV (that failed: try again)";
    }
    button.disabled = false;
  });
  return button;
}

export function leadTable(leads) {
  if (leads.length === 0) return empty("No leads yet.");
  return h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Lead"), h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Last activity"))),
    h("tbody", {}, leads.map(leadRow))));
}

/// A lead's row: its address (to its page) and who it is, its badges, its latest activity.
export function leadRow(lead) {
  return h("tr", {},
    h("th", { scope: "row" }, h("a", { href: `#/lead/${lead.id}` }, lead.email), leadWho(lead) ? h("div", { class: "muted lead-who" }, leadWho(lead)) : null),
    h("td", {}, leadBadges(lead)),
    h("td", {}, time(lead.last_event_timestamp)));
}
