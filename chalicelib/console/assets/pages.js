// The back-office pages after the dashboard. Each names the call it needs; the menu shows it only
// to roles the API allows that call.
import { download, explain, get, h, localTime, patch, post, request, session, venueDate, venueInstant, yuan } from "./api.js";
import { barChart, lineChart } from "./charts.js";

const hashQuery = () => new URLSearchParams(location.hash.split("?")[1] || "");
const enc = encodeURIComponent;

function table(headers, rows, empty = "暂无数据") {
  if (!rows.length) return h("p", { class: "muted" }, empty);
  return h("table", {}, h("thead", {}, h("tr", {}, headers.map(([label, num]) => h("th", { class: num ? "num" : "" }, label)))),
           h("tbody", {}, rows));
}
const cell = (value, num) => h("td", { class: num ? "num" : "" }, value);
const idCell = (value) => h("td", { class: "id" }, value);
const STATUS_WORDS = {
  PENDING_PAYMENT: "待支付", PAID: "已支付", SHIPPED: "已发货", COMPLETED: "已完成", CANCELLED: "已取消", EXPIRED: "已过期",
  REFUNDING: "退款中", REFUNDED: "已退款", PARTIALLY_REFUNDED: "部分退款", REQUESTED: "待审核", APPROVED: "已批准",
  PROCESSING: "处理中", SUCCEEDED: "已退款", FAILED: "退款失败", REJECTED: "已拒绝", listed: "在售", unlisted: "未上架",
  MATCHED: "一致", DIFFERENCES: "有差异", NOT_RUN: "未对账", critical: "严重", warning: "警告", info: "提示",
};
const tag = (text) => h("span", { class: "tag " + text, title: text }, STATUS_WORDS[text] || text);
const REVIEW_WORDS = { admission_open: "已开始入场：游客可能已经通过离线闸机入园，请核实后再批准", goods: "含商品：请确认退货情况" };
const CANCEL_WORDS = { payment_amount_mismatch: "支付金额与订单不符，款项已自动原路退回" };

// Runs an action and says how it went next to the button that started it.
function action(label, work, options = {}) {
  const note = h("span", { class: "hint" });
  const button = h("button", { class: options.secondary ? "secondary" : options.danger ? "danger" : "", type: "button",
    onclick: async () => {
      button.disabled = true;
      note.className = "hint";
      note.textContent = "处理中…";
      try {
        const message = await work();
        note.className = "notice";
        note.textContent = message || "已完成";
        if (options.then) await options.then();
      } catch (error) {
        note.className = "error";
        note.textContent = explain(error);
      } finally {
        button.disabled = false;
      }
    } }, label);
  return h("span", { class: "row" }, button, note);
}

// "Load more" paging over a cursor.
async function paged(container, path, render) {
  const join = path.includes("?") ? "&" : "?";
  let cursor = null;
  const more = h("button", { class: "secondary", type: "button", onclick: () => next() }, "加载更多");
  if (container.more) container.more.remove();       // a new search: the old list's button goes
  container.more = more;
  async function next() {
    const page = await get(path + (cursor ? `${join}cursor=${enc(cursor)}` : ""));
    render(page.items);
    cursor = page.next;
    more.hidden = !cursor;
  }
  container.after(more);
  await next();
}

// ------------------------------------------------------------------ products
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

