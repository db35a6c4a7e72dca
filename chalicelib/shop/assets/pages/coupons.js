// Placeholder until its module lands.
import { h } from "../api.js";

export const page = { title: "coupons", signIn: true, render: async () => h("p", {}, "即将开放") };
