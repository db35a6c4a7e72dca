// 首页: what is on sale. Tickets show their sessions (场次) by date with what is left of each; goods
// show their price. A card opens the product; a session opens it with that session chosen.
import { get, h } from "../api.js";
import { clock, dateTab, sessionsByDate, sessionsOf, venueToday } from "../dates.js";
import { priceFrom } from "../money.js";
import { empty } from "../view.js";

const DAYS_SHOWN = 3;            // a card shows the next few days; the product page shows them all

export const KIND_WORDS = { ticket: "门票", merch: "文创" };

function stockWords(available) {
  if (available <= 0) return "售罄";
  return `余 ${available}`;
}

function sessionChips(product) {
  const days = sessionsByDate(product.skus).slice(0, DAYS_SHOWN);
  if (!days.length) return null;
  const today = venueToday();
  const named = (date) => { const tab = dateTab(date, today); return `${tab.when} ${tab.day}`; };
  return h("div", { class: "days" }, days.map(({ date, skus }) => h("div", { class: "day" },
    h("h3", {}, named(date)),
    h("div", { class: "chips" }, sessionsOf(skus).map((session) => h("a", {
      class: "chip" + (session.available > 0 ? "" : " sold-out"), testid: "session",
      href: `#/product/${encodeURIComponent(product.product_id)}?sku=${encodeURIComponent(session.sku_id)}`,
      "aria-disabled": session.available > 0 ? null : "true",
    }, h("strong", {}, clock(session.start)), h("span", { class: "stock" }, stockWords(session.available))))))));
}

export function productCard(product) {
  const href = `#/product/${encodeURIComponent(product.product_id)}`;
  return h("article", { class: "card product", testid: "product-card", "data-kind": product.kind },
    h("a", { class: "product-head", href },
      h("span", { class: "tag tag-" + product.kind }, KIND_WORDS[product.kind] || ""),
      h("h2", {}, product.name),
      product.description ? h("p", { class: "muted clamp" }, product.description) : null,
      h("p", { class: "price" }, priceFrom(product.skus))),
    product.kind === "ticket" ? sessionChips(product) : null);
}

async function render() {
  const answer = await get("/catalog/products?limit=200");
  const products = answer.items || [];
  if (!products.length) return empty("暂无在售商品");
  const tickets = products.filter((p) => p.kind === "ticket");
  const goods = products.filter((p) => p.kind !== "ticket");
  return h("div", { class: "catalog" },
    tickets.length ? h("section", {}, h("h2", { class: "section-title" }, "门票预约"), tickets.map(productCard)) : null,
    goods.length ? h("section", {}, h("h2", { class: "section-title" }, "文创商品"), goods.map(productCard)) : null);
}

export const page = { title: "文博商城", signIn: false, render };
