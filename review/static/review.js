// The review page's only script: the WebAuthn calls. It runs from the
// page's own origin (the Content-Security-Policy allows no other script),
// and agent-written content never reaches it: previews are sandboxed frames.
"use strict";

const b64 = {
  decode(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    return Uint8Array.from(atob(s), (c) => c.charCodeAt(0)).buffer;
  },
  encode(buf) {
    let s = "";
    for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  },
};

function say(msg, bad) {
  const el = document.getElementById("status");
  if (el) {
    el.textContent = msg;
    el.className = bad ? "bad" : "ok";
  }
}

async function post(url, body) {
  const headers = { "Content-Type": "application/json" };
  const csrf = document.querySelector('meta[name="csrf-token"]');
  if (csrf) headers["X-CSRF-Token"] = csrf.content;
  const res = await fetch(url, { method: "POST", headers, body: JSON.stringify(body ?? {}), credentials: "same-origin" });
  const text = await res.text();
  if (!res.ok) throw new Error(text.trim() || res.statusText);
  return JSON.parse(text);
}

function creationOptions(o) {
  const pk = o.publicKey;
  pk.challenge = b64.decode(pk.challenge);
  pk.user.id = b64.decode(pk.user.id);
  for (const c of pk.excludeCredentials ?? []) c.id = b64.decode(c.id);
  return o;
}

function requestOptions(o) {
  const pk = o.publicKey;
  pk.challenge = b64.decode(pk.challenge);
  for (const c of pk.allowCredentials ?? []) c.id = b64.decode(c.id);
  return o;
}

function assertionJSON(cred) {
  const r = cred.response;
  return {
    id: cred.id, rawId: b64.encode(cred.rawId), type: cred.type,
    response: {
      clientDataJSON: b64.encode(r.clientDataJSON), authenticatorData: b64.encode(r.authenticatorData),
      signature: b64.encode(r.signature), userHandle: r.userHandle ? b64.encode(r.userHandle) : null,
    },
  };
}

async function enrol(btn) {
  const token = btn.dataset.token;
  say("Follow your device's prompt to create the passkey…");
  const opts = await post(`/enrol/${encodeURIComponent(token)}/begin`);
  const cred = await navigator.credentials.create(creationOptions(opts));
  const r = cred.response;
  await post(`/enrol/${encodeURIComponent(token)}/finish`, {
    id: cred.id, rawId: b64.encode(cred.rawId), type: cred.type,
    response: { clientDataJSON: b64.encode(r.clientDataJSON), attestationObject: b64.encode(r.attestationObject), transports: r.getTransports ? r.getTransports() : [] },
  });
  say("Your passkey is registered. Opening the plans…");
  location.assign("/");
}

async function signin(btn) {
  say("Follow your device's prompt…");
  const { ceremony, options } = await post("/signin/begin");
  const cred = await navigator.credentials.get(requestOptions(options));
  await post(`/signin/finish?ceremony=${encodeURIComponent(ceremony)}`, assertionJSON(cred));
  location.assign(btn.dataset.next || "/");
}

async function decide(btn, action) {
  const plan = btn.dataset.plan;
  const reason = document.getElementById("reason")?.value ?? "";
  say(`Follow your device's prompt to ${action} this plan…`);
  const { ceremony, options } = await post(`/plans/${encodeURIComponent(plan)}/${action}/begin`, { hash: btn.dataset.hash, reason });
  const cred = await navigator.credentials.get(requestOptions(options));
  const out = await post(`/plans/${encodeURIComponent(plan)}/${action}/finish?ceremony=${encodeURIComponent(ceremony)}`, assertionJSON(cred));
  say(out.message);
  for (const b of document.querySelectorAll("#approve, #reject")) b.disabled = true;
}

async function confirmInvite(btn) {
  const key = btn.dataset.key;
  say("Follow your device's prompt to confirm this invitation…");
  const { ceremony, options } = await post(`/invitations/${encodeURIComponent(key)}/confirm/begin`);
  const cred = await navigator.credentials.get(requestOptions(options));
  const out = await post(`/invitations/${encodeURIComponent(key)}/confirm/finish?ceremony=${encodeURIComponent(ceremony)}`, assertionJSON(cred));
  say(out.message);
}

function wire(id, fn) {
  const btn = document.getElementById(id);
  if (!btn) return;
  btn.addEventListener("click", async () => {
    btn.disabled = true;
    try {
      await fn(btn);
    } catch (e) {
      say(e.message || String(e), true);
      btn.disabled = false;
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  wire("enrol", enrol);
  wire("signin", signin);
  wire("approve", (b) => decide(b, "approve"));
  wire("reject", (b) => decide(b, "reject"));
  for (const btn of document.querySelectorAll("button.confirm-invite")) {
    btn.addEventListener("click", async () => {
      btn.disabled = true;
      try {
        await confirmInvite(btn);
      } catch (e) {
        say(e.message || String(e), true);
        btn.disabled = false;
      }
    });
  }
});
