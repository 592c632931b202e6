/**
 * A real Chromium for end-to-end tests of the web app, driven by playwright-core (which downloads nothing:
 * it runs the system's Chromium, Debian's `chromium` package). A test calls `await chromiumOrSkip(t)`: it
 * gets a launched browser, closed after the test, or the test is skipped when Chromium is not installed,
 * or FAILS when BUILDIT_REQUIRE_ENGINES=1 (CI sets it, like for the Docker engine in ./engines.ts).
 */
import { accessSync, constants } from 'node:fs';
import type { TestContext } from 'node:test';
import { chromium, type Browser } from 'playwright-core';

/** BUILDIT_CHROMIUM, else Debian's path. */
export const chromiumPath = (): string => process.env.BUILDIT_CHROMIUM || '/usr/bin/chromium';

export const NO_CHROMIUM_MESSAGE = 'no Chromium: apt-get install chromium, or point BUILDIT_CHROMIUM at one';

/** Everything a headless test browser needs, and nothing that talks to the network on its own. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function launchChromium(executablePath = chromiumPath()): Promise<Browser> {
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS });
}

/** A launched Chromium, closed after the test; null (the test is skipped) when there is none. */
export async function chromiumOrSkip(t: TestContext): Promise<Browser | null> {
  const executablePath = chromiumPath();
  if (!isExecutable(executablePath)) {
    const hint = `${NO_CHROMIUM_MESSAGE} (${executablePath} is not an executable file)`;
    if (process.env.BUILDIT_REQUIRE_ENGINES === '1') throw new Error(hint);
    t.skip(hint);
    return null;
  }
  const browser = await launchChromium(executablePath);
  t.after(() => browser.close());
  return browser;
}
