// 商品详情: a product's specs (goods) or its sessions by date (tickets), how many, and 立即购买.
import { get, h } from "../api.js";
import { dateTab, sessionHours, sessionsByDate, venueToday } from "../dates.js";
import { yuan } from "../money.js";
import { KIND_WORDS } from "./catalog.js";

// Spec names as visitors read them; a name the shop does not know is shown as the API gives it.
const ATTRIBUTE_WORDS = { size: "尺码", colour: "颜色", color: "颜色", style: "款式", material: "材质" };

export function specText(sku) {
  const attributes = Object.entries(sku.attributes || {});
  if (!attributes.length) return sku.name;
  return attributes.map(([k, v]) => `${ATTRIBUTE_WORDS[k] || k}：${v}`).join("　");
}

// The most a visitor can take of a SKU now: what is left, the product's purchase limit, and 99.
export function maxQuantity(product, sku) {
  return Math.max(0, Math.min(sku ? sku.available : 0, product.purchase_limit || 99, 99));
}

function choice(sku, product, chosen, onChoose, label) {
  const soldOut = sku.available <= 0;
  const input = h("input", { type: "radio", name: "sku", value: sku.sku_id, checked: sku.sku_id === chosen,
                             disabled: soldOut, onchange: () => onChoose(sku) });
  return h("label", { class: "choice" + (soldOut ? " disabled" : ""), testid: "sku", "data-sku": sku.sku_id }, input,
    h("span", { class: "grow" }, h("strong", {}, label), h("br"), h("span", { class: "muted" }, sku.name)),
    h("span", { class: "side" }, h("strong", { class: "price-small" }, yuan(sku.price)), h("br"),
      h("span", { class: soldOut ? "muted" : "ok" }, soldOut ? "售罄" : `余 ${sku.available}`)));
}

export function stepper(value, max, onChange) {
  const input = h("input", { type: "number", inputmode: "numeric", min: 1, max, value, testid: "quantity",
                             "aria-label": "数量" });
  const set = (n) => {
    const next = Math.max(1, Math.min(max || 1, Number.isFinite(n) ? n : 1));
    input.value = String(next);
    onChange(next);
  };
  input.addEventListener("change", () => set(Math.floor(Number(input.value))));
  return h("div", { class: "stepper" },
    h("button", { type: "button", class: "secondary", "aria-label": "减少", onclick: () => set(Number(input.value) - 1) }, "−"),
    input,
    h("button", { type: "button", class: "secondary", "aria-label": "增加", onclick: () => set(Number(input.value) + 1) }, "+"));
}

// A ticket's sessions: a strip of dates (the day chosen underlined), and that day's sessions as choices.
// A day opens on its first session left; the visitor's session stays chosen until they choose another.
function sessionPicker(product, chosen, onChoose) {
  const days = sessionsByDate(product.skus);
  const today = venueToday();
  const sessions = h("div", { class: "choices", role: "radiogroup", "aria-label": "场次" });
  const strip = h("div", { class: "date-strip", role: "tablist", "aria-label": "日期" });
  const show = (day) => {
    for (const tab of strip.children) tab.setAttribute("aria-selected", String(tab.dataset.date === day.date));
    sessions.replaceChildren(...day.skus.map((s) => choice(s, product, chosen() && chosen().sku_id, onChoose,
                                                           sessionHours(s.session))));
    if (!day.skus.some((s) => chosen() && s.sku_id === chosen().sku_id)) {
      const open = day.skus.find((s) => s.available > 0);
      onChoose(open || null);
      if (open) sessions.querySelector(`input[value="${CSS.escape(open.sku_id)}"]`).checked = true;
    }
  };
  for (const day of days) {
    const left = day.skus.reduce((n, s) => n + Math.max(0, s.available), 0);
    const tab = dateTab(day.date, today);
    strip.append(h("button", { type: "button", role: "tab", class: "date" + (left ? "" : " sold-out"), testid: "date",
                               "data-date": day.date, onclick: () => show(day) },
      h("span", {}, tab.when), h("strong", {}, tab.day), h("small", {}, left ? "可约" : "售罄")));
  }
  const first = days.find((d) => d.skus.some((s) => chosen() && s.sku_id === chosen().sku_id)) || days[0];
  if (first) show(first);
  return h("fieldset", {}, h("legend", {}, "选择日期和场次"), strip, sessions);
}

async function render(args, query) {
  const product = await get(`/catalog/products/${encodeURIComponent(args[0] || "")}`);
  const wanted = product.skus.find((s) => s.sku_id === query.get("sku") && s.available > 0);
  let sku = wanted || product.skus.find((s) => s.available > 0) || null;
  let quantity = 1;
  const buy = h("button", { type: "button", class: "block", testid: "buy" }, "立即购买");
  const limit = h("p", { class: "muted" });
  const quantityBox = h("div");
  const refresh = () => {
    const max = maxQuantity(product, sku);
    quantity = Math.min(quantity, Math.max(max, 1));
    quantityBox.replaceChildren(stepper(quantity, max, (n) => { quantity = n; }));
    limit.textContent = product.purchase_limit ? `每单限购 ${product.purchase_limit} ${product.kind === "ticket" ? "张" : "件"}` : "";
    buy.disabled = !sku || max < 1;
    buy.textContent = sku ? "立即购买" : "已售罄";
  };
  const onChoose = (chosen) => { sku = chosen; refresh(); };
  buy.addEventListener("click", () => {
    const params = new URLSearchParams({ product: product.product_id, sku: sku.sku_id, qty: String(quantity) });
    location.hash = `#/checkout?${params}`;
  });

  let options;
  if (product.kind === "ticket") {
    options = sessionPicker(product, () => sku, onChoose);
  } else {
    options = h("fieldset", {}, h("legend", {}, "选择规格"),
      h("div", { class: "choices" }, product.skus.map((s) => choice(s, product, sku && sku.sku_id, onChoose, specText(s)))));
  }
  refresh();
  const notes = [];
  if (product.real_name) notes.push("实名制门票：下单时需为每张票填写游客身份证件。");
  if (product.fulfillment && product.fulfillment.length) {
    notes.push("取货方式：" + product.fulfillment.map((f) => (f === "shipping" ? "快递配送" : "到店自提")).join("、"));
  }
  return h("div", { class: "product-detail" },
    h("section", { class: "card" },
      h("span", { class: "tag tag-" + product.kind }, KIND_WORDS[product.kind] || ""),
      h("h2", { class: "product-name" }, product.name),
      product.description ? h("p", { class: "muted" }, product.description) : null,
      notes.map((n) => h("p", { class: "notice" }, n))),
    h("section", { class: "card" }, options),
    h("section", { class: "card" }, h("label", {}, "数量"), quantityBox, limit),
    h("div", { class: "action-bar" }, buy));
}

export const page = { title: "商品详情", signIn: false, render };
