// A QR code drawn as an SVG from qrcode-generator's modules (vendored, VENDORED.md): crisp at any
// size and on any screen, with the quiet zone scanners need. The payload is encoded exactly as given.
import qrcode from "./qrcode-generator-2.0.4.js";

const NS = "http://www.w3.org/2000/svg";
const QUIET = 4;              // modules of white around the code, as the standard asks

export function qrModules(payload) {
  const code = qrcode(0, "M");
  code.addData(payload, "Byte");
  code.make();
  const n = code.getModuleCount();
  return { size: n, dark: (row, col) => code.isDark(row, col) };
}

export function qrSvg(payload, label = "二维码") {
  const { size, dark } = qrModules(payload);
  let d = "";
  for (let row = 0; row < size; row += 1) {
    for (let col = 0; col < size; col += 1) {
      if (dark(row, col)) d += `M${col + QUIET} ${row + QUIET}h1v1h-1z`;
    }
  }
  const total = size + QUIET * 2;
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${total} ${total}`);
  svg.setAttribute("shape-rendering", "crispEdges");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  const background = document.createElementNS(NS, "rect");
  background.setAttribute("width", String(total));
  background.setAttribute("height", String(total));
  background.setAttribute("fill", "#fff");
  const path = document.createElementNS(NS, "path");
  path.setAttribute("d", d);
  path.setAttribute("fill", "#000");
  svg.append(background, path);
  return svg;
}
