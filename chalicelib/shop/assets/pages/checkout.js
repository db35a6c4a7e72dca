// 填写订单: visitors (one per ticket when the product is real-name), contact, pickup or shipping for
// goods, a coupon from those the customer claimed, and the price exactly as POST /orders/quote gives it.
import { explain, get, h, newKey, post } from "../api.js";
import { sessionText } from "../dates.js";
import { couponCondition, couponValue, yuan } from "../money.js";
import { missing, orderBody } from "../order-form.js";
import { FULFILLMENT, ID_TYPES } from "../words.js";
import { act, row } from "../view.js";
import { specText } from "./product.js";

const input = (attributes) => h("input", { autocomplete: "off", ...attributes });

function field(label, element) {
  const id = element.id || (element.id = "f-" + Math.random().toString(36).slice(2, 8));
  return [h("label", { for: id }, label), element];
}

function visitorFields(form, i, onInput) {
  const v = form.visitors[i] || (form.visitors[i] = { name: "", id_type: "id_card", id_number: "" });
  const name = input({ value: v.name, testid: "visitor-name", autocomplete: "name",
                       oninput: (e) => { v.name = e.target.value; onInput(); } });
  const type = h("select", { testid: "visitor-id-type", onchange: (e) => { v.id_type = e.target.value; onInput(); } },
    Object.entries(ID_TYPES).map(([value, text]) => h("option", { value, selected: v.id_type === value }, text)));
  const number = input({ value: v.id_number, testid: "visitor-id", inputmode: "text",
                         oninput: (e) => { v.id_number = e.target.value; onInput(); } });
  return h("fieldset", { class: "visitor" }, h("legend", {}, `游客 ${i + 1}`),
           field("姓名", name), field("证件类型", type), field("证件号码", number));
}

