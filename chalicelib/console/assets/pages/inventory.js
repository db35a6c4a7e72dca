// 库存: stock per SKU against its low-stock line, with its movements; adjustments, stocktakes and
// stock shards for those the API lets change them.
import { h, post } from "../api.js";
import { localTime } from "../venue-time.js";
import { action, cell, hashQuery, paged } from "../widgets.js";

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

export const page = { route: "inventory", title: "库存", needs: "GET /admin/inventory", render: inventory };
