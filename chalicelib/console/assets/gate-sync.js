// Keeping a gate in step with the server (同步): the offline pack, whole or what changed since
// its `next`, and the scans admitted offline, uploaded through /redemptions/batch. No DOM: the
// page says what happened.
import { ApiError, get, post } from "./api.js";
import * as store from "./gate-store.js";

const PACK_FULL_MS = 6 * 60 * 60 * 1000;     // the whole pack again this often, whatever was merged meanwhile
const PACK_WAIT_MS = 10000;
const UPLOAD_WAIT_MS = 30000;
const UPLOAD_PART = 200;                     // scans per /redemptions/batch (well inside its 256 KB body)

// The pack kept here grows by what changed since its `next` (revocations to add) and drops what
// is past its valid_until (such a QR no longer admits anyway); the whole pack replaces it now and
// then, and whenever the server does not take the `since` (a 400). Kept with the time it came,
// and the device clock's distance from the server's. Throws what the network or the server said.
export async function refreshPack() {
  const kept = await store.loadPack();
  let since = kept && kept.next && kept.full_at && Date.now() - Date.parse(kept.full_at) < PACK_FULL_MS
    ? kept.next : null;
  let asked = Date.now();
  let pack;
  try {
    pack = await get("/scanner/offline-pack" + (since ? "?since=" + encodeURIComponent(since) : ""),
                     { timeoutMs: PACK_WAIT_MS });
  } catch (error) {
    if (!(since && error instanceof ApiError && error.status === 400)) throw error;
    since = null;
    asked = Date.now();
    pack = await get("/scanner/offline-pack", { timeoutMs: PACK_WAIT_MS });
  }
  const answered = Date.now();
  const saved = { ...(since ? merged(kept, pack) : pack), fetched_at: new Date(answered).toISOString(),
                  full_at: since ? kept.full_at : new Date(answered).toISOString(),
                  skew_ms: Date.parse(pack.generated_at) - (asked + answered) / 2 };
  await store.savePack(saved);
  return saved;
}

// A pack kept and what changed since it: the revocations of both, less those past their
// revoked_until when the changes were generated.
export function merged(kept, changes) {
  const until = { ...(kept.revoked_until || {}), ...(changes.revoked_until || {}) };
  const at = Date.parse(changes.generated_at);
  const live = [...new Set([...kept.revoked, ...changes.revoked])]
    .filter((id) => !until[id] || Date.parse(until[id]) > at);
  return { ...changes, revoked: live,
           revoked_until: Object.fromEntries(live.filter((id) => until[id]).map((id) => [id, until[id]])) };
}

// Uploads the queue in parts; refused(scan, result) hears of each scan admitted here that the
// server refused. Only what the server answered leaves the queue. Throws what the network or the
// server said (what was answered before stays answered).
export async function uploadQueue(refused) {
  const waiting = await store.queued();
  for (let i = 0; i < waiting.length; i += UPLOAD_PART) {
    const part = waiting.slice(i, i + UPLOAD_PART);
    const answer = await post("/redemptions/batch", { scans: part.map(({ local, ...scan }) => scan) },
                              { timeoutMs: UPLOAD_WAIT_MS });
    const byNonce = new Map(part.map((s) => [s.nonce, s]));
    for (const result of answer.results) {
      const scan = byNonce.get(result.nonce);
      if (scan && result.result !== "ok") refused(scan, result);
    }
    await store.dequeue(answer.results.map((r) => r.nonce).filter((n) => byNonce.has(n)));
  }
}