// ------------------------------------------------------------------ inventory
async function inventory(body, { may }) {
  const lowOnly = h("input", { type: "checkbox", checked: hashQuery().get("low") === "1" });
  const list = h("div", {});
  const ledger = h("div", {});
  const editable = may("POST /admin/stocktakes");
  const splittable = may("POST /admin/inventory/{sku_id}/shards");
  const reload = async () => {
    list.replaceChildren();
    const rows = h("tbody", {});
    list.append(h("table", {}, h("thead", {}, h("tr", {}, ["规格", "商品", "可售", "已占用", "已售", "预警线", "分片", ""].map((t, i) =>
      h("th", { class: i >= 2 && i <= 6 ? "num" : "" }, t)))), rows));
    await paged(list, "/admin/inventory" + (lowOnly.checked ? "?below_threshold=true" : ""), (items) => {
      for (const item of items) {
        const delta = h("input", { type: "number", step: 1, placeholder: "±数量", style: "width:7em" });
        const reason = h("input", { placeholder: "原因", style: "width:8em" });
        const counted = h("input", { type: "number", min: 0, placeholder: "盘点数", style: "width:7em" });
        const shards = h("input", { type: "number", min: Math.max(2, item.stock_shards), max: 96, placeholder: "分片数",
                                    title: "热门场次开售前把库存分到多个分片，承受更高的下单并发", style: "width:6em" });
        const shardsCell = cell(item.stock_shards || "—", 1);
        rows.append(h("tr", { class: item.available < item.low_stock_threshold ? "low" : "" },
          cell(`${item.name}（${item.sku_id}）`), cell(item.product_id), cell(item.available, 1),
          cell(item.reserved, 1), cell(item.sold, 1), cell(item.low_stock_threshold, 1),
          shardsCell,
          h("td", {}, h("div", { class: "row" },
            h("button", { class: "secondary", type: "button", onclick: () => showLedger(item) }, "流水"),
            editable ? [delta, reason, action("调整", async () => {
              const answer = await post(`/admin/inventory/${item.sku_id}/adjustments`,
                                        { delta: parseInt(delta.value, 10), reason: reason.value.trim() || "调整" });
              return `可售 ${answer.available}`;
            }), counted, action("盘点", async () => {
              const answer = await post("/admin/stocktakes", { counts: [{ sku_id: item.sku_id, counted: parseInt(counted.value, 10) }] });
              const [line] = answer.lines;
              return `已盘点：账面 ${line.expected}，实盘 ${line.counted}，差异 ${line.difference > 0 ? "+" : ""}${line.difference}`;
            })] : null,
            splittable ? [shards, action("分片", async () => {
              const answer = await post(`/admin/inventory/${item.sku_id}/shards`, { shards: parseInt(shards.value, 10) });
              shardsCell.textContent = answer.stock_shards;
              return `已分为 ${answer.stock_shards} 片，可售 ${answer.available}`;
            })] : null))));
      }
    });
  };
  const showLedger = async (item) => {
    const rows = h("tbody", {});
    ledger.replaceChildren(h("h2", {}, `库存流水：${item.name}`), h("table", {},
      h("thead", {}, h("tr", {}, ["时间", "变动", "原因", "操作人", "订单"].map((t) => h("th", {}, t)))), rows));
    await paged(rows.parentElement, `/admin/inventory/${item.sku_id}/movements`, (items) => {
      for (const m of items) rows.append(h("tr", {}, cell(localTime(m.at)), cell(m.delta > 0 ? "+" + m.delta : m.delta, 1),
                                             cell(m.reason), cell(m.actor || "—"), cell(m.order_id || "—")));
    });
    ledger.scrollIntoView({ behavior: "smooth" });
  };
  lowOnly.addEventListener("change", reload);
  body.append(h("div", { class: "row" }, h("label", {}, lowOnly, " 只看低于预警线")), list, ledger);
  await reload();
}

// ------------------------------------------------------------------ orders
const ORDER_STATES = ["", "PENDING_PAYMENT", "PAID", "SHIPPED", "COMPLETED", "REFUNDING", "REFUNDED",
                      "PARTIALLY_REFUNDED", "CANCELLED", "EXPIRED"];