async function render(args, query) {
  const productId = query.get("product") || "";
  const [product, mine] = await Promise.all([
    get(`/catalog/products/${encodeURIComponent(productId)}`), get("/me/coupons?status=AVAILABLE")]);
  const sku = product.skus.find((s) => s.sku_id === query.get("sku"));
  if (!sku) throw new Error("该规格或场次不存在");
  const form = {
    sku_id: sku.sku_id, quantity: Math.max(1, Number(query.get("qty")) || 1),
    realName: product.kind === "ticket" && !!product.real_name, visitors: [],
    contact: { name: "", phone: "" }, coupon_id: null,
    fulfillment: product.kind === "ticket" ? null : (product.fulfillment || ["pickup"])[0],
    address: { recipient: "", phone: "", region: "", detail: "" },
  };
  let couponChosen = false;          // the visitor picked (or refused) a coupon: the best is no longer chosen for them
  let applicable = null;             // user_coupon_id -> what it takes off, from the latest quote
  const total = h("span", { class: "total", testid: "order-total", "aria-live": "polite" }, yuan(sku.price * form.quantity));
  const priceRows = h("div");
  const hint = h("p", { class: "muted", testid: "quote-hint" });
  const saved = h("p", { class: "saved", testid: "order-discount" });
  const message = h("p", { class: "error", role: "alert", hidden: true, testid: "order-error" });
  const place = h("button", { type: "submit", class: "block", testid: "place-order" }, "提交订单");
  const couponBox = h("div");
  const keys = new Map();            // the body sent -> its Idempotency-Key: a retry of the same order is the same order
  let timer = null;
  let asked = 0;

  // The customer's coupons as choices: those the latest quote found usable here, with what each takes off.
  const drawCoupons = () => {
    const choose = (id) => () => { form.coupon_id = id; couponChosen = true; requote(); };
    const none = h("label", { class: "choice" }, h("input", { type: "radio", name: "coupon", value: "", checked: !form.coupon_id,
      testid: "no-coupon", onchange: choose(null) }), h("span", { class: "grow" }, "不使用优惠券"));
    const options = mine.items.map((c) => {
      const off = applicable && applicable.get(c.user_coupon_id);
      const usable = !applicable || off !== undefined;
      return h("label", { class: "choice" + (usable ? "" : " disabled"), testid: "coupon-choice", "data-coupon": c.user_coupon_id },
        h("input", { type: "radio", name: "coupon", value: c.user_coupon_id, checked: c.user_coupon_id === form.coupon_id,
                     disabled: !usable, onchange: choose(c.user_coupon_id) }),
        h("span", { class: "grow" }, h("strong", {}, c.name), h("br"),
          h("span", { class: "muted" }, `${couponValue(c)} · ${couponCondition(c)}`)),
        h("span", { class: "side" }, off ? h("span", { class: "ok" }, `减${yuan(off)}`) : usable ? "" : h("span", { class: "muted" }, "不可用")));
    });
    couponBox.replaceChildren(mine.items.length ? h("div", { class: "choices" }, none, options)
                                                : h("p", { class: "muted" }, "暂无可用优惠券，可在“优惠券”页领取"));
  };

  const quote = async () => {
    const mineNow = ++asked;
    const problems = missing(form);
    if (problems.length) {
      hint.textContent = `填写${problems[0]}后显示优惠和实付金额`;
      total.textContent = yuan(sku.price * form.quantity);
      priceRows.replaceChildren(row("商品金额", yuan(sku.price * form.quantity)));
      saved.textContent = "";
      return;
    }
    total.setAttribute("aria-busy", "true");
    hint.textContent = "正在计算价格…";
    try {
      const answer = await post("/orders/quote", orderBody(form), { key: false });
      if (mineNow !== asked) return;
      applicable = new Map((answer.applicable_coupons || []).map((c) => [c.user_coupon_id, c.discount]));
      if (!couponChosen && !form.coupon_id && answer.applicable_coupons && answer.applicable_coupons.length) {
        form.coupon_id = answer.applicable_coupons[0].user_coupon_id;          // the best, as the API orders them
        drawCoupons();
        quote();
        return;
      }
      drawCoupons();
      priceRows.replaceChildren(row("商品金额", yuan(answer.subtotal)),
        ...(answer.promotions || []).map((p) => row(p.name || "优惠", "-" + yuan(p.amount), { testid: "promotion" })));
      saved.textContent = answer.discount ? `已优惠 ${yuan(answer.discount)}` : "";
      total.textContent = yuan(answer.total);
      hint.textContent = "";
    } catch (e) {
      if (mineNow !== asked) return;
      hint.textContent = explain(e);
      total.textContent = "—";                    // no figure the API did not quote for this form
      priceRows.replaceChildren();
      saved.textContent = "";
    } finally {
      if (mineNow === asked) total.removeAttribute("aria-busy");
    }
  };
  const requote = () => { clearTimeout(timer); hint.textContent = "正在计算价格…"; timer = setTimeout(quote, 350); };

  const visitorsBox = h("div");
  const drawVisitors = () => {
    visitorsBox.replaceChildren(...Array.from({ length: form.quantity }, (_, i) => visitorFields(form, i, requote)));
  };
  if (form.realName) drawVisitors();

  const addressBox = h("div", { hidden: form.fulfillment !== "shipping" });
  const addressField = (label, key, attrs = {}) => field(label, input({ value: form.address[key], testid: "address-" + key,
    oninput: (e) => { form.address[key] = e.target.value; requote(); }, ...attrs }));
  addressBox.append(...addressField("收件人", "recipient", { autocomplete: "name" }),
    ...addressField("收件人手机号", "phone", { type: "tel", inputmode: "tel", autocomplete: "tel" }),
    ...addressField("所在地区（省 市 区）", "region"), ...addressField("详细地址", "detail", { autocomplete: "street-address" }));
  const fulfillment = form.fulfillment ? h("section", { class: "card" }, h("fieldset", {}, h("legend", {}, "取货方式"),
    h("div", { class: "choices" }, (product.fulfillment || ["pickup"]).map((f) => h("label", { class: "choice" },
      h("input", { type: "radio", name: "fulfillment", value: f, checked: f === form.fulfillment, testid: "fulfillment-" + f,
                   onchange: () => { form.fulfillment = f; addressBox.hidden = f !== "shipping"; requote(); } }),
      h("span", { class: "grow" }, FULFILLMENT[f] || f))))), addressBox) : null;

  const contactName = input({ testid: "contact-name", autocomplete: "name", oninput: (e) => { form.contact.name = e.target.value; requote(); } });
  const contactPhone = input({ testid: "contact-phone", type: "tel", inputmode: "tel", autocomplete: "tel", maxlength: 11,
                               oninput: (e) => { form.contact.phone = e.target.value; requote(); } });

  const submit = async (event) => {
    event.preventDefault();
    const problems = missing(form);
    if (problems.length) { message.hidden = false; message.textContent = `请填写${problems.join("、")}`; return; }
    const body = orderBody(form);
    const text = JSON.stringify(body);
    if (!keys.has(text)) keys.set(text, newKey());
    const placed = await act(place, message, () => post("/orders", body, { key: keys.get(text) }), "正在提交…");
    if (placed) location.hash = `#/pay/${encodeURIComponent(placed.order_id)}`;
  };

  drawCoupons();
  quote();
  const what = product.kind === "ticket" ? sessionText(sku.session) : specText(sku);
  return h("form", { class: "checkout", onsubmit: submit, novalidate: true },
    h("section", { class: "card" }, h("h2", { class: "product-name" }, product.name),
      h("p", { class: "muted" }, what || sku.name), row("单价", yuan(sku.price)),
      row("数量", `${form.quantity} ${product.kind === "ticket" ? "张" : "件"}`)),
    form.realName ? h("section", { class: "card" }, h("h2", { class: "card-title" }, "游客信息"),
      h("p", { class: "muted" }, "实名制门票：每张票对应一位游客，入园时核验证件。"), visitorsBox) : null,
    h("section", { class: "card" }, h("h2", { class: "card-title" }, "联系人"),
      field("姓名", contactName), field("手机号", contactPhone)),
    fulfillment,
    h("section", { class: "card" }, h("h2", { class: "card-title" }, "优惠券"), couponBox),
    h("section", { class: "card" }, priceRows, h("div", { class: "row" }, h("span", {}, "实付"), total), saved, hint),
    h("div", { class: "action-bar" }, message, place));
}

export const page = { title: "填写订单", signIn: true, render };
