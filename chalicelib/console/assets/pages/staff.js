// 员工账号: accounts created, their roles changed, disabled and enabled again.
import { explain, h, patch, post, session } from "../api.js";
import { localTime } from "../venue-time.js";
import { action, cell, enc, idCell, paged } from "../widgets.js";

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

export const page = { route: "staff", title: "员工账号", needs: "POST /admin/staff", render: staff };
