// 售后: goods customers asked to return (退货退款) or exchange (换货), by state; each one's request,
// history, shipments and refund, and the steps its state allows; and the after-sales report.
import { ApiError, explain, get, h, post, yuan } from "../api.js";
import { barChart } from "../charts.js";
import { localTime, venueDate } from "../venue-time.js";
import { action, cell, enc, field, hashQuery, idCell, paged, table } from "../widgets.js";
import { AFTER_SALE_STATES, TYPE_FILTER, hoursWords, linesWords, ratePercent, reasonChart, reasonWord,
         replacementWords, returnWords, specWords, stateWord, stepsFor, typeWord } from "../after-sales-words.js";

const CALLS = {
  approve: "POST /admin/after-sales/{after_sale_id}/approve", reject: "POST /admin/after-sales/{after_sale_id}/reject",
  receive: "POST /admin/after-sales/{after_sale_id}/receive", ship: "POST /admin/after-sales/{after_sale_id}/ship",
};
const REPORT = "GET /admin/reports/after-sales";
const HEADERS = ["售后单", "订单", "类型", "商品", "原因", "申请时间", "状态", ""];
let flash = "";            // what the last step did, said above the list it refreshed

const link = (params) => "#/after-sales?" + new URLSearchParams(Object.entries(params).filter(([, v]) => v));
const statusTag = (status) => h("span", { class: "tag " + status, testid: "after-sale-status" }, stateWord(status));

async function afterSales(body, context) {
  const query = hashQuery();
  const report = query.get("view") === "report";
  const status = query.get("status") || "REQUESTED";
  const type = query.get("type") || "";
  const tabs = h("div", { class: "row tabs" },
    AFTER_SALE_STATES.map(([s, word]) => h("a", { href: link({ status: s, type }), testid: "after-sale-tab-" + s,
      class: "tag " + (!report && s === status ? "current" : "") }, word)),
    h("span", { class: "muted" }, "｜"),
    h("a", { href: link({ view: "report" }), testid: "after-sale-tab-report", class: "tag " + (report ? "current" : "") }, "售后报表"));
  body.append(tabs);
  if (report) await reportView(body, context);
  else await queue(body, context, status, type);
}

// ------------------------------------------------------------------ the queue
async function queue(body, context, status, type) {
  const kind = h("select", { testid: "after-sale-type", onchange: () => { location.hash = link({ status, type: kind.value }); } },
    TYPE_FILTER.map(([value, word]) => h("option", { value, selected: value === type }, word)));
  const said = flash ? h("p", { class: "notice", testid: "after-sale-flash" }, flash) : null;
  flash = "";
  const list = h("div", {});
  const rows = h("tbody", {});
  list.append(h("table", { class: "after-sales" }, h("thead", {}, h("tr", {}, HEADERS.map((t) => h("th", {}, t)))), rows));
  body.append(h("div", { class: "row" }, field("类型", kind)), ...(said ? [said] : []), list);
  const names = { owners: {} };     // sku_id -> {product, spec}, from each order once; owners: order -> customer
  const refresh = async (message) => {
    flash = message;
    body.replaceChildren();
    await afterSales(body, context);
  };
  await paged(list, `/admin/after-sales?status=${enc(status)}${type ? "&type=" + enc(type) : ""}`, (items) => {
    if (!items.length && !rows.children.length) {
      rows.append(h("tr", {}, h("td", { colspan: HEADERS.length, class: "muted" }, `暂无${stateWord(status)}的售后申请`)));
    }
    const drawn = items.map((a) => row(a, names, context, refresh));
    rows.append(...drawn.flatMap((d) => d.rows));
    learnNames(items, names, () => drawn.forEach((d) => d.named()));
  });
}

function row(a, names, context, refresh) {
  const what = h("td", { testid: "after-sale-what" }, linesWords(a.lines, names));
  const spots = [];            // what shows a name, and how to say it once the names are read
  const detail = h("tr", { class: "detail", testid: "after-sale-detail", hidden: true });
  const open = h("button", { class: "secondary", type: "button", testid: "after-sale-open", onclick: () => {
    detail.hidden = !detail.hidden;
    open.textContent = detail.hidden ? "详情" : "收起";
    if (!detail.hidden) detail.replaceChildren(h("td", { colspan: HEADERS.length }, details(a, names, context, refresh, spots)));
  } }, "详情");
  const line = h("tr", { testid: "after-sale-row", "data-after-sale-id": a.after_sale_id, "data-order-id": a.order_id,
                         "data-status": a.status, "data-type": a.type },
    idCell(a.after_sale_id), idCell(a.order_id), h("td", { class: "nowrap" }, typeWord(a.type)), what, h("td", { class: "nowrap" }, reasonWord(a.reason)),
    h("td", { class: "nowrap" }, localTime(a.created_at)), h("td", {}, statusTag(a.status)), h("td", { class: "actions" }, open));
  return { rows: [line, detail], named: () => {
    what.textContent = linesWords(a.lines, names);
    for (const [element, words] of spots) element.textContent = words();
  } };
}

