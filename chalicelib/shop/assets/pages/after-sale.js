// 申请售后 (#/after-sale/<order_id>): goods handed over (pickup redeemed) or received go back as a return
// (退货退款) or an exchange for another spec at the same price (换货): lines and quantities, a reason
// from the API's list, a description. Below, the order's after-sales with their status and what the
// customer may do next: send the goods back (carrier and number, or at the counter), or withdraw.
import { get, h } from "../api.js";
import { yuan } from "../money.js";
import { askForMessages } from "../subscribe.js";
import { REASONS, TYPE_WORDS, afterSaleHint, afterSaleWord, customerSteps, exchangeOptions, reasonWord, roomByLine,
         specText } from "../after-order-words.js";
import { errorLine, postOnce, orderHead, statusLabel, tap } from "../after-order-view.js";

const when = (iso) => (iso || "").slice(0, 16).replace("T", " ");

function linesText(order, lines) {
  return lines.map((l) => {
    const line = (order.items || []).find((i) => i.sku_id === l.sku_id);
    return `${line ? `${line.product_name} · ${line.name}` : l.sku_id} ×${l.quantity}`;
  }).join("；");
}

function steps(order, a, reload) {
  const allowed = customerSteps(a);
  if (!allowed.length) return null;
  const base = `/orders/${encodeURIComponent(order.order_id)}/after-sales/${encodeURIComponent(a.after_sale_id)}`;
  const message = errorLine();
  const run = (button, path, body, waiting) => tap(button, message, () => postOnce(path, body),
                                                   waiting).then((done) => done && reload());
  const carrier = h("input", { placeholder: "快递公司，如 顺丰", maxlength: 50, "aria-label": "快递公司" });
  const number = h("input", { placeholder: "快递单号", maxlength: 64, inputmode: "text", "aria-label": "快递单号" });
  const send = h("button", { type: "submit", testid: "after-sale-send" }, "提交快递单号");
  const counter = h("button", { type: "button", class: "secondary", testid: "after-sale-counter",
                                onclick: () => run(counter, base + "/return", { at_counter: true }) }, "我已到店退回");
  const cancel = h("button", { type: "button", class: "secondary", testid: "after-sale-cancel",
                               onclick: () => run(cancel, base + "/cancel", {}, "正在撤销…") }, "撤销申请");
  return h("div", { class: "steps" },
    allowed.includes("send") ? h("form", { class: "send-back", onsubmit: (e) => {
      e.preventDefault();
      if (!carrier.value.trim() || !number.value.trim()) {
        message.hidden = false;
        message.textContent = "请填写快递公司和快递单号";
        return;
      }
      run(send, base + "/return", { carrier: carrier.value.trim(), tracking_no: number.value.trim() });
    } }, carrier, number, send) : null,
    h("div", { class: "buttons" }, allowed.includes("counter") ? counter : null, allowed.includes("cancel") ? cancel : null),
    message);
}

function afterSaleCard(order, a, reload) {
  return h("li", { class: "card", testid: "after-sale-item", "data-after-sale-id": a.after_sale_id, "data-status": a.status },
    h("div", { class: "row" }, h("strong", {}, TYPE_WORDS[a.type] || a.type),
      statusLabel(afterSaleWord(a.status), a.status, { testid: "after-sale-status" })),
    h("p", { class: "muted small" }, afterSaleHint(a)),
    h("p", { class: "small" }, linesText(order, a.lines)),
    h("p", { class: "small" }, `原因：${reasonWord(a.reason)}`, a.description ? `（${a.description}）` : ""),
    a.amount != null ? h("p", { class: "small" }, `退款金额 ${yuan(a.amount)}`) : null,
    h("p", { class: "muted small" }, `申请时间 ${when(a.created_at)}`),
    steps(order, a, reload));
}

function lineRow(entry, products, exchangeMode) {
  const { line, room } = entry;
  const quantity = h("select", { "aria-label": "数量", testid: "after-sale-quantity" },
    Array.from({ length: room + 1 }, (_, n) => h("option", { value: n }, n === 0 ? "不选" : `${n} 件`)));
  const options = exchangeOptions(products.get(line.product_id), line.sku_id);
  const spec = h("select", { "aria-label": "换成", testid: "after-sale-exchange" },
    options.length ? options.map((s) => h("option", { value: s.sku_id, disabled: !(s.available > 0) },
                                          `${specText(s)}${s.available > 0 ? "" : "（缺货）"}`))
      : h("option", { value: "" }, "暂无可换规格"));
  const swap = h("label", { class: "swap", hidden: !exchangeMode() }, "换成", spec);
  return { line, quantity, spec, swap,
    element: h("div", { class: "line-pick", testid: "after-sale-line", "data-sku-id": line.sku_id },
      h("div", { class: "grow" }, h("strong", {}, line.product_name),
        h("span", { class: "muted small block" }, `${line.name} · 可申请 ${room} 件`)),
      quantity, swap) };
}