async function orders(body, { may }) {
  const q = h("input", { placeholder: "订单号 / 手机号 / 商品名", value: hashQuery().get("q") || "" });
  const state = h("select", {}, ORDER_STATES.map((s) => h("option", { value: s, selected: s === (hashQuery().get("status") || "") }, STATUS_WORDS[s] || "全部状态")));
  const list = h("div", {});
  const detail = h("div", {});
  const search = async () => {
    list.replaceChildren();
    const rows = h("tbody", {});
    list.append(h("table", {}, h("thead", {}, h("tr", {}, ["订单号", "状态", "金额", "商品", "下单时间"].map((t, i) => h("th", { class: i === 2 ? "num" : "" }, t)))), rows));
    const params = new URLSearchParams();
    if (q.value.trim()) params.set("q", q.value.trim());
    if (state.value) params.set("status", state.value);
    await paged(list, "/admin/orders?" + params, (items) => {
      for (const o of items) rows.append(h("tr", {}, h("td", { class: "id" }, h("a", { href: "#/orders", onclick: (e) => { e.preventDefault(); show(o.order_id); } }, o.order_id)),
        h("td", {}, tag(o.status)), cell(yuan(o.total), 1), cell(o.items.map((i) => `${i.product_name}×${i.quantity}`).join("，")),
        cell(localTime(o.created_at))));
    });
  };
  const show = async (orderId) => {
    const o = await get(`/orders/${enc(orderId)}`);
    const carrier = h("input", { placeholder: "快递公司" });
    const tracking = h("input", { placeholder: "运单号" });
    detail.replaceChildren(h("div", { class: "card section" }, h("h2", {}, `订单 ${o.order_id}`),
      h("p", {}, tag(o.status), " ", yuan(o.total), " · 联系人 ", o.contact ? `${o.contact.name} ${o.contact.phone}` : "—"),
      o.cancel_reason ? h("p", { class: "notice" }, CANCEL_WORDS[o.cancel_reason] || o.cancel_reason) : null,
      table([["商品"], ["规格"], ["数量", 1], ["小计", 1]], o.items.map((i) => h("tr", {}, cell(i.product_name), cell(i.name),
        cell(i.quantity, 1), cell(yuan(i.subtotal), 1)))),
      o.address ? h("p", {}, `收货：${o.address.recipient} ${o.address.phone} ${o.address.region} ${o.address.detail}`) : null,
      o.shipment ? h("p", {}, `已发货：${o.shipment.carrier} ${o.shipment.tracking_no}`) : null,
      h("h2", {}, "订单记录"),
      table([["状态"], ["时间"], ["操作人"]], o.history.map((e) => h("tr", {}, cell(e.status), cell(localTime(e.at)), cell(e.by || "—")))),
      o.status === "PAID" && o.address && may("POST /admin/orders/{order_id}/ship")
        ? h("div", { class: "row" }, carrier, tracking, action("发货", async () => {
            await post(`/admin/orders/${o.order_id}/ship`, { carrier: carrier.value.trim(), tracking_no: tracking.value.trim() });
            await show(o.order_id);
          })) : null));
    detail.scrollIntoView({ behavior: "smooth" });
  };
  body.append(h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); search(); } }, q, state,
                h("button", { type: "submit" }, "搜索")), list, detail);
  await search();
}

// ------------------------------------------------------------------ refunds
const REFUND_STATES = ["REQUESTED", "FAILED", "PROCESSING", "APPROVED", "SUCCEEDED", "REJECTED"];
const REFUND_WORDS = { REQUESTED: "待审核", FAILED: "退款失败", PROCESSING: "处理中", APPROVED: "已批准",
                       SUCCEEDED: "已退款", REJECTED: "已拒绝" };

