// Scans this gate let through offline that the server refused on upload (同步冲突): the operator
// must hear of each, also after a reload, so they are kept in localStorage, newest first.
import { isQr } from "./gate-codes.js";
import { venueClock } from "./venue-time.js";

const CONFLICTS = "mm.conflicts";
const KEPT = 50;

export const keptConflicts = () => JSON.parse(localStorage.getItem(CONFLICTS) || "[]");

// Keeps the line saying what happened, in staff's words (`words`: the reasons); false when the
// scan is listed already (an upload answered twice).
export function recordConflict(scan, result, words) {
  const when = venueClock(scan.scanned_at);
  const what = isQr(scan.code) ? "二维码" : scan.code;
  const first = result.first_gate ? `，此票已于 ${venueClock(result.first_redeemed_at)} 在 ${result.first_gate} 核销` : "";
  const refunded = result.conflict === "admitted_then_refunded" ? "：游客入园后此票被退款，已通知管理员核查"
    : result.conflict === "admitted_while_revoked" ? "：此票已退款，离线包过期仍放行，已通知管理员核查"
    : result.conflict === "invalid_time" ? "：扫码时间早于出票或已超过上传时限，请核对本机时间，已通知管理员核查" : "";
  const line = `${when} ${scan.gate} 放行的${what}：服务器判定「${words[result.reason] || result.reason}」${first}${refunded}`;
  const kept = keptConflicts();
  if (kept.some((c) => c.nonce === scan.nonce)) return false;
  localStorage.setItem(CONFLICTS, JSON.stringify([{ nonce: scan.nonce, line }, ...kept].slice(0, KEPT)));
  return true;
}
