/**
 * The daily report e-mail looked at in headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core, local/chromium.ts), the same sample day `npm run report:preview` renders: the
 * picture is not blank, the chart's bars are really drawn — for each of the 24 hours the pixels of
 * the bar colours in the middle of its column are as tall as the counts say — the page fetched
 * nothing (no external image or font), and on a phone-wide window nothing is wider than the window.
 * Skips, saying why, where no Chromium is installed (`apt-get install -y chromium`; .ci/run tries).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { barHeights, CHART } from '../../lambda/report/render';
import { decodePng, findChromium, launchHtmlBrowser, type HtmlBrowser } from '../../local/chromium';
import { sampleReportEmail } from '../../local/report-sample';

const executable = findChromium();
const SKIP_REASON =
  'no Chromium at /usr/bin/chromium (or CHROMIUM_PATH): install it with `apt-get install -y chromium` to look at the report';
if (executable === undefined) console.warn(`report-chromium.test.ts skipped: ${SKIP_REASON}`);

const { email, stats } = sampleReportEmail();
const source = stats.sources[0]!;
let browser: HtmlBrowser;

const rgb = (hex: string) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
const near = (rgba: Uint8ClampedArray, at: number, [r, g, b]: [number, number, number], tolerance = 10) =>
  Math.abs(rgba[at]! - r) <= tolerance &&
  Math.abs(rgba[at + 1]! - g) <= tolerance &&
  Math.abs(rgba[at + 2]! - b) <= tolerance;

const TITLE = `the report in headless Chromium${executable === undefined ? ` — skipped: ${SKIP_REASON}` : ''}`;

describe.skipIf(executable === undefined)(TITLE, () => {
  beforeAll(async () => {
    browser = await launchHtmlBrowser(executable!);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('renders a picture that is not blank, fetching nothing', async () => {
    const { page, requests } = await browser.open(email.html, 640);
    const png = await page.screenshot({ fullPage: true });
    const { width, height, rgba } = await decodePng(page, png);
    expect(width).toBe(640);
    expect(height).toBeGreaterThan(1_000);
    let inked = 0;
    const colours = new Set<number>();
    for (let i = 0; i < rgba.length; i += 4) {
      const [r, g, b] = [rgba[i]!, rgba[i + 1]!, rgba[i + 2]!];
      colours.add((r << 16) | (g << 8) | b);
      if (r < 200 || g < 200 || b < 200) inked += 1;
    }
    // Text, bars and table rules: a few per cent of the page is ink; a blank page has none.
    expect(inked / (width * height)).toBeGreaterThan(0.02);
    expect(colours.size).toBeGreaterThan(50);
    expect(requests).toEqual([]);
    await page.close();
  });

  it('draws each hour’s bar as tall as its count says, the unanswered part in red on top', async () => {
    const { page } = await browser.open(email.html, 640);
    const chart = page.locator(`#calls-per-hour-${source.sourceId}`);
    const box = await chart.boundingBox();
    expect(box).not.toBeNull();
    expect(box!.width).toBeGreaterThan(500);
    const { width, height, rgba } = await decodePng(page, await chart.screenshot());
    const calls = rgb(CHART.callsColour);
    const unanswered = rgb(CHART.unansweredColour);
    const max = Math.max(...source.perHour);
    const drawn = source.perHour.map((_, hour) => {
      const x = Math.floor(((hour + 0.5) * width) / 24);
      let blue = 0;
      let red = 0;
      let redAboveBlue = true;
      for (let y = 0; y < height; y += 1) {
        const at = (y * width + x) * 4;
        if (near(rgba, at, calls)) blue += 1;
        else if (near(rgba, at, unanswered)) {
          red += 1;
          if (blue > 0) redAboveBlue = false;
        }
      }
      return { blue, red, redAboveBlue };
    });
    source.perHour.forEach((count, hour) => {
      const expected = barHeights(count, source.unansweredPerHour[hour]!, max);
      const got = drawn[hour]!;
      expect(
        Math.abs(got.blue + got.red - expected.totalPx),
        `hour ${hour}: ${JSON.stringify(got)}`,
      ).toBeLessThanOrEqual(1);
      expect(Math.abs(got.red - expected.unansweredPx), `hour ${hour}`).toBeLessThanOrEqual(1);
      expect(got.redAboveBlue, `hour ${hour}`).toBe(true);
    });
    expect(drawn.filter((d) => d.blue + d.red > 0).length).toBe(source.perHour.filter((c) => c > 0).length);
    await page.close();
  });

  it('fits a phone-wide window: nothing is wider than 375 px', async () => {
    const { page } = await browser.open(email.html, 375);
    const scrollWidth = await page.evaluate(
      () =>
        (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement
          .scrollWidth,
    );
    expect(scrollWidth).toBeLessThanOrEqual(375);
    await page.close();
  });
});
