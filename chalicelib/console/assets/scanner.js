// The gate scanner (闸机核销): online, one POST /redemptions per scan; without a network, QR
// signatures are checked here against the offline pack, this device refuses a ticket it already
// admitted, and every admission waits in IndexedDB until /redemptions/batch takes it.
import * as ed from "./noble-ed25519-2.3.0.js";
import { ApiError, Offline, explain, get, localTime, login, post, session, venueDate } from "./api.js";
import * as store from "./gate-store.js";

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const GATE = "mm.gate";
const MODE = "mm.gate-mode";
const DEVICE = "mm.device";
const CONFLICTS = "mm.conflicts";
const PACK_REFRESH_MS = 5 * 60 * 1000;       // what changed since the last pack (?since=its next)
const PACK_FULL_MS = 6 * 60 * 60 * 1000;     // the whole pack again this often, whatever was merged meanwhile
const PACK_STALE_MS = 2 * 60 * 60 * 1000;    // older than this, revocations may be missing: say so
const TICK_MS = 5 * 1000;                    // probe the network, upload, check the login
const SCAN_WAIT_MS = 4000;                   // a gate does not wait longer for the server
const UPLOAD_PART = 200;                     // scans per /redemptions/batch (well inside its 256 KB body)
const MAX_QR = 600;                          // the server's limit
const B64URL = /^[A-Za-z0-9_-]+$/;
const REASONS = {
  invalid: "无效码", already_redeemed: "已核销", revoked: "已退票作废", not_yet_valid: "未到入场时间",
  expired: "已过期", unpaid: "订单未支付", unverified: "离线无法核验", wrong_kind: "", no_gate: "请先填写闸口名称",
  invalid_time: "扫码时间异常",
};
const VENUE_TIME = { timeZone: "Asia/Shanghai", hour12: false };   // the venue's clock, whatever the device says

const device = localStorage.getItem(DEVICE) || (() => {
  const id = "web-" + crypto.randomUUID().slice(0, 8);
  localStorage.setItem(DEVICE, id);
  return id;
})();
let online = true;
let syncing = false;
let busy = false;
let skewMs = 0;                  // server time minus device time, from the last offline pack
let pending = null;              // an unverified code waiting for the operator's decision

const now = () => new Date(Date.now() + skewMs);
const clock = (iso) => new Date(iso).toLocaleTimeString("zh-CN", VENUE_TIME);

// ------------------------------------------------------------------ reading a code
const b64url = (text) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")
  + "=".repeat((4 - text.length % 4) % 4)), (c) => c.charCodeAt(0));

function parts(payload) {
  const found = payload.split(".");
  return payload.length <= MAX_QR && found.length === 4 && found[0] === "MM1" && found.slice(1).every((p) => B64URL.test(p))
    ? found : null;
}

// What a payload says of itself, unchecked (for a payload the server already accepted).
function claimsOf(payload) {
  const found = parts(payload);
  try { return found ? JSON.parse(new TextDecoder().decode(b64url(found[2]))) : null; } catch (e) { return null; }
}

async function signatureHolds(publicKey, signature, message) {
  try {
    const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  } catch (e) {
    return ed.verifyAsync(signature, message, publicKey);   // browsers without WebCrypto Ed25519
  }
}

// The claims of a genuine payload (MM1.<kid>.<claims>.<signature>), or null.
async function verifyQr(payload, pack) {
  const found = parts(payload);
  const key = found && pack && pack.keys.find((k) => k.kid === found[1]);
  if (!key) return null;
  try {
    const message = new TextEncoder().encode(found.slice(0, 3).join("."));
    return await signatureHolds(b64url(key.public_key), b64url(found[3]), message) ? claimsOf(payload) : null;
  } catch (e) {
    return null;
  }
}

const manualCode = (text) => {
  const digits = text.replace(/[\s-]/g, "");
  return /^[0-9]{12}$/.test(digits) ? digits : null;
};
const keysOf = (code) => {
  const claims = code.startsWith("MM1.") ? claimsOf(code) : null;
  const digits = manualCode(code);
  return claims ? ["t:" + claims.t, "c:" + claims.c] : digits ? ["c:" + digits] : [];
};

