// A campaign: its numbers, activity chart, funnel, breakdown by type, and its leads.
import { get } from "./api.js";
import { badge, count, empty, h, percent, tiles, time } from "./ui.js";

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
  const [series, leads] = await Promise.all([
    get(`/api/campaigns/${encodeURIComponent(id)}/timeseries`, { bucket, from: start.toISOString(), to: end.toISOString() }),
    get("/api/leads", { campaign_id: id, limit: 25 }),
  ]);
  return h("div", {},
    h("p", { class: "muted" }, "First event ", time(stats.first_event_at), " · last event ", time(stats.last_event_at)),
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
    h("section", { "aria-labelledby": "leads" }, h("h2", { id: "leads" }, "Leads, newest activity first"), leadTable(leads.leads)));
}

function chart(series) {
  const holder = h("div", { class: "chart", role: "img", "aria-label": "Events per bucket, one line per kind" });
  const x = series.series.map((b) => new Date(b.start).getTime() / 1000);
  const kind = (name) => (b) => (b.counts[`email_${name}`] ?? 0) + (b.counts[`email_follow_up_${name}`] ?? 0);
  const data = [x, ...SERIES.map(([name]) => series.series.map(kind(name)))];
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
      h("span", { class: "num", "data-leads": leads }, `${count(leads)} leads`),
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

export function leadBadges(lead) {
  const badges = [];
  if (lead.last_email_event) badges.push(badge(lead.last_email_event.replace(/^email_/, "").replaceAll("_", " "), lead.last_email_event.replace(/^email_(follow_up_)?/, "")));
  if (lead.smartlead_category) badges.push(badge(lead.smartlead_category, "category"));
  return badges;
}

function leadTable(leads) {
  if (leads.length === 0) return empty("No leads yet.");
  return h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Lead"), h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Last activity"))),
    h("tbody", {}, leads.map((lead) => h("tr", {},
      h("th", { scope: "row" }, h("a", { href: `#/lead/${lead.id}` }, lead.email)),
      h("td", {}, leadBadges(lead)),
      h("td", {}, time(lead.last_event_timestamp)))))));
}
