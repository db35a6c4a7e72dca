// 预警: the alerts, newest first; those staff must act on in their words.
import { h, yuan } from "../api.js";
import { localTime } from "../venue-time.js";
import { cell, paged, tag } from "../widgets.js";

const ALERT_WORDS = {
  low_stock: "库存预警", refund_failed: "退款失败", refund_abnormal: "退款异常", refund_twice: "重复退款",
  refund_unexpected: "未知退款", refund_amount_mismatch: "退款金额不符", scan_conflict: "核销冲突",
  admitted_then_refunded: "入园后退款", admitted_while_revoked: "退款后入园", payment_amount_mismatch: "支付金额不符", reconciliation: "对账差异",
  scan_invalid_time: "核销时间异常",
};
// The alerts staff must act on, in their words; the rest as the server wrote them.
function alertText(a) {
  const d = a.details || {};
  if (a.kind === "admitted_then_refunded")
    return `门票 ${d.ticket_id} 于 ${localTime(d.scanned_at)} 在 ${d.gate} 离线入园，之后退款 ${d.refund_id} 于 ${localTime(d.refund_approved_at)} 批准（订单 ${d.order_id}）：游客已入园又获退款，请核查`;
  if (a.kind === "admitted_while_revoked")
    return `门票 ${d.ticket_id} 已被退款 ${d.refund_id} 收回（${localTime(d.refund_approved_at)}），但于 ${localTime(d.scanned_at)} 在 ${d.gate} 离线入园（闸机离线包过期）：此票按已使用处理，不再重新退款，请核查退款（订单 ${d.order_id}）`;
  if (a.kind === "scan_invalid_time")
    return `门票 ${d.ticket_id} 的离线核销记录（${d.gate}，设备 ${d.device_id}）时间为 ${localTime(d.scanned_at)}，早于出票（${localTime(d.issued_at)}）、已超过上传时限或晚于服务器时间：已拒绝，请核查该闸机的时间与操作（订单 ${d.order_id}）`;
  if (a.kind === "refund_abnormal")
    return `退款 ${d.refund_id}（订单 ${d.order_id}，${yuan(d.amount)}）退回用户银行卡失败，款项暂存微信：请在商户平台「交易中心→异常退款」处理，切勿重复退款`;
  if (a.kind === "refund_twice")
    return `退款 ${d.refund_id}（订单 ${d.order_id}，${yuan(d.amount)}）在订单已由其他退款处理后仍被微信支付退回：用户可能收到两次退款，请追回`;
  return a.message;
}

async function alerts(body) {
  const list = h("div", {});
  const rows = h("tbody", {});
  list.append(h("table", {}, h("thead", {}, h("tr", {}, ["时间", "级别", "类型", "内容"].map((t) => h("th", {}, t)))), rows));
  body.append(list);
  await paged(list, "/admin/alerts", (items) => {
    for (const a of items) rows.append(h("tr", {}, cell(localTime(a.created_at)), h("td", {}, tag(a.severity)),
      cell(ALERT_WORDS[a.kind] || a.kind), cell(alertText(a))));
  });
}

export const page = { route: "alerts", title: "预警", needs: "GET /admin/alerts", render: alerts };