// The gate's own rule for what it may take: an entrance takes tickets, a pickup desk pickup codes.
function wrongKind(kind) {
  const mode = $("gate-mode").value;
  return (mode === "entrance" && kind === "pickup") || (mode === "pickup" && kind === "ticket");
}

async function decideOffline(code, at) {
  const pack = await store.loadPack();
  if (code.startsWith("MM1.")) {
    if (!pack) return { result: "unverified", reason: "unverified", keys: keysOf(code) };
    const claims = await verifyQr(code, pack);
    if (!claims) return { result: "rejected", reason: "invalid" };
    if (pack.revoked.includes(claims.t)) return { result: "rejected", reason: "revoked" };
    const seconds = at.getTime() / 1000;
    if (seconds < claims.f) return { result: "rejected", reason: "not_yet_valid" };
    if (seconds >= claims.u) return { result: "rejected", reason: "expired" };     // as the server: valid until u
    return { result: "ok", kind: claims.k, keys: ["t:" + claims.t, "c:" + claims.c] };
  }
  if (!manualCode(code)) return { result: "rejected", reason: "invalid" };
  return { result: "unverified", reason: "unverified", keys: keysOf(code) };
}

// ------------------------------------------------------------------ scanning
async function scan(raw) {
  const code = raw.trim();
  const gate = $("gate").value.trim();
  if (!code || busy) return;
  if (!gate) { show({ result: "rejected", reason: "no_gate" }); $("gate").focus(); return; }
  busy = true;
  try {
    await decide(code, gate);
  } catch (error) {
    show({ result: "rejected", reason: "error", message: "本机存储出错：" + explain(error) });
  } finally {
    busy = false;
    await refreshCounts();
  }
}

async function decide(code, gate) {
  pending = null;                    // a new scan: an unverified code left undecided was not let through
  const at = now();
  const body = { code, gate, device_id: device, nonce: crypto.randomUUID(), scanned_at: at.toISOString() };
  const claims = claimsOf(code);
  if (claims && wrongKind(claims.k)) { show({ result: "rejected", reason: "wrong_kind", kind: claims.k }); return; }
  // What this device let through and has not uploaded yet, the server cannot know: refused here.
  const before = await store.admitted(keysOf(code));
  if (before) { show({ result: "rejected", reason: "already_redeemed", first: before }); return; }
  let decided = null;
  if (online && session()) {
    try {
      decided = { ...await post("/redemptions", body, { timeoutMs: SCAN_WAIT_MS }), online: true };
    } catch (error) {
      if (error instanceof ApiError && (error.status === 404 || error.status === 409) && error.body) {
        decided = { ...error.body, online: true };
      } else if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        showLogin(error.status === 401 ? "登录已过期，请重新登录（本次扫码已离线处理）" : "此账号没有核销权限");
      } else if (error instanceof Offline || (error instanceof ApiError && error.status >= 429)) {
        setOnline(false);                       // the server could not answer: the offline rule decides
      } else {
        decided = { result: "rejected", reason: "error", message: explain(error), online: true };
      }
    }
  }
  if (decided) {
    if (decided.result === "ok") await store.remember(keysOf(code), gate, body.scanned_at, venueDate());
    show(decided);
    return;
  }
  decided = await decideOffline(code, at);
  if (decided.result === "ok") await admitOffline(body, decided, gate);
  else if (decided.result === "unverified") pending = { body, decided, gate };
  show(decided);
}

async function admitOffline(body, decided, gate) {
  await store.enqueue({ ...body, local: decided.result });
  await store.remember(decided.keys, gate, body.scanned_at, venueDate());
}

// The operator looked at the visitor's e-ticket and decided: only then is an unverified code let
// through (and redeemed on upload).
async function settlePending(admit) {
  const waiting = pending;
  pending = null;
  if (!waiting) return;
  if (admit) await admitOffline(waiting.body, waiting.decided, waiting.gate);
  show(admit ? { result: "ok", kind: "manual", online: false }
             : { result: "rejected", reason: "operator", message: "已拒绝放行" });
  await refreshCounts();
}

