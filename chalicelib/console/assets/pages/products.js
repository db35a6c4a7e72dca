// 商品: a product with its first SKU or session, a product's card (listing now or on a schedule, a new
// SKU or session), and the CSV import in parts of whole products.
import { get, h, patch, post, request, yuan } from "../api.js";
import { localTime, venueInstant } from "../venue-time.js";
import { action, cell, enc, table, tag } from "../widgets.js";

const PRODUCTS_SHOWN = 12;           // one GetItem each: the page stays a dozen reads
async function products(body) {
  const kind = h("select", {}, h("option", { value: "ticket" }, "门票"), h("option", { value: "merch" }, "文创商品"));
  const name = h("input", { placeholder: "商品名称", maxlength: 100 });
  const category = h("input", { placeholder: "分类，如 museum / souvenir", maxlength: 50 });
  const sku = h("input", { placeholder: "规格或场次名称，如 成人票", maxlength: 100 });
  const price = h("input", { type: "number", min: 0, step: "0.01", placeholder: "价格（元）" });
  const stock = h("input", { type: "number", min: 0, step: 1, placeholder: "库存" });
  const start = h("input", { type: "datetime-local" });
  const end = h("input", { type: "datetime-local" });
  const listed = h("select", {}, h("option", { value: "listed" }, "立即上架"), h("option", { value: "unlisted" }, "暂不上架"));
  const created = h("div", {});
  const at = venueInstant;
  body.append(h("div", { class: "card section" }, h("h2", {}, "新建商品"),
    h("div", { class: "row" }, kind, name, category, listed),
    h("div", { class: "row" }, sku, price, stock, h("span", { class: "hint" }, "场次（门票）"), start, end),
    action("创建", async () => {
      const fen = Math.round(parseFloat(price.value) * 100);
      if (!(fen > 0)) throw new Error("请填写价格（元，大于 0）");
      const first = { name: sku.value.trim(), price: fen, stock: parseInt(stock.value || "0", 10) };
      if (kind.value === "ticket") first.session = { start: at(start.value), end: at(end.value) };
      const product = await post("/admin/products", { kind: kind.value, name: name.value.trim(),
        category: category.value.trim() || undefined, status: listed.value, skus: [first] });
      created.prepend(productCard(product));
      return `已创建 ${product.product_id}`;
    }), created));

  const lookup = h("input", { placeholder: "商品编号，如 P…" });
  const found = h("div", {});
  const open = async (productId) => {
    found.replaceChildren(productCard(await get(`/admin/products/${enc(productId)}`)));
    found.scrollIntoView({ behavior: "smooth" });
  };
  const known = h("div", { class: "row" });
  body.append(h("div", { class: "card section" }, h("h2", {}, "查看与编辑商品"),
    h("div", { class: "row" }, lookup, action("查找", () => open(lookup.value.trim()), { secondary: true })),
    h("p", { class: "hint" }, "或从库存中的商品选择："), known, found));
  // The products that have stock records, newest pages first: one click opens one.
  const page = await get("/admin/inventory?limit=100");
  const skus = new Map();
  for (const item of page.items) skus.set(item.product_id, [...(skus.get(item.product_id) || []), item.name]);
  const shown = await Promise.all([...skus.keys()].slice(0, PRODUCTS_SHOWN).map((id) => get(`/admin/products/${enc(id)}`)
    .catch(() => null)));
  for (const product of shown.filter(Boolean)) {
    known.append(h("button", { class: "secondary", type: "button", title: product.product_id,
                               onclick: () => open(product.product_id) }, `${product.name}（${product.status === "listed" ? "在售" : "未上架"}）`));
  }
  body.append(importer());
}

function productCard(product) {
  const when = h("input", { type: "datetime-local" });
  const skuName = h("input", { placeholder: "新场次或规格名称" });
  const skuPrice = h("input", { type: "number", min: 0, step: "0.01", placeholder: "价格（元）" });
  const skuStock = h("input", { type: "number", min: 0, placeholder: "库存" });
  const start = h("input", { type: "datetime-local" });
  const end = h("input", { type: "datetime-local" });
  const box = h("div", { class: "card section", testid: "product-" + product.product_id });
  const render = (p) => {
    box.replaceChildren(
      h("div", { class: "row" }, h("b", {}, p.name), tag(p.status), h("span", { class: "muted" },
        `${p.product_id} · ${p.kind === "ticket" ? "门票" : "文创"} · ${p.category || ""}`),
        p.list_at ? h("span", { class: "hint" }, "定时上架 " + localTime(p.list_at)) : null,
        p.delist_at ? h("span", { class: "hint" }, "定时下架 " + localTime(p.delist_at)) : null),
      table([["规格/场次"], ["价格", 1], ["可售", 1], ["场次时间"]], p.skus.map((s) => h("tr", {},
        cell(s.name), cell(yuan(s.price), 1), cell(s.available, 1),
        cell(s.session ? `${localTime(s.session.start)} – ${localTime(s.session.end)}` : "—")))),
      h("div", { class: "row" },
        action(p.status === "listed" ? "立即下架" : "立即上架", async () => {
          render(await patch(`/admin/products/${p.product_id}`, { status: p.status === "listed" ? "unlisted" : "listed" }));
        }, { secondary: true }),
        when,
        action("定时上架", async () => { render(await patch(`/admin/products/${p.product_id}`, { list_at: venueInstant(when.value) })); }, { secondary: true }),
        action("定时下架", async () => { render(await patch(`/admin/products/${p.product_id}`, { delist_at: venueInstant(when.value) })); }, { secondary: true })),
      h("div", { class: "row" }, skuName, skuPrice, skuStock,
        p.kind === "ticket" ? [start, end] : null,
        action(p.kind === "ticket" ? "添加场次" : "添加规格", async () => {
          const sku = { name: skuName.value.trim(), price: Math.round(parseFloat(skuPrice.value || "0") * 100),
                        stock: parseInt(skuStock.value || "0", 10) };
          if (p.kind === "ticket") sku.session = { start: venueInstant(start.value), end: venueInstant(end.value) };
          await post(`/admin/products/${p.product_id}/skus`, sku);
          render(await get(`/admin/products/${p.product_id}`));
        })));
  };
  render(product);
  return box;
}

