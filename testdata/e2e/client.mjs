// End to end with the official MCP TypeScript SDK: spawn `lastmile serve`,
// list the tools, stage a full campaign, plan it, get refused, approve it
// through the CLI (another process, while the server runs), confirm with
// progress, check the files that went live, append engagement events and
// check fetch_metrics adds them up.
//
// LASTMILE_BIN=path/to/lastmile LASTMILE_DATA_DIR=fresh/dir node client.mjs
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { execFileSync } from "node:child_process";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

const bin = process.env.LASTMILE_BIN;
const dir = process.env.LASTMILE_DATA_DIR;
assert.ok(bin && dir, "set LASTMILE_BIN and LASTMILE_DATA_DIR");

const transport = new StdioClientTransport({ command: bin, args: ["serve", "--data-dir", dir], stderr: "pipe" });
let serverLog = "";
transport.stderr?.on("data", (d) => { serverLog += d; });
const client = new Client({ name: "npm-e2e", version: "1.0.0" });
await client.connect(transport);
console.log(`connected: ${client.getServerVersion()?.name} ${client.getServerVersion()?.version}, protocol ${transport._protocolVersion ?? "(negotiated)"}`);

const { tools } = await client.listTools();
const names = tools.map((t) => t.name).sort();
for (const want of ["build_segment", "check_campaign", "configure_workflow", "confirm_promotion", "create_campaign", "create_email",
  "fetch_metrics", "get_campaign", "get_plan", "list_campaigns", "plan_promotion", "publish_page"]) {
  assert.ok(names.includes(want), `tools/list lacks ${want}: ${names}`);
}
for (const t of tools) {
  assert.equal(t.inputSchema.type, "object", `${t.name}: root schema type`);
  // Hints left out mean MCP's defaults; a read tool must say it only reads,
  // and only confirm_promotion may read as destructive.
  const hint = (k, dflt) => t.annotations?.[k] ?? dflt;
  const readOnly = hint("readOnlyHint", false);
  assert.equal(readOnly, /^(get|list|check)_/.test(t.name), `${t.name}: readOnlyHint ${readOnly}`);
  if (!readOnly) {
    assert.equal(hint("destructiveHint", true), t.name === "confirm_promotion", `${t.name}: destructiveHint`);
  }
}

const text = (r) => (r.content ?? []).filter((c) => c.type === "text").map((c) => c.text).join(" ");
async function ok(name, args, opts) {
  const r = await client.callTool({ name, arguments: args }, undefined, opts);
  assert.ok(!r.isError, `${name} failed: ${text(r)}`);
  return r.structuredContent;
}
async function refused(name, args) {
  const r = await client.callTool({ name, arguments: args });
  assert.ok(r.isError, `${name} should have been refused: ${text(r)}`);
  return text(r);
}

// A user mistake is a tool error naming the field, not a protocol error.
const bad = await refused("create_email", { campaign_id: "cmp_nope", name: "x", subject: "s", from_name: "A", from_email: "not-an-address", html: "<p>x</p>" });
assert.match(bad, /from_email/);

const camp = await ok("create_campaign", { name: "npm e2e", markets: ["US"], industry: "retail", utm: { source: "newsletter", medium: "email", campaign: "npm_e2e" } });
const seg = await ok("build_segment", { campaign_id: camp.id, name: "US customers", conditions: [
  { property: "country", operator: "eq", value: "US" }, { property: "lifecycle_stage", operator: "eq", value: "customer" }] });
assert.ok(seg.estimated_size > 0, "estimated_size from contacts.csv");
const email = await ok("create_email", { campaign_id: camp.id, name: "Hello", subject: "Hello {{ contact.firstname | default: \"there\" }}",
  from_name: "Acme", from_email: "news@acme.com", audience: { include: [seg.id] },
  blocks: [{ type: "heading", text: "Hello" }, { type: "paragraph", text: "Hi {{ contact.firstname | default: \"there\" }}, read [the news](https://www.acme.com/news)." },
    { type: "button", text: "Read more", url: "https://www.acme.com/more" }] });
const followUp = await ok("create_email", { campaign_id: camp.id, name: "Follow-up", subject: "One more thing", from_name: "Acme", from_email: "news@acme.com",
  blocks: [{ type: "paragraph", text: "Thanks for visiting. We will be in touch." }] });
const page = await ok("publish_page", { campaign_id: camp.id, title: "Join us", slug: "npm-e2e-join", blocks: [{ type: "heading", text: "Join us" }],
  form: { fields: [{ name: "email", label: "Email", type: "email", required: true }], submit_label: "Join" } });
const wf = await ok("configure_workflow", { campaign_id: camp.id, name: "Thank visitors", activate: true,
  trigger: { type: "form_submission", page_id: page.id },
  steps: [{ id: "wait", type: "wait", duration: "1h", next: "thanks" }, { id: "thanks", type: "send_email", email_id: followUp.id }] });
assert.equal(email.staged, true);
assert.equal(email.live, false);