function show(decided) {
  const box = $("scan-result");
  box.dataset.result = decided.result;
  box.dataset.reason = decided.reason || "";
  box.dataset.kind = decided.kind || "";
  const title = box.querySelector(".title");
  const detail = box.querySelector(".detail");
  $("unverified-actions").hidden = decided.result !== "unverified";
  if (decided.result === "ok") {
    title.textContent = decided.kind === "pickup" ? "✔ 自提码有效，请交付商品" : "✔ 核销成功，请通行";
    const what = [decided.product_name, decided.sku_name].filter(Boolean).join(" · ");
    const when = decided.session ? `场次 ${localTime(decided.session.start)}` : "";
    const who = decided.visitor ? `实名：${decided.visitor.name} ${decided.visitor.id_number || ""}` : "";
    const offline = decided.online ? "" : decided.kind === "manual" ? "（人工确认放行，联网后上传）" : "（离线已验签，联网后上传）";
    detail.textContent = [what, when, who, offline].filter(Boolean).join("　");
  } else if (decided.result === "unverified") {
    title.textContent = "⚠ 离线未核验";
    detail.textContent = "无法离线验证此码：请核对游客的电子票，再选择放行或拒绝";
  } else {
    title.textContent = "✖ " + (decided.reason === "wrong_kind"
      ? (decided.kind === "pickup" ? "这是自提码，请到自提点" : "这是门票，请到入口")
      : REASONS[decided.reason] || (decided.reason === "operator" ? "未放行" : "无法核销"));
    // The server's message is for developers; staff read the reason and where it was first used.
    const first = decided.first_redeemed_at ? `首次核销：${localTime(decided.first_redeemed_at)} · ${decided.first_gate}`
      : decided.first ? `本机已于 ${localTime(decided.first.at)} 在 ${decided.first.gate} 放行` : "";
    detail.textContent = decided.reason === "error" || decided.reason === "operator" ? decided.message : first;
  }
  box.hidden = false;
  const field = $("code");
  field.value = "";
  field.focus();
}

async function refreshCounts() {
  const waiting = (await store.queued()).length;
  $("offline-queue").textContent = `${waiting} 条待上传`;
  $("offline-queue").dataset.count = String(waiting);
  const gate = $("gate").value.trim();
  $("gate-count").textContent = gate ? String(await store.admittedToday(gate, venueDate())) : "0";
}

// ------------------------------------------------------------------ network, pack and upload
function setOnline(value) {
  const changed = online !== value;
  online = value;
  const pill = $("connection");
  pill.dataset.online = String(value);
  pill.textContent = value ? "在线" : "离线";
  if (value && changed) { refreshPack(); sync(); }
}

// Every few seconds: is the API reachable (a failed request may have been a passing drop), is the
// operator still logged in, and is anything waiting to go up.
async function tick() {
  if (!session() && $("login-panel").hidden) showLogin("登录已过期，请重新登录以上传离线记录");
  try {
    await get("/health", { anonymous: true, timeoutMs: SCAN_WAIT_MS });
    setOnline(true);
  } catch (error) {
    setOnline(false);
  }
  if (online) await sync();
  await showPack();
}

// The pack kept here grows by what changed since its `next` (revocations to add) and drops what
// is past its valid_until (such a QR no longer admits anyway); the whole pack replaces it now and
// then, and whenever the server does not take the `since` (a 400).
async function refreshPack() {
  if (!session()) return;
  try {
    const kept = await store.loadPack();
    let since = kept && kept.next && kept.full_at && Date.now() - Date.parse(kept.full_at) < PACK_FULL_MS
      ? kept.next : null;
    let asked = Date.now();
    let pack;
    try {
      pack = await get("/scanner/offline-pack" + (since ? "?since=" + encodeURIComponent(since) : ""),
                       { timeoutMs: 10000 });
    } catch (error) {
      if (!(since && error instanceof ApiError && error.status === 400)) throw error;
      since = null;
      asked = Date.now();
      pack = await get("/scanner/offline-pack", { timeoutMs: 10000 });
    }
    const answered = Date.now();
    await store.savePack({ ...(since ? merged(kept, pack) : pack), fetched_at: new Date(answered).toISOString(),
                           full_at: since ? kept.full_at : new Date(answered).toISOString(),
                           skew_ms: Date.parse(pack.generated_at) - (asked + answered) / 2 });
  } catch (error) {
    if (error instanceof Offline) setOnline(false);
  }
  await showPack();
}