// CSV import: sent in parts of whole products (the server takes a product's rows together), so
// staff see progress on a big file; each error is reported at its line in the original file.
const IMPORT_PART_ROWS = 200;

// Records of a CSV text, each with the line it starts on; quoted fields may hold commas and
// line breaks.
function csvRecords(text) {
  const records = [];
  let field = "", fields = [], quoted = false, line = 1, startLine = 1, raw = "";
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    raw += c;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; raw += '"'; i += 1; }
      else if (c === '"') quoted = false;
      else { field += c; if (c === "\n") line += 1; }
    } else if (c === '"') quoted = true;
    else if (c === ",") { fields.push(field); field = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") { i += 1; }
      fields.push(field);
      records.push({ line: startLine, fields, raw: raw.replace(/\r?\n?$/, "") });
      field = ""; fields = []; raw = ""; line += 1; startLine = line;
    } else field += c;
  }
  if (field || fields.length) { fields.push(field); records.push({ line: startLine, fields, raw }); }
  return records;
}

// UTF-8, or the GBK that Excel on a Chinese Windows saves.
async function csvText(file) {
  const bytes = await file.arrayBuffer();
  try { return new TextDecoder("utf-8", { fatal: true }).decode(bytes).replace(/^\ufeff/, ""); }
  catch (e) { return new TextDecoder("gbk").decode(bytes); }
}

function importer() {
  const file = h("input", { type: "file", accept: ".csv,text/csv" });
  const bar = h("div", {});
  const progress = h("div", { class: "progress", testid: "import-progress", hidden: true }, bar);
  const status = h("p", { class: "hint" });
  const errors = h("div", { testid: "import-errors" });
  return h("div", { class: "card section" }, h("h2", {}, "CSV 批量导入"),
    h("p", { class: "hint" }, "第一行为列名，必填 product, kind（ticket 或 merch）, name, sku_name, price（单位：分，整数）；"
      + "可选 category, status, stock, session_start, session_end 等。同一商品的多个规格或场次各占一行，product 列相同。"
      + "UTF-8 或 Excel 另存的 GBK 均可。"),
    h("div", { class: "row" }, file, action("开始导入", async () => {
      if (!file.files.length) throw new Error("请先选择 CSV 文件");
      const [header, ...rows] = csvRecords(await csvText(file.files[0])).filter((r) => r.raw.trim());
      const productColumn = header ? header.fields.indexOf("product") : -1;
      if (productColumn < 0) throw new Error("第一行缺少 product 列");
      const byProduct = new Map();                 // a product's rows go together, wherever they stand
      for (const row of rows) {
        const key = row.fields[productColumn];
        byProduct.set(key, [...(byProduct.get(key) || []), row]);
      }
      const parts = [];
      let part = [];
      for (const group of byProduct.values()) {
        if (part.length && part.length + group.length > IMPORT_PART_ROWS) { parts.push(part); part = []; }
        part = part.concat(group);
      }
      if (part.length) parts.push(part);
      progress.hidden = false;
      errors.replaceChildren();
      let created = 0, failed = 0;
      for (const [n, records] of parts.entries()) {
        const answer = await request("POST", "/admin/products/import", undefined,
                                     { raw: [header.raw, ...records.map((r) => r.raw)].join("\r\n"), contentType: "text/csv" });
        created += answer.created;
        for (const e of answer.errors) {
          failed += 1;
          const original = records[e.line - 2];     // the server counts the header as line 1
          errors.append(h("p", { class: "error" }, `第 ${original ? original.line : "?"} 行：${e.message}`));
        }
        bar.style.width = `${Math.round(((n + 1) / parts.length) * 100)}%`;
        status.textContent = `已处理 ${n + 1}/${parts.length} 批`;
      }
      return `导入完成：新建 ${created} 个商品，${failed} 行有误`;
    })), progress, status, errors);
}

export const page = { route: "products", title: "商品", needs: "POST /admin/products", render: products };
