/**
 * `npm run report:preview [-- --locale en] [--out DIR] [--seed N] [--width PX]`: renders the daily
 * report of a generated sample day (local/report-sample.ts) to `report-preview.html` and, in
 * headless Chromium (local/chromium.ts: Debian's /usr/bin/chromium, `apt-get install chromium`),
 * to `report-preview.png` — what the manager sees, without a restaurant, AWS or an SES account.
 * Without Chromium it still writes the HTML and says how to get the picture. It also prints the
 * e-mail's subject and sizes. Nothing here talks to a network.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { findChromium, launchHtmlBrowser } from './chromium';
import { SAMPLE_SEED, sampleReportEmail } from './report-sample';

async function main(): Promise<void> {
  const options = new Command()
    .name('report:preview')
    .description('Render the daily report of a sample day to report-preview.html and report-preview.png')
    .option('--locale <ru|en>', 'language of the report', 'ru')
    .option('--out <dir>', 'where to write the files', '.')
    .option('--seed <n>', 'seed of the sample day', String(SAMPLE_SEED))
    .option('--width <px>', 'width of the window the picture is taken in', '640')
    .parse()
    .opts<{ locale: string; out: string; seed: string; width: string }>();
  if (options.locale !== 'ru' && options.locale !== 'en') throw new Error('--locale must be ru or en');
  const { email } = sampleReportEmail({ locale: options.locale, seed: Number(options.seed) });
  const html = join(resolve(options.out), 'report-preview.html');
  const png = join(resolve(options.out), 'report-preview.png');
  writeFileSync(html, email.html);
  console.log(`subject   ${email.subject}`);
  console.log(
    `html      ${html}  (${Buffer.byteLength(email.html)} bytes; text part ${Buffer.byteLength(email.text)} bytes)`,
  );

  const executable = findChromium();
  if (executable === undefined) {
    console.log(
      'png       not made: no Chromium at /usr/bin/chromium (apt-get install -y chromium, or set CHROMIUM_PATH)',
    );
    return;
  }
  const browser = await launchHtmlBrowser(executable);
  try {
    const { page, requests } = await browser.open(email.html, Number(options.width));
    await page.screenshot({ path: png, fullPage: true });
    console.log(`png       ${png}`);
    if (requests.length > 0) console.log(`warning   the page tried to fetch: ${requests.join(', ')}`);
  } finally {
    await browser.close();
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  await main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
