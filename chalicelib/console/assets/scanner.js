// The gate scanner page (闸机核销): online, one POST /redemptions per scan; when the server cannot
// answer, the QR's signature is checked here against the offline pack (gate-codes.js) and the
// gate's rule decides (gate-rule.js); every admission waits in IndexedDB (gate-store.js) until
// /redemptions/batch takes it (gate-sync.js), and what the server refused then stays listed
// (gate-conflicts.js). This module is what the operator sees and does; what the page knows
// between events is one GatePage's.
import { ApiError, Offline, explain, get, login, post, session } from "./api.js";
import { startCamera } from "./gate-camera.js";
import { keptConflicts, recordConflict } from "./gate-conflicts.js";
import { claimsOf, isQr, keysOf, manualCode, verifyQr } from "./gate-codes.js";
import { admission, takes, unverifiable } from "./gate-rule.js";
import * as store from "./gate-store.js";
import { refreshPack, uploadQueue } from "./gate-sync.js";
import { learnVenueZone, localTime, venueDate } from "./venue-time.js";

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const GATE = "mm.gate";
const MODE = "mm.gate-mode";
const DEVICE = "mm.device";
const PACK_REFRESH_MS = 5 * 60 * 1000;       // what changed since the last pack (?since=its next)
const PACK_STALE_MS = 2 * 60 * 60 * 1000;    // older than this, revocations may be missing: say so
const TICK_MS = 5 * 1000;                    // probe the network, upload, check the login
const SCAN_WAIT_MS = 4000;                   // a gate does not wait longer for the server
const REASONS = {
  invalid: "无效码", already_redeemed: "已核销", revoked: "已退票作废", not_yet_valid: "未到入场时间",
  expired: "已过期", unpaid: "订单未支付", unverified: "离线无法核验", wrong_kind: "", no_gate: "请先填写闸口名称",
  invalid_time: "扫码时间异常",
};

function deviceId() {
  const kept = localStorage.getItem(DEVICE);
  if (kept) return kept;
  const id = "web-" + crypto.randomUUID().slice(0, 8);
  localStorage.setItem(DEVICE, id);
  return id;
}

class GatePage {
  constructor() {
    this.device = deviceId();
    this.online = true;          // the API answered when last asked
    this.syncing = false;        // an upload is under way (one at a time)
    this.busy = false;           // a scan is being decided (the next waits for it)
    this.skewMs = 0;             // server time minus device time, from the last offline pack
    this.pending = null;         // an unverified code waiting for the operator's decision
  }

  now() {
    return new Date(Date.now() + this.skewMs);
  }

  // ---------------------------------------------------------------- scanning
  async scan(raw) {
    const code = raw.trim();
    const gate = $("gate").value.trim();
    if (!code || this.busy) return;
    if (!gate) { this.show({ result: "rejected", reason: "no_gate" }); $("gate").focus(); return; }
    this.busy = true;
    try {
      await this.decide(code, gate);
    } catch (error) {
      this.show({ result: "rejected", reason: "error", message: "本机存储出错：" + explain(error) });
    } finally {
      this.busy = false;
      await this.refreshCounts();
    }
  }

  async decide(code, gate) {
    this.pending = null;         // a new scan: an unverified code left undecided was not let through
    const at = this.now();
    const body = { code, gate, device_id: this.device, nonce: crypto.randomUUID(), scanned_at: at.toISOString() };
    const claims = claimsOf(code);
    if (claims && !takes($("gate-mode").value, claims.k)) {
      this.show({ result: "rejected", reason: "wrong_kind", kind: claims.k });
      return;
    }
    // What this device let through and has not uploaded yet, the server cannot know: the gate's
    // rule decides here, with it, without asking.
    const before = await store.admitted(keysOf(code));
    let decided = before ? null : await this.askServer(body);
    if (decided) {
      if (decided.result === "ok") await store.remember(keysOf(code), gate, body.scanned_at, venueDate());
      this.show(decided);
      return;
    }
    decided = await this.decideOffline(code, at, before);
    if (decided.result === "ok") await this.admitOffline(body, decided, gate);
    else if (decided.result === "unverified") this.pending = { body, decided, gate };
    this.show(decided);
  }

