// The template builder in headless Chromium at 1280×900 and 390×844: the X template built
// from blocks (the starting blocks removed, the title, your own text moved above it, the
// hook, the link), previewed on a post chosen from the list with its count, saved, and
// then seen on the desk. Each builder page is scanned with axe-core (a serious or critical
// finding fails) and, on the phone, nothing may reach past the screen's right edge.
// Screenshots go to SCREENSHOT_DIR as builder-<size>.png. Prints `ok - <size>` per size.
//
// Started by tests/api/browser.rs with BASE_URL, SUBSCRIBER, PASSWORD, SCREENSHOT_DIR and
// CHROMIUM.
import { chromium } from "playwright-core";
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { check, CHROMIUM_ARGS } from "./check.mjs";

const { BASE_URL: BASE, SUBSCRIBER, PASSWORD, SCREENSHOT_DIR: SHOTS } = process.env;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
if (!BASE || !SUBSCRIBER || !PASSWORD || !SHOTS) {
  console.error("BASE_URL, SUBSCRIBER, PASSWORD and SCREENSHOT_DIR must be set (tests/api/browser.rs sets them)");
  process.exit(2);
}
mkdirSync(SHOTS, { recursive: true });

const SIZES = [
  { name: "desktop", viewport: { width: 1280, height: 900 } },
  { name: "phone", viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 },
];

async function logIn(page) {
  await page.goto(`${BASE}/login`);
  await page.getByLabel("Email").fill(SUBSCRIBER);
  await page.getByLabel(/^Password/).fill(PASSWORD);
  await Promise.all([page.waitForURL(/\/captions/), page.getByRole("button", { name: /log in/i }).click()]);
}

/// Clicks a builder button and waits for the page it posts to.
async function press(page, button) {
  await Promise.all([page.waitForLoadState("load"), page.waitForNavigation(), button.click()]);
}

async function addBlock(page, kind, text) {
  await page.getByLabel("Add a block").selectOption({ label: kind });
  if (text) await page.getByLabel(/^Your own text/).fill(text);
  await press(page, page.getByRole("button", { name: "Add block" }));
}

let failed = 0;
for (const { name, ...options } of SIZES) {
  const profile = mkdtempSync(join(tmpdir(), "captionfeed-builder-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    // axe is injected as a script; the app's Content-Security-Policy would refuse it.
    bypassCSP: true,
    ...options,
  });
  try {
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(15000);
    await logIn(page);
    await page.goto(`${BASE}/templates?platform=x`);
    await check(page, `${name} templates`);

    // From whatever the template is, to nothing, then block by block.
    const blocks = page.locator("ol.blocks li");
    while (await blocks.count() > 0) {
      await press(page, page.getByRole("button", { name: /^Remove block 1 / }));
    }
    const own = `Fresh from Field Notes (${name})`;
    await addBlock(page, "Title");
    await addBlock(page, "Your own text", own);
    await press(page, page.getByRole("button", { name: /^Move block 2 .* up$/ }));
    await addBlock(page, "Hook (the sentence that carries the post)");
    await addBlock(page, "Link");
    assert.deepEqual(await blocks.locator(".block-name").allInnerTexts(),
      [`Your own text: ${own}`, "Title", "Hook (the sentence that carries the post)", "Link"],
      "the blocks in the order arranged");

    // The preview on a post of the subscriber's choosing, with its count.
    await page.getByLabel("Post", { exact: true }).selectOption({ label: "Notes from a week without meetings" });
    await press(page, page.getByRole("button", { name: "Preview this post" }));
    const preview = await page.getByLabel("Preview of the X caption").inputValue();
    assert.ok(preview.startsWith(`${own}\nNotes from a week without meetings\n`), preview);
    assert.ok(preview.endsWith("https://fieldnotes.dev/posts/no-meetings"), preview);
    const count = await page.locator(".built-preview .count").innerText();
    assert.match(count, /^\d+\/280$/, "a counter of the X limit");
    assert.equal(await page.locator(".built-preview .fit").innerText(), "Fits");
    await check(page, `${name} builder`);
    await page.screenshot({ path: join(SHOTS, `builder-${name}.png`), fullPage: true });

    await Promise.all([page.waitForURL(/saved=1/), page.getByRole("button", { name: "Save this template" }).click()]);
    // Opened again: the blocks the builder wrote, not a hand-written template.
    assert.equal(await blocks.count(), 4);
    assert.equal(await page.getByText("written by hand").count(), 0);

    // The desk shows the X captions written with it.
    await page.goto(`${BASE}/captions`);
    const desk = await page.content();
    assert.ok(desk.includes(own), "the desk uses the saved template");
    console.log(`ok - ${name}`);
  } catch (e) {
    failed += 1;
    console.error(`not ok - ${name}: ${e.stack || e}`);
  } finally {
    await context.close();
  }
}
process.exit(failed ? 1 : 0);
