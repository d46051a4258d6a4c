/**
 * Headless Chromium for looking at rendered HTML (the daily report e-mail): Debian's
 * `/usr/bin/chromium` (`apt-get install chromium`; CHROMIUM_PATH overrides) driven by
 * playwright-core, which brings no browser of its own — never `npx playwright install`, it
 * downloads one, which fails without internet. Each launch gets a fresh, empty user-data dir
 * (removed afterwards) and the flags that keep Chromium off the network: without
 * --disable-background-networking and friends it keeps trying Google's hosts at every start.
 * The page gets the HTML with `setContent`; a request the page tries anyway (an external image
 * would be one) is refused and counted, so a test can insist there were none.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
] as const;

/** The Chromium executable to use, or undefined when none is installed. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const path = env.CHROMIUM_PATH ?? DEFAULT_CHROMIUM;
  return existsSync(path) ? path : undefined;
}

export interface RenderedPage {
  readonly page: Page;
  /** URLs the page tried to fetch (all refused). */
  readonly requests: readonly string[];
}

export interface HtmlBrowser {
  /** A new page showing `html` at `width` CSS px (device scale 1). */
  open(html: string, width?: number): Promise<RenderedPage>;
  close(): Promise<void>;
}

/** Start Chromium once; open pages in it; close removes its profile directory. */
export async function launchHtmlBrowser(executablePath: string): Promise<HtmlBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'qrmenu-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport: { width: 640, height: 800 },
      deviceScaleFactor: 1,
      timeout: 60_000,
    });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  return {
    async open(html, width = 640) {
      const page = await context.newPage();
      const requests: string[] = [];
      await page.route('**/*', (route) => {
        requests.push(route.request().url());
        return route.abort();
      });
      await page.setViewportSize({ width, height: 800 });
      await page.setContent(html, { waitUntil: 'load' });
      return { page, requests };
    },
    async close() {
      try {
        await context.close();
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}

/** Pixels of a PNG as RGBA rows, decoded by the browser itself (no image library needed). */
export async function decodePng(
  page: Page,
  png: Buffer,
): Promise<{ width: number; height: number; rgba: Uint8ClampedArray }> {
  const { width, height, data } = await page.evaluate(async (base64) => {
    // Runs in the page: the DOM types are not in this project's (Node) lib, so name what is used.
    const dom = globalThis as unknown as BrowserGlobals;
    const image = new dom.Image();
    image.src = `data:image/png;base64,${base64}`;
    await image.decode();
    const canvas = dom.document.createElement('canvas');
    canvas.width = image.naturalWidth;
    canvas.height = image.naturalHeight;
    const context = canvas.getContext('2d');
    if (!context) throw new Error('no 2d canvas');
    context.drawImage(image, 0, 0);
    const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
    // Back as base64: a plain array of millions of numbers is slow to pass out of the page.
    let binary = '';
    for (let i = 0; i < pixels.length; i += 0x8000) binary += String.fromCharCode(...pixels.subarray(i, i + 0x8000));
    return { width: canvas.width, height: canvas.height, data: btoa(binary) };
  }, png.toString('base64'));
  return { width, height, rgba: new Uint8ClampedArray(Buffer.from(data, 'base64')) };
}

/** The few browser globals `decodePng` uses inside the page. */
interface BrowserGlobals {
  readonly Image: new () => {
    src: string;
    readonly naturalWidth: number;
    readonly naturalHeight: number;
    decode(): Promise<void>;
  };
  readonly document: {
    createElement(tag: 'canvas'): {
      width: number;
      height: number;
      getContext(kind: '2d'): {
        drawImage(image: unknown, x: number, y: number): void;
        getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
      } | null;
    };
  };
}
