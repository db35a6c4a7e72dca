// 退款: the refunds of one status; those waiting are approved or rejected here, failed ones sent again.
import { h, post, yuan } from "../api.js";
import { localTime, sessionTime } from "../venue-time.js";
import { action, cell, hashQuery, idCell, paged, tag } from "../widgets.js";

const REVIEW_WORDS = { admission_open: "已开始入场：游客可能已经通过离线闸机入园，请核实后再批准", goods: "含商品：请确认退货情况" };
const REFUND_STATES = ["REQUESTED", "FAILED", "PROCESSING", "APPROVED", "SUCCEEDED", "REJECTED"];
const REFUND_WORDS = { REQUESTED: "待审核", FAILED: "退款失败", PROCESSING: "处理中", APPROVED: "已批准",
                       SUCCEEDED: "已退款", REJECTED: "已拒绝" };

// What a refund takes back, a line per SKU: "城市博物馆 成人票 · 2026/12/6 10:00–12:00 × 2 ¥240.00",
// goods "文创帆布袋 · 红色 × 1 ¥39.00". A refund of money that bought nothing (paid late, or the
// wrong amount) takes nothing back.
function itemsCell(r) {
  if (!r.items) return h("td", { class: "muted" }, "—");
  if (!r.items.length) return h("td", { class: "muted", testid: "refund-items" }, "不退回商品（仅退多付款项）");
  return h("td", { class: "refund-items", testid: "refund-items" }, r.items.map((i) => h("div", { class: "refund-item", testid: "refund-item" },
    i.session ? [`${i.product_name} ${i.name} · `, h("span", { class: "nowrap" }, sessionTime(i.session))] : `${i.product_name} · ${i.name}`,
    h("b", { class: "nowrap" }, ` × ${i.quantity}`),
    i.amount !== undefined ? h("span", { class: "muted nowrap" }, ` ${yuan(i.amount)}`) : null)));
}

// For whom: the order's contact, masked as everywhere ("王** 139****0000").
const contactCell = (r) => r.contact
  ? h("td", { class: "nowrap", testid: "refund-contact" }, h("div", {}, r.contact.name), h("div", { class: "muted" }, r.contact.phone))
  : h("td", { class: "muted" }, "—");

async function refunds(body, { may }) {
  const wanted = hashQuery().get("status") || "REQUESTED";
  const list = h("div", {});
  const decide = may("POST /admin/refunds/{refund_id}/approve");
  body.append(h("div", { class: "row" }, REFUND_STATES.map((s) =>
    h("a", { href: `#/refunds?status=${s}`, class: "tag " + (s === wanted ? s : "") }, REFUND_WORDS[s]))), list);
  const rows = h("tbody", {});
  list.append(h("table", { class: "refund-queue" }, h("thead", {}, h("tr", {}, ["退款单", "订单", "退款内容", "顾客", "金额", "原因", "状态", "申请时间", ""].map((t, i) =>
    h("th", { class: i === 4 ? "num" : "" }, t)))), rows));
  const refresh = () => refunds(body.replaceChildren() || body, { may });
  await paged(list, `/admin/refunds?status=${wanted}`, (items) => {
    for (const r of items) {
      const returned = h("input", { type: "checkbox" });
      const why = h("input", { placeholder: "拒绝原因" });
      const held = r.gateway_status === "ABNORMAL" && (r.status === "FAILED" || r.status === "PROCESSING");
      const reasonCell = h("td", { class: "reason" }, r.reason + (r.last_error && !held ? `（${r.last_error}）` : ""),
        ...(r.review_reasons || []).map((k) => h("div", { class: "hint", testid: "review-reason" }, REVIEW_WORDS[k] || k)),
        held ? h("div", { class: "error" }, "微信退款异常（用户银行卡已注销或冻结），款项暂存微信：请在商户平台「交易中心→异常退款」处理，处理后此处自动完成，切勿重复退款") : null);
      rows.append(h("tr", {}, idCell(r.refund_id), idCell(r.order_id), itemsCell(r), contactCell(r), cell(yuan(r.amount), 1),
        reasonCell, h("td", {}, tag(r.status)), cell(localTime(r.created_at)),
        h("td", {}, decide && r.status === "REQUESTED" ? h("div", {},
          r.goods ? h("label", { class: "row" }, returned, "商品已退回") : null,
          h("div", { class: "row" }, action("批准", () => post(`/admin/refunds/${r.refund_id}/approve`, { goods_returned: returned.checked }).then(() => "已批准"), { then: refresh }),
            why, action("拒绝", () => post(`/admin/refunds/${r.refund_id}/reject`, { reason: why.value.trim() || "不符合退款条件" }).then(() => "已拒绝"), { danger: true, then: refresh })))
          : decide && r.status === "FAILED" && !held
            ? action("重新退款", () => post(`/admin/refunds/${r.refund_id}/retry`).then(() => "已重新提交"), { then: refresh }) : null)));
    }
  });
}

export const page = { route: "refunds", title: "退款", needs: "GET /admin/refunds", render: refunds };