  // The server's answer, or null when it could not give one (the gate's rule decides then).
  async askServer(body) {
    if (!this.online || !session()) return null;
    try {
      return { ...await post("/redemptions", body, { timeoutMs: SCAN_WAIT_MS }), online: true };
    } catch (error) {
      if (error instanceof ApiError && (error.status === 404 || error.status === 409) && error.body) {
        return { ...error.body, online: true };
      }
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        this.showLogin(error.status === 401 ? "登录已过期，请重新登录（本次扫码已离线处理）" : "此账号没有核销权限");
      } else if (error instanceof Offline || (error instanceof ApiError && error.status >= 429)) {
        this.setOnline(false);
      } else {
        return { result: "rejected", reason: "error", message: explain(error), online: true };
      }
      return null;
    }
  }

  // The gate's rule over what it holds: the pack (keys and revocations) and this device's
  // admission of the code (`before`), shown with the answer when that is the reason.
  async decideOffline(code, at, before) {
    const pack = await store.loadPack();
    const held = { revoked: pack ? pack.revoked : [], admitted: before };
    if (isQr(code) && pack) {
      const claims = await verifyQr(code, pack);
      const decided = admission(claims, at, held);
      return { ...decided, keys: claims ? ["t:" + claims.t, "c:" + claims.c] : [],
               first: decided.reason === "already_redeemed" ? before : null };
    }
    if (!isQr(code) && !manualCode(code)) return { result: "rejected", reason: "invalid" };
    return { ...unverifiable(held), keys: keysOf(code), first: before };
  }

  async admitOffline(body, decided, gate) {
    await store.enqueue({ ...body, local: decided.result });
    await store.remember(decided.keys, gate, body.scanned_at, venueDate());
  }

  // The operator looked at the visitor's e-ticket and decided: only then is an unverified code
  // let through (and redeemed on upload).
  async settlePending(admit) {
    const waiting = this.pending;
    this.pending = null;
    if (!waiting) return;
    if (admit) await this.admitOffline(waiting.body, waiting.decided, waiting.gate);
    this.show(admit ? { result: "ok", kind: "manual", online: false }
                    : { result: "rejected", reason: "operator", message: "已拒绝放行" });
    await this.refreshCounts();
  }

  show(decided) {
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

  async refreshCounts() {
    const waiting = (await store.queued()).length;
    $("offline-queue").textContent = `${waiting} 条待上传`;
    $("offline-queue").dataset.count = String(waiting);
    const gate = $("gate").value.trim();
    $("gate-count").textContent = gate ? String(await store.admittedToday(gate, venueDate())) : "0";
  }

  // ---------------------------------------------------------------- network, pack and upload
  setOnline(value) {
    const changed = this.online !== value;
    this.online = value;
    const pill = $("connection");
    pill.dataset.online = String(value);
    pill.textContent = value ? "在线" : "离线";
    if (value && changed) { this.refreshPack(); this.sync(); }
  }

  // Every few seconds: is the API reachable (a failed request may have been a passing drop), is
  // the operator still logged in, and is anything waiting to go up.
  async tick() {
    if (!session() && $("login-panel").hidden) this.showLogin("登录已过期，请重新登录以上传离线记录");
    try {
      await get("/health", { anonymous: true, timeoutMs: SCAN_WAIT_MS });
      this.setOnline(true);
    } catch (error) {
      this.setOnline(false);
    }
    if (this.online) await this.sync();
    await this.showPack();
  }

  async refreshPack() {
    if (!session()) return;
    try {
      await refreshPack();
    } catch (error) {
      if (error instanceof Offline) this.setOnline(false);
    }
    await this.showPack();
  }

  async showPack() {
    const pack = await store.loadPack();
    if (pack) learnVenueZone(pack.venue_timezone);      // the server's word, kept with the pack for offline
    const line = $("pack");
    if (!pack) {
      line.textContent = "尚未下载离线包：联网登录后自动下载";
      line.dataset.stale = "true";
      return;
    }
    this.skewMs = Math.abs(pack.skew_ms || 0) > 60000 ? pack.skew_ms : 0;   // a device clock off by over a minute
    const stale = Date.now() - Date.parse(pack.fetched_at) > PACK_STALE_MS;
    line.dataset.stale = String(stale);
    line.textContent = `离线包：${pack.keys.length} 把验签密钥，${pack.revoked.length} 张已作废，更新于 ${localTime(pack.fetched_at)}`
      + (stale ? "。已超过 2 小时未更新，退票可能未同步，请尽快联网" : "")
      + (this.skewMs ? `。本机时间偏差 ${Math.round(this.skewMs / 60000)} 分钟，已按服务器时间校正` : "");
  }

  async sync() {
    if (this.syncing || !this.online || !session()) return;
    this.syncing = true;                           // before any await: one upload at a time
    const problem = $("upload-problem");
    try {
      await uploadQueue((scan, result) => this.conflict(scan, result));
      problem.hidden = true;
    } catch (error) {
      if (error instanceof Offline) this.setOnline(false);
      else if (error instanceof ApiError && error.status === 401) this.showLogin("登录已过期，请重新登录后上传离线记录");
      else {
        problem.hidden = false;
        problem.textContent = `离线记录上传失败（${explain(error)}），将自动重试；如持续失败请联系管理员`;
      }
    } finally {
      this.syncing = false;
      await this.refreshCounts();
    }
  }

  // A scan admitted here offline that the server refused (gate-conflicts.js keeps them).
  conflict(scan, result) {
    if (recordConflict(scan, result, REASONS)) this.showConflicts();
  }

  showConflicts() {
    const kept = keptConflicts();
    const list = $("sync-conflicts");
    list.replaceChildren(...kept.map((c) => Object.assign(document.createElement("li"), { textContent: c.line })));
    list.closest("section").hidden = !kept.length;
  }

  // ---------------------------------------------------------------- the page
  showLogin(message) {
    $("login-panel").hidden = false;
    $("login-error").hidden = !message;
    $("login-error").textContent = message || "";
  }

  async signIn(event) {
    event.preventDefault();
    try {
      const kept = await login($("username").value.trim(), $("password").value);
      if (!kept.roles.some((r) => r === "scanner" || r === "admin")) {
        this.showLogin("此账号没有核销权限");
        return;
      }
      $("login-panel").hidden = true;
      $("operator").textContent = kept.username;
      this.online = false;                         // as if back online: the pack and the queue at once
      this.setOnline(true);
      $("code").focus();
    } catch (error) {
      this.showLogin(explain(error));
    }
  }

  start() {
    const gate = $("gate");
    gate.value = localStorage.getItem(GATE) || "";
    gate.addEventListener("change", () => { localStorage.setItem(GATE, gate.value.trim()); this.refreshCounts(); });
    const mode = $("gate-mode");
    mode.value = localStorage.getItem(MODE) || "any";
    mode.addEventListener("change", () => localStorage.setItem(MODE, mode.value));
    $("code").addEventListener("keydown", (event) => {
      if (event.key === "Enter") { event.preventDefault(); this.scan($("code").value); }
    });
    $("scan-submit").addEventListener("click", () => this.scan($("code").value));
    $("admit").addEventListener("click", () => this.settlePending(true));
    $("refuse").addEventListener("click", () => this.settlePending(false));
    $("login-form").addEventListener("submit", (event) => this.signIn(event));
    $("camera-start").addEventListener("click", () => startCamera(document.querySelector("video"), {
      say: (text) => { $("camera-state").textContent = text; },
      onCode: (text) => this.scan(text),
      paused: () => this.pending !== null,
    }));
    window.addEventListener("online", () => this.tick());
    window.addEventListener("offline", () => this.setOnline(false));
    const current = session();
    if (current) $("operator").textContent = current.username; else this.showLogin();
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
    this.setOnline(navigator.onLine);
    this.showPack().catch(() => {}).then(() => {        // the venue's zone as the pack says, before days are counted
      store.forgetBefore(venueDate(-3)).catch(() => {});
      return this.refreshCounts();
    });
    this.showConflicts();
    setInterval(() => this.tick(), TICK_MS);
    setInterval(() => { if (this.online) this.refreshPack(); }, PACK_REFRESH_MS);
    if (navigator.onLine) this.refreshPack();
    if ("serviceWorker" in navigator) navigator.serviceWorker.register("sw.js").catch(() => {});
    $("code").focus();
    document.body.dataset.ready = "true";
  }
}

new GatePage().start();