const plan = await ok("plan_promotion", { campaign_id: camp.id });
assert.match(plan.id, /^pln_/);
assert.ok(plan.hash && plan.expires_at);
assert.ok(!("code" in plan), "no MCP result may carry the plan's read-back code");
const ops = plan.steps.map((s) => `${s.op}:${s.kind}`);
assert.deepEqual(ops.slice(0, 5), ["create:segment", "create:email", "create:email", "create:page", "create:workflow"], `order ${ops}`);
const send = plan.steps.find((s) => s.op === "send");
assert.equal(send.audience_size, seg.estimated_size);
assert.equal(plan.approvals.required, 1);

// Nothing goes live without a human: not even with approval-looking arguments.
const chk = await ok("check_campaign", { campaign_id: camp.id });
assert.equal(chk.errors, 0, `governance errors: ${JSON.stringify(chk.findings.filter((f) => f.level === "error"))}`);
let msg = await refused("confirm_promotion", { plan_id: plan.id });
assert.match(msg, /lastmile approve pln_/);
msg = await refused("confirm_promotion", { plan_id: plan.id, approved: true, code: "abc234" });
assert.match(msg, /approved|code/);
assert.ok(!fs.existsSync(path.join(dir, "outbox")), "nothing may be live before approval");

// Approval through the CLI, in another process, while the server runs. This
// script has no terminal, so it approves as a pipeline does (the data
// directory's policy enables the scripted channel); a person at a terminal
// is tested with a pseudo-terminal in cmd/lastmile.
execFileSync(bin, ["approve", plan.id, "--scripted", "--data-dir", dir], { stdio: ["ignore", "pipe", "pipe"] });

const progress = [];
const done = await ok("confirm_promotion", { plan_id: plan.id }, { onprogress: (p) => progress.push(p) });
assert.equal(done.status, "promoted");
assert.ok(done.steps.every((s) => s.status === "done"), JSON.stringify(done.steps));
assert.ok(progress.length >= 1, "progress notifications");

const outbox = fs.readdirSync(path.join(dir, "outbox", email.id));
assert.equal(outbox.length, seg.estimated_size, "one .eml per recipient");
const eml = fs.readFileSync(path.join(dir, "outbox", email.id, outbox[0]), "utf8");
for (const h of ["From:", "To:", "Subject:", "Date:", "Message-ID:", "List-Unsubscribe:"]) assert.ok(eml.includes(h), `missing ${h}`);
assert.ok(eml.includes("utm_source=3Dnewsletter") || eml.includes("utm_source=newsletter"), "UTM applied");
assert.ok(fs.existsSync(path.join(dir, "site", "npm-e2e-join", "index.html")), "page published");

// Engagement arrives as events.
const events = fs.readFileSync(path.join(dir, "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
const recipients = events.filter((e) => e.type === "sent" && e.artifact === email.id).map((e) => e.email);
assert.equal(recipients.length, seg.estimated_size);
const at = new Date().toISOString();
const add = [
  { type: "delivered", artifact: email.id, email: recipients[0], at }, { type: "delivered", artifact: email.id, email: recipients[1], at },
  { type: "open", artifact: email.id, email: recipients[0], at }, { type: "open", artifact: email.id, email: recipients[0], at },
  { type: "open", artifact: email.id, email: recipients[1], at }, { type: "click", artifact: email.id, email: recipients[1], url: "https://www.acme.com/news", at },
  { type: "page_view", artifact: page.id, at }, { type: "page_view", artifact: page.id, at }, { type: "page_view", artifact: page.id, at },
  { type: "form_submission", artifact: page.id, email: "v@example.org", at },
];
fs.appendFileSync(path.join(dir, "events.jsonl"), add.map((e) => JSON.stringify(e)).join("\n") + "\n");

const met = await ok("fetch_metrics", { campaign_id: camp.id });
const em = met.artifacts.find((a) => a.artifact_id === email.id);
const pm = met.artifacts.find((a) => a.artifact_id === page.id);
assert.equal(em.sent, seg.estimated_size);
assert.equal(em.delivered, 2);
assert.equal(em.opens, 3);
assert.equal(em.unique_opens, 2);
assert.equal(em.clicks, 1);
assert.equal(em.unique_clicks, 1);
assert.equal(em.open_rate, 1);
assert.equal(em.click_rate, 0.5);
assert.equal(pm.page_views, 3);
assert.equal(pm.form_submissions, 1);
assert.equal(pm.conversion_rate, 0.3333);

// Confirming again returns the earlier result and changes nothing.
const again = await ok("confirm_promotion", { plan_id: plan.id });
assert.equal(again.already_promoted, true);
assert.equal(fs.readdirSync(path.join(dir, "outbox", email.id)).length, outbox.length);

const res = await client.readResource({ uri: "lastmile://policy" });
assert.ok(res.contents[0].text.length > 0);

await client.close();
assert.ok(!/panic/.test(serverLog), serverLog);
console.log(`E2E OK: ${tools.length} tools, ${plan.steps.length} steps promoted, ${outbox.length} messages, ${progress.length} progress notifications`);