// The names of the goods: the lines' from their order (staff may read it), an exchange's target spec
// from its product in the catalog. A name that cannot be read leaves the SKU shown.
async function learnNames(items, names, named) {
  const orders = [...new Set(items.map((a) => a.order_id))];
  const read = await Promise.all(orders.map((id) => get(`/orders/${enc(id)}`).catch(() => null)));
  const productOf = {};
  for (const order of read.filter(Boolean)) {
    names.owners[order.order_id] = order.user_id;
    for (const item of order.items || []) {
      names[item.sku_id] = { product: item.product_name, spec: item.name };
      productOf[item.sku_id] = item.product_id;
    }
  }
  named();
  const wanted = items.filter((a) => a.exchange_sku_id && !names[a.exchange_sku_id]);
  const products = [...new Set(wanted.map((a) => productOf[a.lines[0] && a.lines[0].sku_id]).filter(Boolean))];
  const catalog = await Promise.all(products.map((id) => get(`/catalog/products/${enc(id)}`, { anonymous: true }).catch(() => null)));
  for (const product of catalog.filter(Boolean)) {
    for (const sku of product.skus || []) names[sku.sku_id] = names[sku.sku_id] || { product: product.name, spec: sku.name };
  }
  if (wanted.length) named();
}

// ------------------------------------------------------------------ one after-sale
function details(a, names, { may }, refresh, spots) {
  const named = (words) => {
    const element = h("span", {}, words());
    spots.push([element, words]);
    return element;
  };
  const facts = [
    ["问题描述", a.description || "（未填写）"],
    ["商品", named(() => linesWords(a.lines, names))],
    a.exchange_sku_id ? ["换成规格", named(() => specWords(a.exchange_sku_id, names))] : null,
    ["退回物流", returnWords(a.return_shipment)],
    a.restocked !== undefined ? ["重新入库", a.restocked ? "是" : "否"] : null,
    a.receive_note ? ["收货备注", a.receive_note] : null,
    a.refund_id ? ["退款", `${a.refund_id} · ${yuan(a.amount)}`] : a.amount !== undefined ? ["退款金额", yuan(a.amount)] : null,
    a.shipment ? ["换货发出", replacementWords(a.shipment)] : null,
    a.reject_reason ? ["拒绝原因", a.reject_reason] : null,
  ].filter(Boolean);
  const steps = stepsFor(a, (step) => may(CALLS[step]));
  return h("div", { class: "card after-sale-detail", testid: "after-sale-detail-card" },
    h("h2", {}, `${typeWord(a.type)} · 售后单 ${a.after_sale_id}`),
    h("dl", { class: "facts" }, facts.flatMap(([k, v]) => [h("dt", {}, k), h("dd", { testid: "after-sale-fact" }, v)])),
    h("h3", {}, "处理记录"),
    table([["状态"], ["时间"], ["操作人"]], (a.history || []).map((e) => h("tr", { testid: "after-sale-history" },
      cell(stateWord(e.status)), h("td", { class: "nowrap" }, localTime(e.at)), cell(named(() => byWords(e.by, names.owners[a.order_id])))))),
    steps.length ? h("div", { class: "steps" }, steps.map((step) => STEPS[step](a, refresh)))
      : h("p", { class: "hint", testid: "after-sale-no-step" }, noStepWords(a)));
}

function noStepWords(a) {
  if (stepsFor(a).length) return "当前账号只能查看，处理请联系客服或管理员";
  if (a.status === "RECEIVED") return "退款成功后自动变为已完成";
  return "此状态无需操作";
}

// Who took a step: the order's customer, WeChat Pay (a refund settled), or the staff member by name.
const byWords = (by, owner) => (by && by === owner ? "顾客"
  : { customer: "顾客", staff: "员工", wechat_pay: "微信支付", system: "系统" }[by] || by || "—");

// A step's button with its hook for tests: widgets.action says 处理中… and how it went.
function step(testid, label, work, then, options = {}) {
  const made = action(label, work, { ...options, then });
  made.querySelector("button").dataset.testid = testid;
  return made;
}

const done = (a, word) => `售后单 ${a.after_sale_id} ${word}`;
const call = (a, name, payload) => post(`/admin/after-sales/${enc(a.after_sale_id)}/${name}`, payload);