function merged(kept, changes) {
  const until = { ...(kept.revoked_until || {}), ...(changes.revoked_until || {}) };
  const at = Date.parse(changes.generated_at);
  const live = [...new Set([...kept.revoked, ...changes.revoked])]
    .filter((id) => !until[id] || Date.parse(until[id]) > at);
  return { ...changes, revoked: live,
           revoked_until: Object.fromEntries(live.filter((id) => until[id]).map((id) => [id, until[id]])) };
}

async function showPack() {
  const pack = await store.loadPack();
  const line = $("pack");
  if (!pack) {
    line.textContent = "尚未下载离线包：联网登录后自动下载";
    line.dataset.stale = "true";
    return;
  }
  skewMs = Math.abs(pack.skew_ms || 0) > 60000 ? pack.skew_ms : 0;   // a device clock off by over a minute
  const stale = Date.now() - Date.parse(pack.fetched_at) > PACK_STALE_MS;
  line.dataset.stale = String(stale);
  line.textContent = `离线包：${pack.keys.length} 把验签密钥，${pack.revoked.length} 张已作废，更新于 ${localTime(pack.fetched_at)}`
    + (stale ? "。已超过 2 小时未更新，退票可能未同步，请尽快联网" : "")
    + (skewMs ? `。本机时间偏差 ${Math.round(skewMs / 60000)} 分钟，已按服务器时间校正` : "");
}

async function sync() {
  if (syncing || !online || !session()) return;
  syncing = true;                                  // before any await: one upload at a time
  const problem = $("upload-problem");
  try {
    const waiting = await store.queued();
    for (let i = 0; i < waiting.length; i += UPLOAD_PART) {
      const part = waiting.slice(i, i + UPLOAD_PART);
      const answer = await post("/redemptions/batch", { scans: part.map(({ local, ...scan }) => scan) },
                                { timeoutMs: 30000 });
      const byNonce = new Map(part.map((s) => [s.nonce, s]));
      for (const result of answer.results) {
        const scan = byNonce.get(result.nonce);
        if (scan && result.result !== "ok") conflict(scan, result);
      }
      // Only what the server answered leaves the queue.
      await store.dequeue(answer.results.map((r) => r.nonce).filter((n) => byNonce.has(n)));
    }
    problem.hidden = true;
  } catch (error) {
    if (error instanceof Offline) setOnline(false);
    else if (error instanceof ApiError && error.status === 401) showLogin("登录已过期，请重新登录后上传离线记录");
    else {
      problem.hidden = false;
      problem.textContent = `离线记录上传失败（${explain(error)}），将自动重试；如持续失败请联系管理员`;
    }
  } finally {
    syncing = false;
    await refreshCounts();
  }
}

// A scan admitted here offline that the server refused: the operator must hear of it, also after
// a reload.
function conflict(scan, result) {
  const when = clock(scan.scanned_at);
  const what = scan.code.startsWith("MM1.") ? "二维码" : scan.code;
  const first = result.first_gate ? `，此票已于 ${clock(result.first_redeemed_at)} 在 ${result.first_gate} 核销` : "";
  const refunded = result.conflict === "admitted_then_refunded" ? "：游客入园后此票被退款，已通知管理员核查"
    : result.conflict === "admitted_while_revoked" ? "：此票已退款，离线包过期仍放行，已通知管理员核查"
    : result.conflict === "invalid_time" ? "：扫码时间早于出票或已超过上传时限，请核对本机时间，已通知管理员核查" : "";
  const line = `${when} ${scan.gate} 放行的${what}：服务器判定「${REASONS[result.reason] || result.reason}」${first}${refunded}`;
  const kept = JSON.parse(localStorage.getItem(CONFLICTS) || "[]");
  if (kept.some((c) => c.nonce === scan.nonce)) return;          // an upload answered twice
  localStorage.setItem(CONFLICTS, JSON.stringify([{ nonce: scan.nonce, line }, ...kept].slice(0, 50)));
  showConflicts();
}