async function refunds(body, { may }) {
  const wanted = hashQuery().get("status") || "REQUESTED";
  const list = h("div", {});
  const decide = may("POST /admin/refunds/{refund_id}/approve");
  body.append(h("div", { class: "row" }, REFUND_STATES.map((s) =>
    h("a", { href: `#/refunds?status=${s}`, class: "tag " + (s === wanted ? s : "") }, REFUND_WORDS[s]))), list);
  const rows = h("tbody", {});
  list.append(h("table", {}, h("thead", {}, h("tr", {}, ["退款单", "订单", "金额", "原因", "状态", "申请时间", ""].map((t, i) =>
    h("th", { class: i === 2 ? "num" : "" }, t)))), rows));
  const refresh = () => refunds(body.replaceChildren() || body, { may });
  await paged(list, `/admin/refunds?status=${wanted}`, (items) => {
    for (const r of items) {
      const returned = h("input", { type: "checkbox" });
      const why = h("input", { placeholder: "拒绝原因" });
      const held = r.gateway_status === "ABNORMAL" && (r.status === "FAILED" || r.status === "PROCESSING");
      const reasonCell = h("td", {}, r.reason + (r.last_error && !held ? `（${r.last_error}）` : ""),
        ...(r.review_reasons || []).map((k) => h("div", { class: "hint", testid: "review-reason" }, REVIEW_WORDS[k] || k)),
        held ? h("div", { class: "error" }, "微信退款异常（用户银行卡已注销或冻结），款项暂存微信：请在商户平台「交易中心→异常退款」处理，处理后此处自动完成，切勿重复退款") : null);
      rows.append(h("tr", {}, idCell(r.refund_id), idCell(r.order_id), cell(yuan(r.amount), 1),
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

// ------------------------------------------------------------------ alerts
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

// ------------------------------------------------------------------ reports
const SALES_GROUPS = { day: "按日", hour: "按时段", product: "按商品", sku: "按规格", category: "按分类" };
const ADMISSION_GROUPS = { hour: "按时段", gate: "按闸口", sku: "按规格", session: "按场次" };

async function reports(body, { may }) {
  const from = h("input", { type: "date", value: venueDate(-6) });
  const to = h("input", { type: "date", value: venueDate() });
  const group = h("select", {}, Object.entries(SALES_GROUPS).map(([k, v]) => h("option", { value: k }, v)));
  const top = h("input", { type: "number", min: 1, max: 1000, placeholder: "前 N 名", style: "width:7em" });
  const totals = h("div", { class: "grid section" });
  const chart = h("div", { class: "chart", testid: "report-chart" });
  const rows = h("div", {});
  const query = () => `from=${from.value}&to=${to.value}&group_by=${group.value}${top.value ? "&top=" + top.value : ""}`;
  const load = async () => {
    const r = await get("/admin/reports/sales?" + query());
    totals.replaceChildren(...[["订单", r.totals.orders], ["件数", r.totals.units], ["销售额", yuan(r.totals.gross)],
      ["退款", yuan(r.totals.refunded)], ["净额", yuan(r.totals.net)], ["客单价", yuan(r.totals.aov)]]
      .map(([label, value]) => h("div", { class: "card" }, h("div", { class: "label" }, label), h("div", { class: "big" }, value))));
    const labels = r.rows.map((x) => x.label || x.key);
    chart.parentElement.hidden = !r.rows.length;
    if (!r.rows.length) { /* nothing sold in the range: the table says so */ } else if (r.group_by === "day" || r.group_by === "hour") lineChart(chart, labels, [{ name: "销售额（元）", data: r.rows.map((x) => x.gross / 100) }, { name: "退款（元）", data: r.rows.map((x) => x.refunded / 100) }]);
    else barChart(chart, labels, [{ name: "销售额（元）", data: r.rows.map((x) => x.gross / 100) }], true);
    rows.replaceChildren(table([["项目"], ["订单", 1], ["件数", 1], ["销售额", 1], ["退款", 1], ["净额", 1], ["客单价", 1]],
      r.rows.map((x) => h("tr", {}, cell(x.label || x.key), cell(x.orders, 1), cell(x.units, 1), cell(yuan(x.gross), 1),
        cell(yuan(x.refunded), 1), cell(yuan(x.net), 1), cell(yuan(x.aov), 1)))));
  };
  if (may("GET /admin/reports/sales")) {
    body.append(h("h2", {}, "销售报表"), h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); load().catch((err) => rows.replaceChildren(h("p", { class: "error" }, explain(err)))); } },
      from, "至", to, group, top, h("button", { type: "submit" }, "查询"),
      action("导出 CSV", () => download("/admin/reports/sales?format=csv&" + query(), `sales-${from.value}-${to.value}.csv`).then(() => "已下载"), { secondary: true })),
      totals, h("div", { class: "card section" }, chart), rows);
    await load();
  }
  const day = h("input", { type: "date", value: venueDate() });
  const by = h("select", {}, Object.entries(ADMISSION_GROUPS).map(([k, v]) => h("option", { value: k }, v)));
  const admissionChart = h("div", { class: "chart", testid: "admissions-chart" });
  const admissionRows = h("div", {});
  const loadAdmissions = async () => {
    const r = await get(`/admin/reports/redemptions?date=${day.value}&group_by=${by.value}`);
    const labels = r.rows.map((x) => x.label || x.key);
    const series = [{ name: "已入场", data: r.rows.map((x) => x.redeemed) }];
    if (r.rows.some((x) => x.issued !== null)) series.push({ name: "已售出", data: r.rows.map((x) => x.issued || 0) });
    admissionChart.parentElement.hidden = !r.rows.length;      // no scans that day: the table says so
    if (r.rows.length) barChart(admissionChart, labels, series, r.group_by !== "hour");
    admissionRows.replaceChildren(table([["项目"], ["已入场", 1], ["已售出", 1]], r.rows.map((x) => h("tr", {},
      cell(x.label || x.key), cell(x.redeemed, 1), cell(x.issued === null ? "—" : x.issued, 1)))));
  };
  body.append(h("h2", {}, "入场统计"), h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); loadAdmissions(); } },
    day, by, h("button", { type: "submit" }, "查询"),
    action("导出 CSV", () => download(`/admin/reports/redemptions?format=csv&date=${day.value}&group_by=${by.value}`, `redemptions-${day.value}.csv`).then(() => "已下载"), { secondary: true })),
    h("div", { class: "card section" }, admissionChart), admissionRows);
  await loadAdmissions();
}

