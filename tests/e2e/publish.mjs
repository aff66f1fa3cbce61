// From caption to posted, in headless Chromium at a desktop and a phone size, against a
// real Bluesky PDS: a subscriber signs up, follows a blog, connects Bluesky on
// /connections with a handle and an app password, adds a caption to the queue from the
// desk, presses "Post now" on the queue page and, once the publisher has run, sees
// "Posted to Bluesky" on the desk with the post's link. The record is then read back from
// the PDS: it exists, with the caption's exact text. Every page is scanned with axe-core
// (serious or critical findings fail) and checked for anything wider than the screen.
//
// Started by tests/api/browser.rs with:
//   BASE_URL        the app under test (its publisher is run by the test while this runs)
//   FEED_URL        a feed served on loopback
//   PDS_URL         the test PDS
//   ACCOUNTS        JSON [{"handle","password"}], one Bluesky account per size
//   SCREENSHOT_DIR  where the screenshots go
//   CHROMIUM        Debian's chromium
import { chromium } from "playwright-core";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { check, CHROMIUM_ARGS } from "./check.mjs";

const { BASE_URL: BASE, FEED_URL: FEED, PDS_URL: PDS, SCREENSHOT_DIR: SHOTS } = process.env;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const ACCOUNTS = JSON.parse(process.env.ACCOUNTS || "[]");
if (!BASE || !FEED || !PDS || !SHOTS || ACCOUNTS.length < 2) {
  console.error("BASE_URL, FEED_URL, PDS_URL, ACCOUNTS and SCREENSHOT_DIR must be set (tests/api/browser.rs sets them)");
  process.exit(2);
}
rmSync(SHOTS, { recursive: true, force: true });
mkdirSync(SHOTS, { recursive: true });

const SIZES = [
  { name: "desktop", viewport: { width: 1280, height: 900 } },
  { name: "phone", viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 },
];

async function run({ name, ...options }, account) {
  const profile = mkdtempSync(join(tmpdir(), "captionfeed-publish-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    bypassCSP: true,
    ...options,
  });
  try {
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(15000);
    const email = `publish-${name}-${Date.now()}@example.com`;

    // Sign up and log in.
    await page.goto(`${BASE}/signup`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel(/^Password/).fill("correct horse battery");
    await Promise.all([page.waitForURL(/\/signup\/check-inbox/), page.getByRole("button", { name: /sign up/i }).click()]);
    await Promise.all([page.waitForURL(/\/login/), page.getByRole("link", { name: "Log in" }).first().click()]);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel(/^Password/).fill("correct horse battery");
    await Promise.all([page.waitForURL(/\/captions/), page.getByRole("button", { name: "Log in" }).click()]);

    // Follow the blog.
    await page.goto(`${BASE}/feeds/new`);
    await page.getByLabel(/Feed address/).fill(FEED);
    await Promise.all([page.waitForURL(/\/feeds\/[^/]+$/), page.locator("form[action='/feeds'] button[type=submit]").click()]);

    // Connect Bluesky with the handle and an app password.
    await page.goto(`${BASE}/connections`);
    await page.getByLabel("Handle").fill(account.handle);
    await page.getByLabel("App password").fill(account.password);
    await page.getByLabel(/PDS address/).fill(PDS);
    await Promise.all([page.waitForURL(/\/connections$/), page.getByRole("button", { name: "Connect Bluesky" }).click()]);
    const connected = page.locator("ul.connections li").filter({ hasText: account.handle });
    await connected.getByText("Connected: queued captions are posted at their times.").waitFor();
    assert.equal(await page.locator("main").getByText(account.password).count(), 0, "the app password is never shown");
    await check(page, `${name} /connections (connected)`, { fitAlways: true });
    await page.screenshot({ path: join(SHOTS, `connected-${name}.png`), fullPage: true });

    // The desk: the first post's Bluesky caption goes into the queue.
    let bluesky;
    const deadline = Date.now() + 30000;
    for (;;) {
      await page.goto(`${BASE}/captions?platform=bluesky`);
      bluesky = page.locator("section[data-platform=bluesky]").first();
      if (await bluesky.count() > 0) break;
      assert.ok(Date.now() < deadline, "no Bluesky caption on the desk 30 s after following the blog");
      await page.waitForTimeout(300);
    }
    const text = await bluesky.locator("textarea").inputValue();
    const captionId = await bluesky.getAttribute("data-caption");
    const more = bluesky.getByRole("button", { name: "More" });
    if (await more.isVisible()) await more.click();
    await Promise.all([page.waitForURL(/\/queue/), bluesky.getByRole("button", { name: "Add to the queue" }).click()]);

    // The queue page: the caption at its time, and "Post now".
    const item = page.locator(`#q-${captionId}`);
    await item.waitFor();
    assert.match(await page.locator("#queue-bluesky").textContent(), /Bluesky/);
    await check(page, `${name} /queue`, { fitAlways: true });
    await page.screenshot({ path: join(SHOTS, `queue-${name}.png`), fullPage: true });
    await Promise.all([page.waitForURL(/\/queue/), item.getByRole("button", { name: "Post now" }).click()]);
    await page.locator(`#q-${captionId}`).getByText("posting now").waitFor();

    // The publisher runs (the test runs it as the worker would); the desk shows the link.
    let link;
    const posted = Date.now() + 30000;
    for (;;) {
      await page.goto(`${BASE}/captions?platform=bluesky`);
      link = page.locator(`#c-${captionId}`).getByRole("link", { name: "Posted to Bluesky" });
      if (await link.count() > 0) break;
      assert.ok(Date.now() < posted, "the caption was not posted 30 s after Post now");
      await page.waitForTimeout(300);
    }
    await page.locator(`#c-${captionId}`).scrollIntoViewIfNeeded();
    await check(page, `${name} /captions (posted)`, { fitAlways: true });
    await page.screenshot({ path: join(SHOTS, `posted-${name}.png`), fullPage: false });
    const href = await link.getAttribute("href");
    const found = href.match(/^https:\/\/bsky\.app\/profile\/(did:[^/]+)\/post\/([a-z2-7]{13})$/);
    assert.ok(found, `a bsky.app address, got ${href}`);

    // The record is on the PDS with the caption's exact text.
    const [, did, rkey] = found;
    const got = await fetch(`${PDS}/xrpc/com.atproto.repo.getRecord?repo=${encodeURIComponent(did)}&collection=app.bsky.feed.post&rkey=${rkey}`);
    assert.equal(got.status, 200, "the record exists on the PDS");
    const record = await got.json();
    assert.equal(record.value.text, text, "the post says exactly the caption");
    console.log(`ok - ${name} (${options.viewport.width}×${options.viewport.height}): posted ${record.uri}`);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

let failed = 0;
for (const [i, size] of SIZES.entries()) {
  try {
    await run(size, ACCOUNTS[i]);
  } catch (error) {
    failed += 1;
    console.error(`not ok - ${size.name}: ${error.stack || error}`);
  }
}
process.exit(failed ? 1 : 0);