function showConflicts() {
  const kept = JSON.parse(localStorage.getItem(CONFLICTS) || "[]");
  const list = $("sync-conflicts");
  list.replaceChildren(...kept.map((c) => Object.assign(document.createElement("li"), { textContent: c.line })));
  list.closest("section").hidden = !kept.length;
}

// ------------------------------------------------------------------ camera
async function startCamera() {
  const video = document.querySelector("video");
  try {
    video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  } catch (e) {
    $("camera-state").textContent = "无法打开摄像头：" + e.message;
    return;
  }
  await video.play();
  video.hidden = false;
  $("camera-state").textContent = "摄像头已开启，对准二维码";
  const detector = "BarcodeDetector" in window
    ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
  const canvas = document.createElement("canvas");
  let last = "", lastAt = 0;
  const frame = async () => {
    if (video.readyState >= 2 && !pending) {
      let text = null;
      if (detector) {
        const found = await detector.detect(video).catch(() => []);
        text = found.length ? found[0].rawValue : null;
      } else if (window.jsQR) {
        canvas.width = video.videoWidth; canvas.height = video.videoHeight;
        const context = canvas.getContext("2d", { willReadFrequently: true });
        context.drawImage(video, 0, 0);
        const image = context.getImageData(0, 0, canvas.width, canvas.height);
        const found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
        text = found ? found.data : null;
      }
      // A code held in view is scanned once; shown again after leaving the view, it counts again.
      if (text && (text !== last || Date.now() - lastAt > 2000)) {
        last = text; lastAt = Date.now();
        await scan(text);
      } else if (text) {
        lastAt = Date.now();
      }
    }
    setTimeout(frame, 150);
  };
  frame();
}

// ------------------------------------------------------------------ the page
function showLogin(message) {
  $("login-panel").hidden = false;
  $("login-error").hidden = !message;
  $("login-error").textContent = message || "";
}

async function signIn(event) {
  event.preventDefault();
  try {
    const kept = await login($("username").value.trim(), $("password").value);
    if (!kept.roles.some((r) => r === "scanner" || r === "admin")) {
      showLogin("此账号没有核销权限");
      return;
    }
    $("login-panel").hidden = true;
    $("operator").textContent = kept.username;
    online = false;
    setOnline(true);
    $("code").focus();
  } catch (error) {
    showLogin(explain(error));
  }
}

function start() {
  const gate = $("gate");
  gate.value = localStorage.getItem(GATE) || "";
  gate.addEventListener("change", () => { localStorage.setItem(GATE, gate.value.trim()); refreshCounts(); });
  const mode = $("gate-mode");
  mode.value = localStorage.getItem(MODE) || "any";
  mode.addEventListener("change", () => localStorage.setItem(MODE, mode.value));
  $("code").addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); scan($("code").value); }
  });
  $("scan-submit").addEventListener("click", () => scan($("code").value));
  $("admit").addEventListener("click", () => settlePending(true));
  $("refuse").addEventListener("click", () => settlePending(false));
  $("login-form").addEventListener("submit", signIn);
  $("camera-start").addEventListener("click", startCamera);
  window.addEventListener("online", () => tick());
  window.addEventListener("offline", () => setOnline(false));
  const current = session();
  if (current) $("operator").textContent = current.username; else showLogin();
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
  store.forgetBefore(venueDate(-3)).catch(() => {});
  setOnline(navigator.onLine);
  showPack();
  showConflicts();
  refreshCounts();
  setInterval(tick, TICK_MS);
  setInterval(() => { if (online) refreshPack(); }, PACK_REFRESH_MS);
  if (navigator.onLine) refreshPack();
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("sw.js").catch(() => {});
  $("code").focus();
  document.body.dataset.ready = "true";
}

start();
