import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

/**
 * Debian's chromium package, which `apps/bench/scripts/ensure-chromium.sh` installs
 * (`MMKIT_CHROMIUM` names another binary, e.g. to check what happens when it is missing).
 */
export const CHROMIUM = process.env.MMKIT_CHROMIUM ?? "/usr/bin/chromium";

/** The flags every browser test launches Chromium with (no sandbox: CI runs as root in a container). */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
];

/**
 * Whether the browser tests can run here. Without Chromium they are skipped on a developer's
 * machine, but under CI (`CI` set to anything but "false"/"0") the suite must fail loudly: the tests
 * then run and {@link launchChromium} throws with the command that installs it.
 */
export const chromiumMissing = !existsSync(CHROMIUM);
export const skipBrowserTests = chromiumMissing && !(process.env.CI !== undefined && process.env.CI !== "" && process.env.CI !== "false" && process.env.CI !== "0");

/** A headless Chromium with a fresh profile directory (removed by `close`). */
export async function launchChromium(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  if (chromiumMissing) throw new Error(`${CHROMIUM} is missing (CI=${process.env.CI}): run apps/bench/scripts/ensure-chromium.sh (apt-get install -y chromium)`);
  const profile = mkdtempSync(join(tmpdir(), "mmkit-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 } });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