// ------------------------------------------------------------------ reconciliation
const DIFFERENCE_WORDS = {
  missing_in_micromall: "微信有、本系统无的支付", missing_in_bill: "本系统有、账单无的支付", amount_mismatch: "支付金额不一致",
  refund_missing_in_micromall: "微信已退、本系统未记的退款", refund_missing_in_bill: "本系统已退、账单无的退款",
  refund_amount_mismatch: "退款金额不一致",
};

// One side of a difference as finance reads it: amount in yuan, status and WeChat's number.
const side = (found) => !found ? "—" : [found.amount !== undefined ? yuan(found.amount) : "", found.status || "",
                                        found.transaction_id || ""].filter(Boolean).join(" · ");

async function reconciliation(body, { may }) {
  const day = h("input", { type: "date", value: venueDate(-1) });
  const result = h("div", {});
  const show = (r) => {
    result.replaceChildren(h("div", { class: "card section" },
      h("p", {}, tag(r.status), ` ${r.date} · 核对时间 ${localTime(r.checked_at)}`,
        r.failure ? h("span", { class: "error" }, ` · 账单获取失败（${r.failure.code}，${localTime(r.failure.at)}），每小时重试`) : null),
      r.bill ? h("p", {}, `账单：${r.bill.trades} 笔支付 ${yuan(r.bill.amount)}，${r.bill.refunds} 笔退款 ${yuan(r.bill.refunded)}`) : null,
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

// ------------------------------------------------------------------ audit
async function audit(body) {
  const actor = h("input", { placeholder: "操作人" });
  const act = h("input", { placeholder: "操作，如 staff_login" });
  const from = h("input", { type: "date", value: venueDate(-6) });
  const to = h("input", { type: "date", value: venueDate() });
  const list = h("div", {});
  const query = () => {
    const p = new URLSearchParams();
    if (actor.value.trim()) p.set("actor", actor.value.trim());
    if (act.value.trim()) p.set("action", act.value.trim());
    p.set("from", `${from.value}T00:00:00+08:00`);
    p.set("to", `${to.value}T23:59:59+08:00`);
    return p.toString();
  };
  const search = async () => {
    list.replaceChildren();
    const rows = h("tbody", {});
    list.append(h("table", {}, h("thead", {}, h("tr", {}, ["时间", "操作人", "操作", "对象", "来源 IP", "详情"].map((t) => h("th", {}, t)))), rows));
    await paged(list, "/admin/audit?" + query(), (items) => {
      for (const e of items) rows.append(h("tr", {}, cell(localTime(e.at)), cell(e.actor), cell(e.action), cell(e.target || "—"),
        cell(e.source_ip || "—"), cell(e.details ? JSON.stringify(e.details) : "")));
    });
  };
  body.append(h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); search(); } }, actor, act, from, "至", to,
    h("button", { type: "submit" }, "搜索"),
    action("导出 CSV", () => download("/admin/audit?format=csv&" + query(), "audit.csv").then(() => "已下载"), { secondary: true })), list);
  await search();
}

// ------------------------------------------------------------------ staff accounts
const ROLE_WORDS = { admin: "管理员", merchandiser: "商品", finance: "财务", support: "客服", scanner: "核销员", auditor: "审计" };

