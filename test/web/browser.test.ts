import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBackend, type LlmBackend } from "../../src/llm/index.js";
import { Playground, RunFolder, type RunningWebServer, startWebServer } from "../../src/web/index.js";
import { decodePng } from "../support/png.js";
import { buildWebRun, HAVE_MODEL, type WebRun } from "./support/web-run.js";

/**
 * Debian's chromium (CI installs it; RECALPACA_CHROMIUM names another build). Outside CI the browser tests
 * skip without it, in CI they fail.
 */
const CHROMIUM = process.env.RECALPACA_CHROMIUM || "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) {
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium`);
  console.log(`skipping the browser tests: ${CHROMIUM} is not installed (apt-get install -y chromium)`);
}
/** Where screenshots go: RECALPACA_WEB_SCREENSHOTS when set (kept), else a temporary folder (removed). */
const keepShots = process.env.RECALPACA_WEB_SCREENSHOTS;
const shotsDir = keepShots ?? mkdtempSync(join(tmpdir(), "recalpaca-web-shots-"));

/** How long to keep polling the page for a state (a ceiling for a loaded machine, not a timing check). */
const POLL = { timeout: 90_000, interval: 100 };

/** What a page did wrong while it was open: console errors, uncaught exceptions, requests off the server. */
interface PageWatch {
  errors: string[];
  foreign: string[];
}

describe.skipIf(!HAVE_CHROMIUM || !HAVE_MODEL)("recalpaca web in Chromium", () => {
  let run: WebRun;
  let server: RunningWebServer;
  let context: BrowserContext;
  let profile: string;
  const backends: LlmBackend[] = [];

  beforeAll(async () => {
    run = await buildWebRun();
    const base = await createBackend({ llm: run.model, threads: 1 });
    backends.push(base);
    const adapter = join(run.runDir, "finetune", "adapter.gguf");
    const tuned = await createBackend({ llm: run.model, threads: 1, loras: [{ path: adapter, scale: 1 }] });
    backends.push(tuned);
    server = await startWebServer({
      run: RunFolder.open(run.runDir),
      playground: new Playground({ base, tuned, adapter: { path: adapter, scale: 1, source: "run" } }),
      port: 0,
    });
    profile = mkdtempSync(join(tmpdir(), "recalpaca-chromium-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 1000 },
      args: [
        "--no-sandbox",
        "--headless",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
      ],
    });
    context.setDefaultTimeout(90_000);
  }, 300_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
    for (const b of backends) await b.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    if (!keepShots) rmSync(shotsDir, { recursive: true, force: true });
  });

  async function open(path: string): Promise<{ page: Page; watch: PageWatch }> {
    const page = await context.newPage();
    const watch: PageWatch = { errors: [], foreign: [] };
    page.on("console", (m) => {
      if (m.type() === "error") watch.errors.push(m.text());
    });
    page.on("pageerror", (e) => watch.errors.push(e.message));
    page.on("request", (r) => {
      const url = r.url();
      if (!url.startsWith(server.url) && !url.startsWith("data:")) watch.foreign.push(url);
    });
    await page.goto(`${server.url}${path}`);
    await page.waitForSelector("body[data-ready=true]");
    return { page, watch };
  }

  /** Save a screenshot and check it is not blank: its pixels vary (text, tables, charts on a background). */
  async function checkScreenshot(page: Page, name: string): Promise<void> {
    const png = await page.screenshot({ fullPage: true });
    mkdirSync(shotsDir, { recursive: true });
    writeFileSync(join(shotsDir, `${name}.png`), png);
    const { width, height, rgba } = decodePng(png);
    const channels = rgba.length / (width * height);
    let sum = 0;
    let sumSq = 0;
    const colours = new Set<number>();
    for (let i = 0; i < width * height; i++) {
      const o = i * channels;
      const y = 0.299 * rgba[o]! + 0.587 * rgba[o + 1]! + 0.114 * rgba[o + 2]!;
      sum += y;
      sumSq += y * y;
      if (colours.size < 1000) colours.add((rgba[o]! << 16) | (rgba[o + 1]! << 8) | rgba[o + 2]!);
    }
    const n = width * height;
    const variance = sumSq / n - (sum / n) ** 2;
    expect(variance, `${name}.png luminance variance`).toBeGreaterThan(100);
    expect(colours.size, `${name}.png colours`).toBeGreaterThan(20);
  }

  const expectClean = (w: PageWatch) => {
    expect(w.errors).toEqual([]);
    expect(w.foreign).toEqual([]);
  };

  it("the playground streams text, repeats with the same seed and changes with the temperature or seed", async () => {
    const { page, watch } = await open("/playground");
    const pane = page.locator(".pane").first();
    const runOnce = async (settings: { temperature: string; seed: string }) => {
      await page.fill("#instruction", "Tell me a story about a cat.");
      await page.fill("#input", "");
      await page.locator("#temperature").fill(settings.temperature);
      await page.fill("#seed", settings.seed);
      await page.fill("#max-tokens", "40");
      await page.click("#generate");
      await page.waitForSelector(".pane[data-state=done], .pane[data-state=error]");
      expect(await pane.getAttribute("data-state")).toBe("done");
      return {
        text: (await pane.locator(".output").textContent()) ?? "",
        chunks: Number(await pane.getAttribute("data-chunks")),
        stats: (await pane.locator(".stats").textContent()) ?? "",
        prompt: (await pane.locator(".prompt").textContent()) ?? "",
      };
    };
    const a = await runOnce({ temperature: "1", seed: "7" });
    expect(a.text.length).toBeGreaterThan(0);
    expect(a.chunks).toBeGreaterThan(1); // the text arrived in pieces
    expect(a.stats).toMatch(/\d+ prompt tokens · 40 generated · [\d.]+ tokens\/s/);
    expect(a.prompt).toContain("### Instruction:\nTell me a story about a cat.");
    expect((await runOnce({ temperature: "1", seed: "7" })).text).toBe(a.text);
    expect((await runOnce({ temperature: "1", seed: "8" })).text).not.toBe(a.text);
    expect((await runOnce({ temperature: "0.5", seed: "7" })).text).not.toBe(a.text);
    expect(await page.locator("#temperature-value").textContent()).toBe("0.5");

    // base and tuned side by side, prefilled from a test record, without streaming
    await page.selectOption("#record", { index: 1 });
    await page.click("#prefill");
    await expect.poll(() => page.inputValue("#input"), POLL).toContain("Candidate");
    await page.check("#compare");
    await page.uncheck("#stream");
    await page.fill("#max-tokens", "24");
    await page.click("#generate");
    await expect
      .poll(() => page.locator('.pane:is([data-state="done"], [data-state="error"])').count(), POLL)
      .toBe(2);
    expect(await page.locator('.pane[data-state="done"]').count()).toBe(2);
    const texts = await page.locator(".pane .output").allTextContents();
    const titles = await page.locator(".pane h3").allTextContents();
    expect(titles).toEqual(["Base model", "Tuned model (adapter)"]);
    expect(texts[0]).not.toBe(texts[1]);
    expect(await page.locator(".pane .stats").nth(1).textContent()).toContain("stories260K+adapter@1");
    await checkScreenshot(page, "playground");
    expectClean(watch);
    await page.close();
  });

  it("the explorer shows a user's history, candidates and each system's hits", async () => {
    const { records } = JSON.parse(await (await fetch(`${server.url}/api/records`)).text()) as {
      records: Array<{ id: string; hits: Record<string, number> }>;
    };
    const target = records.find((r) => (r.hits["bpr-mf"] ?? 0) > 0)!;
    expect(target).toBeDefined();
    const { page, watch } = await open(`/explorer?record=${target.id}`);
    await page.waitForSelector(`.record-view[data-record="${target.id}"]`);
    const card = page.locator('.system-card[data-system="bpr-mf"]');
    expect(Number(await card.getAttribute("data-hits"))).toBe(target.hits["bpr-mf"]);
    expect(await card.locator('.pick[data-hit="true"]').count()).toBe(target.hits["bpr-mf"]);
    expect(await card.locator(".pick .badge.hit", { hasText: "HIT" }).count()).toBe(target.hits["bpr-mf"]);
    // the held-out items found by bpr-mf say so; the candidates table lists every candidate
    const found = page.locator(".held-out li", { hasText: "found by" }).filter({ hasText: "bpr-mf" });
    expect(await found.count()).toBe(target.hits["bpr-mf"]);
    expect(await page.locator("table.candidates tbody tr").count()).toBe(20);
    // the user list marks the selection; picking another user shows that one
    const other = records.find((r) => r.id !== target.id)!;
    await page.click(`tr[data-record="${other.id}"]`);
    await page.waitForSelector(`.record-view[data-record="${other.id}"]`);
    await page.click(`tr[data-record="${target.id}"]`);
    await page.waitForSelector(`.record-view[data-record="${target.id}"]`);
    await checkScreenshot(page, "explorer");
    expectClean(watch);
    await page.close();
  });

  it("the results page shows the tables, a bar chart with whiskers, the run's charts and report, and drills down", async () => {
    const { page, watch } = await open("/results");
    expect(await page.locator("table.metrics tbody tr").count()).toBeGreaterThanOrEqual(10);
    expect(await page.locator("svg.bars rect.mark").count()).toBeGreaterThan(20);
    // every chart image of the run loads (an SVG from inside the run folder)
    const images = page.locator(".charts img");
    expect(await images.count()).toBeGreaterThan(3);
    await expect
      .poll(
        () => images.evaluateAll((els) => els.every((e) => (e as unknown as { complete: boolean }).complete)),
        POLL,
      )
      .toBe(true);
    const widths = await images.evaluateAll((els) =>
      els.map((e) => (e as unknown as { naturalWidth: number }).naturalWidth),
    );
    expect(widths.every((w) => w > 0)).toBe(true);
    // the HTML report's sections are embedded (its script is not run)
    const sections = await page
      .locator(".embedded-report")
      .evaluateAll((els) => els.map((e) => e.shadowRoot?.querySelector("h2")?.textContent ?? ""));
    expect(sections).toEqual(["Summary of the run", "Position bias"]);
    expect(await page.title()).toBe("recalpaca · results");
    // per-record drill-down: a click shows the record as the explorer does
    await page.selectOption("#drill-metric", "ndcg");
    await page.locator("table.drill tbody tr").first().click();
    await page.waitForSelector("#drill-record .record-view");
    await checkScreenshot(page, "results");
    expectClean(watch);
    await page.close();
  });
});
