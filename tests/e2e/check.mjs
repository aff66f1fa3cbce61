// What every browser script checks on each page it visits, in one place so the rules stay
// the same everywhere: axe-core (WCAG 2.1 A/AA and best practices; a serious or critical
// finding fails), and on a phone nothing reaching past the screen's right edge.
import { createRequire } from "node:module";
import assert from "node:assert/strict";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");

// The chromium flags every script starts Debian's chromium with: nothing of the browser's
// own background traffic or first-run pages gets in the way of the test.
export const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

// Scans `page` with axe and measures what is wider than the viewport. `label` names the page
// in failures. Options:
//   findings   an array that gets every axe finding of any impact (for a report file)
//   fitAlways  hold the width rule at every size, not only below 500 px
export async function check(page, label, { findings, fitAlways = false } = {}) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] } }));
  if (findings) {
    for (const v of result.violations) {
      findings.push({ page: label, id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")) });
    }
  }
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.equal(bad.length, 0, `axe found serious problems on ${label}:\n` +
    bad.map((v) => `  ${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.map((n) => n.target.join(" ")).join("\n    ")}`).join("\n"));
  if (fitAlways || page.viewportSize().width < 500) {
    assert.deepEqual(await page.evaluate(tooWide), [], `wider than the screen on ${label}`);
  }
}

// Runs in the page: up to five elements whose right edge passes the viewport's, named so a
// failure says what to fix, and the page itself when it scrolls sideways. A wide table
// scrolls inside its own box (`.table-wrap`), which stays on the screen.
function tooWide() {
  const width = document.documentElement.clientWidth;
  const scrolls = (e) => {
    for (let p = e.parentElement; p; p = p.parentElement) {
      if (p.classList.contains("table-wrap")) return true;
    }
    return false;
  };
  return [...document.querySelectorAll("body *")].filter((e) => {
    const box = e.getBoundingClientRect();
    return box.width > 1 && box.height > 0 && box.right > width + 0.5 && !scrolls(e);
  }).slice(0, 5).map((e) => `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}.${String(e.className).trim().replace(/\s+/g, ".")} (${Math.round(e.getBoundingClientRect().right)} px)`)
    .concat(document.documentElement.scrollWidth > width ? [`the page (${document.documentElement.scrollWidth} px)`] : []);
}
