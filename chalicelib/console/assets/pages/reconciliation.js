// 对账: one day's payments and refunds against WeChat Pay's bill, and the differences found.
import { get, h, post, yuan } from "../api.js";
import { localTime, venueDate } from "../venue-time.js";
import { action, cell, table, tag } from "../widgets.js";

const DIFFERENCE_WORDS = {
  missing_in_micromall: "微信有、本系统无的支付", missing_in_bill: "本系统有、账单无的支付", amount_mismatch: "支付金额不一致",
  refund_missing_in_micromall: "微信已退、本系统未记的退款", refund_missing_in_bill: "本系统已退、账单无的退款",
  refund_amount_mismatch: "退款金额不一致",
};

// One side of a difference as finance reads it: amount in yuan, what a WeChat voucher paid of it,
// status and WeChat's number.
const side = (found) => !found ? "—" : [found.amount !== undefined ? yuan(found.amount) : "",
                                        found.voucher ? `含代金券 ${yuan(found.voucher)}` : "", found.status || "",
                                        found.transaction_id || ""].filter(Boolean).join(" · ");
// WeChat's vouchers paid part of the day's orders (never a difference): what they paid, and what WeChat settles.
const vouchers = (bill) => bill.voucher ? `（含微信代金券 ${yuan(bill.voucher)}，应结 ${yuan(bill.settlement)}）` : "";

async function reconciliation(body, { may }) {
  const day = h("input", { type: "date", value: venueDate(-1) });
  const result = h("div", {});
  const show = (r) => {
    result.replaceChildren(h("div", { class: "card section" },
      h("p", {}, tag(r.status), ` ${r.date} · 核对时间 ${localTime(r.checked_at)}`,
        r.failure ? h("span", { class: "error" }, ` · 账单获取失败（${r.failure.code}，${localTime(r.failure.at)}），每小时重试`) : null),
      r.bill ? h("p", {}, `账单：${r.bill.trades} 笔支付 ${yuan(r.bill.amount)}${vouchers(r.bill)}，${r.bill.refunds} 笔退款 ${yuan(r.bill.refunded)}`) : null,
      table([["差异"], ["商户订单号"], ["退款单号"], ["本系统"], ["微信账单"]], r.differences.map((d) => h("tr", {},
        cell(DIFFERENCE_WORDS[d.kind] || d.kind), cell(d.out_trade_no), cell(d.out_refund_no || "—"),
        cell(side(d.ours)), cell(side(d.theirs)))), "无差异")));
  };
  const load = async () => show(await get(`/admin/reconciliation?date=${day.value}`));
  body.append(h("div", { class: "row" }, day, h("button", { type: "button", class: "secondary", onclick: load }, "查看"),
    may("POST /admin/reconciliation/{date}/run") ? action("立即对账", async () => { show(await post(`/admin/reconciliation/${day.value}/run`)); return "对账完成"; }) : null),
    result);
  await load();
}

export const page = { route: "reconciliation", title: "对账", needs: "GET /admin/reconciliation", render: reconciliation };
