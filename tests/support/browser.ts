import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PASSWORD } from './app.js';
import { projectRoot } from '../../lib/paths.js';

export const screenshotsDir = path.join(projectRoot, 'test-results', 'screenshots');

/** Debian's Chromium, headless, with the flags this closed network needs (no background fetches). */
export async function launchChromium(): Promise<Browser> {
  await mkdir(screenshotsDir, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(screenshotsDir, `${name}.png`), fullPage: true });
}

/** A new browser context signed in through the sign-in form (with JavaScript off, if asked); returns its page. */
export async function signedInPage(browser: Browser, appUrl: string, email: string, { javaScript = true } = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: javaScript });
  const page = await context.newPage();
  await page.goto(`${appUrl}/sign-in`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/org\/settings\/integrations/);
  return page;
}
