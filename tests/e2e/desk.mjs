// The desk at the scale of a day's work, in headless Chromium: an account whose feed gave
// 20 posts × 7 platforms logs in and opens /captions at a desktop and a phone size. The
// page must stay under 3 screen heights on the desktop, and nothing on it may be wider
// than the phone's screen. Prints one line per size: `height <name> <px> <screens>`.
//
// Started by tests/api/browser.rs with BASE_URL, EMAIL, PASSWORD, SCREENSHOT_DIR and
// CHROMIUM; MAX_SCREENS (default 3) is the bound on the desktop.
import { chromium } from "playwright-core";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { CHROMIUM_ARGS } from "./check.mjs";

const { BASE_URL: BASE, EMAIL, PASSWORD, SCREENSHOT_DIR: SHOTS } = process.env;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const MAX_SCREENS = Number(process.env.MAX_SCREENS || 3);
if (!BASE || !EMAIL || !PASSWORD || !SHOTS) {
  console.error("BASE_URL, EMAIL, PASSWORD and SCREENSHOT_DIR must be set (tests/api/browser.rs sets them)");
  process.exit(2);
}
mkdirSync(SHOTS, { recursive: true });

const SIZES = [
  { name: "desktop", viewport: { width: 1280, height: 900 } },
  { name: "phone", viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 },
];

// Elements whose right edge passes the viewport's (hidden ones and the 1-pixel
// visually-hidden labels excepted), named so a failure says what to fix.
function tooWide() {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const e of document.querySelectorAll("body *")) {
    const box = e.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || box.width <= 1) continue;
    if (box.right > width + 0.5) {
      wide.push(`${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}${e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : ""} [${Math.round(box.left)}..${Math.round(box.right)}]`);
    }
  }
  return { width, scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 10) };
}

let failed = 0;
for (const { name, ...options } of SIZES) {
  const profile = mkdtempSync(join(tmpdir(), "captionfeed-desk-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    ...options,
  });
  try {
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(15000);
    await page.goto(`${BASE}/login`);
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel(/^Password/).fill(PASSWORD);
    await Promise.all([page.waitForURL(/\/captions/), page.getByRole("button", { name: /log in/i }).click()]);
    await page.goto(`${BASE}/captions`);
    const captions = await page.locator("section[data-caption]").count();
    assert.equal(captions, 70, "the first desk page holds 10 posts × 7 platforms");
    await page.evaluate(() => document.fonts.ready);
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    const screens = height / options.viewport.height;
    console.log(`height ${name} ${height} ${screens.toFixed(2)}`);
    await page.screenshot({ path: join(SHOTS, `desk-${name}.png`), fullPage: true });
    if (name === "desktop") {
      assert.ok(screens < MAX_SCREENS, `the desk is ${height} px tall at 1280×900: ${screens.toFixed(2)} screens, over ${MAX_SCREENS}`);
    }
    const width = await page.evaluate(tooWide);
    assert.ok(width.wide.length === 0 && width.scrollWidth <= width.width,
      `wider than the ${width.width}-px viewport (page ${width.scrollWidth} px): ${width.wide.join(", ")}`);
    if (name === "desktop") {
      // Focus mode walks the waiting captions: f starts on the first, p marks it posted
      // and moves to the next one.
      await page.keyboard.press("f");
      const first = await page.locator("section.chip.focused.open").getAttribute("id");
      await page.keyboard.press("p");
      await page.locator(`#${first}.is-posted`).waitFor();
      await page.waitForFunction((id) => {
        const focused = document.querySelector("section.chip.focused.open");
        return focused && focused.id !== id && document.activeElement === focused;
      }, first);
      await page.keyboard.press("Escape");
      assert.equal(await page.locator("section.chip.focused").count(), 0, "Esc leaves focus mode");
    }
    console.log(`ok - ${name}`);
  } catch (error) {
    failed += 1;
    console.error(`not ok - ${name}: ${error.stack || error}`);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
process.exit(failed ? 1 : 0);