async function staff(body, { may }) {
  const username = h("input", { placeholder: "用户名", maxlength: 64 });
  const password = h("input", { type: "password", placeholder: "初始密码（至少 12 位）" });
  const boxes = Object.entries(ROLE_WORDS).map(([role, word]) => h("label", {}, h("input", { type: "checkbox", value: role }), word));
  const made = h("ul", {});
  const list = h("div", { testid: "staff-list" });
  body.append(h("div", { class: "card section" }, h("h2", {}, "新建员工账号"),
    h("div", { class: "row" }, username, password), h("div", { class: "row" }, boxes),
    action("创建账号", async () => {
      const roles = boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
      const answer = await post("/admin/staff", { username: username.value.trim(), password: password.value, roles });
      made.append(h("li", {}, `${answer.username}：${answer.roles.map((r) => ROLE_WORDS[r] || r).join("、")}`));
      password.value = "";
      await load();
      return "已创建";
    }), made),
    h("div", { class: "card section" }, h("h2", {}, "全部账号"),
      h("p", { class: "hint" }, "停用账号或修改角色立即生效：该员工已登录的设备需重新登录。不能停用自己或取消自己的管理员角色。"), list),
    h("p", { class: "hint" }, "员工的登录与每一次变更都记入审计日志。"));

  const me = (session() || {}).username;
  const editable = may("PATCH /admin/staff/{username}");
  // A change answers the account as it now is: its row is drawn again from that, saying what happened.
  function row(a, message) {
    const roleBoxes = Object.entries(ROLE_WORDS).map(([role, word]) => h("label", { class: "check" },
      h("input", { type: "checkbox", value: role, checked: a.roles.includes(role), disabled: !editable,
                   testid: `staff-role-${role}` }), word));
    const chosen = () => roleBoxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
    const note = h("span", { class: message ? "notice" : "hint", testid: "staff-note" }, message || "");
    const change = (label, changes, said, options = {}) => {
      const button = h("button", { type: "button", class: options.danger ? "danger" : "secondary", onclick: async () => {
        button.disabled = true;
        note.className = "hint";
        note.textContent = "处理中…";
        try {
          const changed = await patch(`/admin/staff/${enc(a.username)}`, changes());
          tr.replaceWith(row(changed, said(changed)));
        } catch (error) {
          note.className = "error";
          note.textContent = explain(error);
          button.disabled = false;
        }
      } }, label);
      return button;
    };
    const self = a.username === me;
    const actions = !editable ? [] : [
      change("保存角色", () => ({ roles: chosen() }), (c) => `已保存：${c.roles.map((r) => ROLE_WORDS[r] || r).join("、")}`),
      self ? h("span", { class: "hint" }, "（当前账号）")
           : change(a.disabled ? "启用" : "停用", () => ({ disabled: !a.disabled }), (c) => c.disabled ? "已停用" : "已启用",
                    { danger: !a.disabled }),
    ];
    const tr = h("tr", { testid: "staff-row", "data-username": a.username, "data-disabled": String(a.disabled) },
      idCell(a.username), h("td", { class: "roles" }, roleBoxes),
      h("td", { testid: "staff-status" }, h("span", { class: "tag " + (a.disabled ? "FAILED" : "SUCCEEDED") }, a.disabled ? "已停用" : "启用中")),
      cell(localTime(a.created_at)), cell(a.last_login_at ? localTime(a.last_login_at) : "从未登录"),
      h("td", {}, h("div", { class: "row" }, actions), note));
    return tr;
  }
  async function load() {
    const rows = h("tbody", {});
    list.replaceChildren(h("table", {}, h("thead", {}, h("tr", {},
      ["用户名", "角色", "状态", "创建时间", "最近登录", "操作"].map((t) => h("th", {}, t)))), rows));
    await paged(list, "/admin/staff?limit=100", (items) => { for (const a of items) rows.append(row(a)); });
  }
  await load();
}

export const PAGES = [
  { route: "products", title: "商品", needs: "POST /admin/products", render: products },
  { route: "inventory", title: "库存", needs: "GET /admin/inventory", render: inventory },
  { route: "orders", title: "订单", needs: "GET /admin/orders", render: orders },
  { route: "refunds", title: "退款", needs: "GET /admin/refunds", render: refunds },
  { route: "alerts", title: "预警", needs: "GET /admin/alerts", render: alerts },
  { route: "reports", title: "报表", needs: "GET /admin/reports/redemptions", render: reports },
  { route: "reconciliation", title: "对账", needs: "GET /admin/reconciliation", render: reconciliation },
  { route: "audit", title: "审计日志", needs: "GET /admin/audit", render: audit },
  { route: "staff", title: "员工账号", needs: "POST /admin/staff", render: staff },
];
