import { type Browser, chromium } from 'playwright-core';

import { track } from './resources.js';

/** Debian's Chromium, which `.ci/run` installs; HUSH_TEST_CHROMIUM points elsewhere. */
export const CHROMIUM = process.env.HUSH_TEST_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Launches headless Chromium through playwright-core. The flags keep it off the network this
 * machine does not have (background updates, sync) and let it run as root in CI.
 */
export async function launchChromium(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  const handle = track('chromium', () => browser.close());
  return { browser, close: () => handle.close() };
}
