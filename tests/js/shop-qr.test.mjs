// The shop's QR codes (chalicelib/shop/assets/qr.js over the vendored qrcode-generator): what it
// draws reads back as the payload exactly, read by the decoder the gate page uses (jsQR).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { qrModules } from "../../chalicelib/shop/assets/qr.js";

function jsQR() {
  const source = readFileSync(new URL("../../chalicelib/console/assets/jsqr-1.4.0.js", import.meta.url), "utf8");
  const module = { exports: {} };
  new Function("module", "exports", source)(module, module.exports);            // a UMD file, as the page loads it
  return module.exports.default || module.exports;
}

function pixels(payload, scale = 4, quiet = 4) {
  const { size, dark } = qrModules(payload);
  const width = (size + quiet * 2) * scale;
  const data = new Uint8ClampedArray(width * width * 4).fill(255);
  for (let row = 0; row < size; row += 1) {
    for (let col = 0; col < size; col += 1) {
      if (!dark(row, col)) continue;
      for (let y = 0; y < scale; y += 1) {
        for (let x = 0; x < scale; x += 1) {
          const at = (((row + quiet) * scale + y) * width + (col + quiet) * scale + x) * 4;
          data[at] = data[at + 1] = data[at + 2] = 0;
        }
      }
    }
  }
  return { data, width };
}

test("a ticket's signed payload reads back exactly", () => {
  const payload = "MM1.k1.eyJ0IjoiVDAxSjVaWDlZN0FCQ0RFRkdISktNTlBRUlNUIiwiZSI6MTc5NjMzMjkyNn0."
    + "q3xZ0d9Kf-uS2vYc8bW4n1pL7tR6eA5hJ0mN3oQ2sU9wV8xY1zB4cD7fG0iK3lM6nP9rS2tU5vW8xY_z0aB1cD";
  const { data, width } = pixels(payload);
  const read = jsQR()(data, width, width);
  assert.ok(read, "not readable");
  assert.equal(read.data, payload);
});

test("a manual code reads back too, and a longer payload takes a larger code", () => {
  const { data, width } = pixels("7353-5485-5398");
  assert.equal(jsQR()(data, width, width).data, "7353-5485-5398");
  assert.ok(qrModules("x".repeat(300)).size > qrModules("x".repeat(20)).size);
});
