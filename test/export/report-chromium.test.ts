/**
 * report.html in a real headless Chromium (Debian's, driven by playwright-core): every plot drawn, no
 * console errors, and a screenshot kept for a person to look at (SWEU_REPORT_SHOT, else the run folder).
 */
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { standInRun } from "../universe/helpers.ts";

const CHROMIUM = process.env.SWEU_CHROMIUM ?? "/usr/bin/chromium";

describe("the HTML report in headless Chromium", () => {
  it("renders every plot with no console errors; a screenshot is taken", async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `${CHROMIUM} is missing: scripts/setup.sh installs Debian's chromium under SWEU_SETUP_TEST=1`,
      );
    const runDir = await standInRun({ "acme/calc": 6, "other/tool": 3, "third/lib": 2 });
    const profile = mkdtempSync(join(tmpdir(), "sweu-chromium-"));
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 1800 },
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("request", (r) => {
        if (!r.url().startsWith("file:")) errors.push(`fetched ${r.url()}`);
      });
      await page.goto(`file://${join(runDir, "report.html")}`);
      await page.waitForSelector("body[data-rendered=yes]", { timeout: 30_000 });
      // Runs in the page (a string: this file is type-checked without the DOM library).
      const drawn = (await page.evaluate(`[...document.querySelectorAll("canvas")].map((c) => {
        const { data } = c.getContext("2d").getImageData(0, 0, c.width, c.height);
        let ink = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) ink++;
        return { id: c.id, ink };
      })`)) as { id: string; ink: number }[];
      expect(drawn.map((d) => d.id)).toEqual(["funnel", "language", "repository", "reasons", "wall", "size"]);
      for (const d of drawn.filter((x) => x.id !== "size")) expect(d.ink, d.id).toBeGreaterThan(1000);
      const shot = process.env.SWEU_REPORT_SHOT ?? join(runDir, "report.png");
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(20_000);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }, 180_000);
});