function requestForm(order, afterSales, products, reload) {
  const entries = roomByLine(order, afterSales).filter((e) => e.room > 0);
  if (!entries.length) return h("p", { class: "notice" }, "该订单没有可申请售后的商品");
  const types = Object.entries(TYPE_WORDS).map(([value, word], i) => h("label", { class: "pill", testid: "after-sale-type" },
    h("input", { type: "radio", name: "type", value, checked: i === 0, onchange: () => rows.forEach((r) => {
      r.swap.hidden = !exchange();
    }) }), word));
  const exchange = () => types.some((l) => l.querySelector("input").checked && l.querySelector("input").value === "exchange");
  const rows = entries.map((e) => lineRow(e, products, exchange));
  const reasons = REASONS.map(([value, word], i) => h("label", { class: "pill" },
    h("input", { type: "radio", name: "reason", value, checked: i === 0 }), word));
  const description = h("textarea", { id: "after-sale-description", rows: 3, maxlength: 200,
                                      placeholder: "问题描述（选填），如商品哪里有损坏" });
  const message = errorLine();
  const submit = h("button", { type: "submit", class: "block", testid: "after-sale-submit" }, "提交申请");
  return h("form", { class: "card", onsubmit: async (event) => {
    event.preventDefault();
    const picked = rows.filter((r) => Number(r.quantity.value) > 0);
    const complain = (text) => { message.hidden = false; message.textContent = text; };
    if (!picked.length) return complain("请选择要退换的商品和数量");
    const body = { type: exchange() ? "exchange" : "return_refund",
                   lines: picked.map((r) => ({ sku_id: r.line.sku_id, quantity: Number(r.quantity.value) })),
                   reason: reasons.map((l) => l.querySelector("input")).find((i) => i.checked).value };
    if (description.value.trim()) body.description = description.value.trim();
    if (body.type === "exchange") {
      if (picked.length > 1) return complain("换货一次只能选择一种商品");
      if (!picked[0].spec.value) return complain("该商品暂无可换的其他规格");
      body.exchange_sku_id = picked[0].spec.value;
    }
    const path = `/orders/${encodeURIComponent(order.order_id)}/after-sales`;
    const made = await tap(submit, message, async () => {
      await askForMessages("refund");
      return postOnce(path, body);
    });
    if (made) await reload(made.after_sale_id);
  } },
    h("fieldset", {}, h("legend", {}, "售后类型"), h("div", { class: "pills" }, types)),
    h("fieldset", {}, h("legend", {}, "商品和数量"), rows.map((r) => r.element)),
    h("fieldset", {}, h("legend", {}, "原因"), h("div", { class: "pills" }, reasons)),
    h("label", { for: "after-sale-description" }, "问题描述"), description,
    h("p", { class: "muted small" }, "商品自提或签收后 7 天内可申请。退货退款在商家收到商品后按实付金额原路退回。"),
    message, submit);
}

async function render([orderId]) {
  const id = encodeURIComponent(orderId || "");
  const root = h("div", { class: "after-order" });
  const load = async (fresh) => {
    const [order, list] = await Promise.all([get(`/orders/${id}`), get(`/orders/${id}/after-sales`)]);
    const items = (list.items || []).slice().reverse();        // newest first
    const ids = [...new Set((order.items || []).filter((l) => l.kind === "merch").map((l) => l.product_id))];
    const products = new Map(await Promise.all(ids.map(async (pid) => {
      try { return [pid, await get(`/catalog/products/${encodeURIComponent(pid)}`)]; } catch (e) { return [pid, null]; }
    })));
    const made = fresh && items.find((a) => a.after_sale_id === fresh);
    root.replaceChildren(
      made ? h("div", { class: "notice ok", role: "status", testid: "after-sale-result" },
               `售后申请已提交：${afterSaleWord(made.status)}`) : "",
      orderHead(order),
      items.length ? h("section", {}, h("h2", { class: "section-title" }, "售后记录"),
                       h("ul", { class: "plain" }, items.map((a) => afterSaleCard(order, a, () => load())))) : "",
      h("h2", { class: "section-title" }, "申请售后"),
      requestForm(order, list.items || [], products, load));
    if (fresh) window.scrollTo(0, 0);
  };
  await load();
  return root;
}

export const page = { title: "申请售后", signIn: true, render };
