// 审计日志: who did what, when and from where, searched and exported as CSV.
import { download, h } from "../api.js";
import { atVenue, localTime, venueDate } from "../venue-time.js";
import { action, cell, paged } from "../widgets.js";

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
    p.set("from", atVenue(`${from.value}T00:00:00`));            // the venue's days, whatever the device's zone
    p.set("to", atVenue(`${to.value}T23:59:59`));
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

export const page = { route: "audit", title: "审计日志", needs: "GET /admin/audit", render: audit };