const STEPS = {
  approve: (a, refresh) => {
    let message = "";
    return h("div", { class: "row" }, step("after-sale-approve", "同意", async () => {
      await call(a, "approve");
      message = done(a, a.type === "exchange" ? "已同意，换货商品已预留" : "已同意，等待顾客退回");
      return message;
    }, () => refresh(message)));
  },
  reject: (a, refresh) => {
    const why = h("input", { placeholder: "拒绝原因（顾客可见）", testid: "after-sale-reject-reason", maxlength: 200, style: "width:16em" });
    return h("div", { class: "row" }, why, step("after-sale-reject", "拒绝", async () => {
      const reason = why.value.trim();
      if (!reason) throw new Error("请填写拒绝原因");
      await call(a, "reject", { reason });
      return done(a, "已拒绝");
    }, () => refresh(done(a, "已拒绝")), { danger: true }));
  },
  receive: (a, refresh) => {
    const restock = h("input", { type: "checkbox", testid: "after-sale-restock" });
    const note = h("input", { placeholder: "收货备注（选填）", testid: "after-sale-receive-note", maxlength: 500, style: "width:16em" });
    return h("div", { class: "row" }, h("label", { class: "check" }, restock, "重新入库（完好可再售）"), note,
      step("after-sale-receive", "确认收货", async () => {
        await call(a, "receive", { restock: restock.checked, ...(note.value.trim() ? { note: note.value.trim() } : {}) });
      }, () => refresh(done(a, a.type === "return_refund" ? "已收货，退款已提交" : "已收货，请发出换货"))));
  },
  ship: (a, refresh) => {
    const carrier = h("input", { placeholder: "快递公司", testid: "after-sale-carrier", style: "width:9em" });
    const tracking = h("input", { placeholder: "运单号", testid: "after-sale-tracking", style: "width:12em" });
    let code = "";
    return h("div", { class: "row" }, carrier, tracking,
      step("after-sale-ship", "发出换货", async () => {
        if (!carrier.value.trim() || !tracking.value.trim()) throw new Error("请填写快递公司和运单号，或选择到店自提");
        await call(a, "ship", { carrier: carrier.value.trim(), tracking_no: tracking.value.trim() });
      }, () => refresh(done(a, "换货已发出"))),
      h("span", { class: "muted" }, "或"),
      step("after-sale-ship-pickup", "到店自提", async () => {
        const shipped = await call(a, "ship", { pickup: true });
        code = shipped.shipment && shipped.shipment.pickup_code;
      }, () => refresh(done(a, `换货改为到店自提，提货码 ${code}`)), { secondary: true }));
  },
};

// ------------------------------------------------------------------ the report
async function reportView(body, { may }) {
  const from = h("input", { type: "date", value: venueDate(-29), testid: "after-sales-report-from" });
  const to = h("input", { type: "date", value: venueDate(), testid: "after-sales-report-to" });
  const out = h("div", { testid: "after-sales-report" });
  const unavailable = () => out.replaceChildren(h("p", { class: "muted card", testid: "after-sales-report-unavailable" },
    "售后报表暂未开放：服务器尚未提供此报表，或当前账号无权查看。售后队列不受影响。"));
  const load = async () => {
    if (!may(REPORT)) { unavailable(); return; }
    let r;
    try {
      r = await get(`/admin/reports/after-sales?from=${enc(from.value)}&to=${enc(to.value)}`);
    } catch (error) {
      if (error instanceof ApiError && (error.status === 404 || error.status === 403)) { unavailable(); return; }
      out.replaceChildren(h("p", { class: "error" }, explain(error)));
      return;
    }
    drawReport(out, r);
  };
  body.append(h("h2", {}, "售后报表"), h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); load(); } },
    from, "至", to, h("button", { type: "submit" }, "查询")), out);
  await load();
}

function drawReport(out, r) {
  const t = r.totals || {};
  const chart = h("div", { class: "chart", testid: "after-sales-report-chart" });
  const rows = r.rows || [];
  out.replaceChildren(
    h("div", { class: "grid section", testid: "after-sales-report-totals" },
      [["申请数", t.requests ?? 0, "requests"], ["退货", t.returns ?? 0, "returns"], ["换货", t.exchanges ?? 0, "exchanges"],
       ["退款率", ratePercent(t.refund_rate), "refund-rate"], ["平均处理时长", hoursWords(t.hours_to_resolve), "hours"]]
        .map(([label, value, id]) => h("div", { class: "card" }, h("div", { class: "label" }, label),
          h("div", { class: "big", testid: "after-sales-total-" + id }, value)))),
    h("div", { class: "card section", hidden: !rows.length }, h("h3", {}, "按原因"), chart),
    table([["原因"], ["申请", 1], ["退货", 1], ["换货", 1], ["退款金额", 1]], rows.map((x) => h("tr", { testid: "after-sales-report-row" },
      cell(reasonWord(x.key) === x.key ? x.label || x.key : reasonWord(x.key)), cell(x.requests, 1), cell(x.returns, 1),
      cell(x.exchanges, 1), cell(yuan(x.refunded), 1))), "所选日期内没有售后申请"));
  if (rows.length) {
    const { labels, series } = reasonChart(rows);
    barChart(chart, labels, series, true);
  }
}

export const page = { route: "after-sales", title: "售后", needs: "GET /admin/after-sales", render: afterSales };
