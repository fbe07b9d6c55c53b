// A lead's timeline, the lead search, and the replies feed.
import { get } from "./api.js";
import { leadBadges, leadPages, leadWho } from "./campaign.js";
import { badge, empty, h, moreButton, time } from "./ui.js";

// Symbols every system font has (no emoji font is assumed).
const ICONS = { sent: "✉", opened: "◉", clicked: "↗", replied: "↩", bounced: "⚠", unsubscribed: "⊘", delivered: "✓", spam_reported: "✖" };

function kindOf(type) {
  return type.replace(/^email_(follow_up_)?/, "");
}

/// What the stored payload adds: the link clicked, a reply's first words.
function detail(event) {
  const data = event.event_data ?? {};
  const link = Array.isArray(data.link_details) ? data.link_details[0] : data.link_details ?? data.link?.url;
  const reply = data.reply_message?.text ?? data.reply_body ?? data.preview_text ?? data.reply?.text;
  if (data.pruned) return h("span", { class: "muted" }, "payload pruned by retention");
  if (link) return h("span", {}, "link: ", h("code", {}, String(link)));
  if (typeof reply === "string") return h("q", {}, reply.replace(/<[^>]*>/g, " ").trim().slice(0, 160));
  return null;
}

/// A link to the event's campaign, by its name when it has one.
function campaignLink(event) {
  return h("a", { href: `#/campaign/${encodeURIComponent(event.campaign_id)}` }, event.campaign_name ?? event.campaign_id);
}

function eventItem(event) {
  const kind = kindOf(event.event_type);
  const step = event.event_data?.sequence_number;
  return h("li", { class: `event ${kind}` },
    h("span", { class: "icon", "aria-hidden": "true" }, ICONS[kind] ?? "•"),
    h("div", {},
      h("div", {}, badge(event.event_type.replace(/^email_/, "").replaceAll("_", " "), kind), " ", time(event.timestamp)),
      h("div", { class: "muted" }, "campaign ", campaignLink(event), step ? ` · step ${step}` : ""),
      detail(event)));
}

export async function leadPage(id) {
  const path = `/api/leads/${encodeURIComponent(id)}`;
  const [{ lead }, first] = await Promise.all([get(path), get(`${path}/events`, { limit: 20 })]);
  const list = h("ol", { class: "timeline" }, first.events.map(eventItem));
  const more = moreButton("More events", first.next_cursor, async (cursor) => {
    const page = await get(`${path}/events`, { limit: 20, cursor });
    list.append(...page.events.map(eventItem));
    return page.next_cursor;
  });
  return h("div", {}, leadHeader(lead), first.events.length ? list : empty("No events for this lead."), more);
}

/// Who the lead is: the address, the name and company Smartlead gave, where the lead stands.
function leadHeader(lead) {
  const who = leadWho(lead);
  return h("header", { class: "lead-header" },
    h("p", { class: "lead-email" }, lead.email, " ", leadBadges(lead)),
    who ? h("p", { class: "muted lead-who" }, who) : null);
}

/// Leads whose address, name or company holds `q`, newest activity first, a page at a time;
/// a lead found alone with its latest events.
export async function searchPage(q) {
  if (!q) return empty("Search leads by name, company or email address (top right).");
  const first = await get("/api/leads", { q, limit: 25 });
  if (first.leads.length === 0) return empty(`No lead matches “${q}”.`);
  if (first.leads.length === 1) {
    const [lead] = first.leads;
    const timeline = await get(`/api/leads/${encodeURIComponent(lead.id)}/events`, { limit: 5 }).catch(() => null);
    return searchResult(lead, timeline);
  }
  return h("section", { "aria-labelledby": "found" },
    h("h2", { id: "found" }, `Leads matching “${q}”, newest activity first`),
    leadPages(first, { q, limit: 25 }, `No lead matches “${q}”.`));
}

/// The one lead found: who it is, where it stands, its latest events.
function searchResult(lead, timeline) {
  const href = `#/lead/${encodeURIComponent(lead.id)}`;
  return h("section", { class: "result" },
    h("h2", {}, h("a", { href }, lead.email), " ", leadBadges(lead)),
    leadWho(lead) ? h("p", { class: "muted lead-who" }, leadWho(lead)) : null,
    timeline?.events.length
      ? h("ol", { class: "timeline" }, timeline.events.map(eventItem))
      : h("p", { class: "muted" }, "last activity ", time(lead.last_event_timestamp)),
    h("a", { href }, "Full timeline →"));
}

/// Replies to any step of a sequence, newest first, 20 at a time; of one campaign when chosen.
export async function repliesPage(params) {
  const campaign = params.get("campaign") ?? "";
  const query = { kind: "replied", limit: 20, campaign_id: campaign };
  const [first, listed] = await Promise.all([get("/api/events", query), get("/api/campaigns", { limit: 500 })]);
  const named = (c) => c.name ?? c.campaign_id;
  const campaigns = [...listed.campaigns].sort((a, b) => named(a).localeCompare(named(b)));
  const picker = h("select", { id: "replies-campaign", "aria-label": "Campaign", onchange: (event) => {
    const chosen = event.currentTarget.value;
    location.hash = chosen ? `#/replies?campaign=${encodeURIComponent(chosen)}` : "#/replies";
  } },
    h("option", { value: "" }, "All campaigns"),
    campaigns.map((c) => h("option", { value: c.campaign_id, selected: c.campaign_id === campaign }, named(c))));
  const bar = h("div", { class: "bar-row" }, picker);
  if (first.events.length === 0) return h("div", {}, bar, empty(campaign ? "No replies in this campaign yet." : "No replies yet."));
  const list = h("ol", { class: "timeline replies" }, first.events.map(replyItem));
  return h("div", {}, bar, list, moreButton("More replies", first.next_cursor, async (cursor) => {
    const page = await get("/api/events", { ...query, cursor });
    list.append(...page.events.map(replyItem));
    return page.next_cursor;
  }));
}

function replyItem(event) {
  return h("li", { class: "event replied", "data-event": event.id },
    h("span", { class: "icon", "aria-hidden": "true" }, ICONS.replied),
    h("div", {},
      h("div", {}, h("a", { href: event.lead_id ? `#/lead/${event.lead_id}` : "#/" }, event.lead_name ?? event.email),
        h("span", { class: "muted reply-who" }, [event.lead_name ? event.email : null, event.lead_company].filter(Boolean).map((part) => ` · ${part}`).join("")),
        " ", time(event.timestamp)),
      h("div", { class: "muted" }, "campaign ", campaignLink(event)),
      detail(event)));
}
