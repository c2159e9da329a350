import { expect, type Page } from '@playwright/test';

/**
 * Records the Content-Security-Policy violations of `page` (in every frame, across navigations): each
 * `securitypolicyviolation` event and each console message about the policy. Call before the page's first
 * navigation; a spec that expects none checks `expect(violations).toEqual([])` at its end.
 */
export async function cspViolations(page: Page): Promise<string[]> {
  const seen: string[] = [];
  await page.exposeBinding('__hearthCspViolation', (_source, text: string) => {
    seen.push(text);
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const report = (window as unknown as { __hearthCspViolation?: (text: string) => void }).__hearthCspViolation;
      report?.(`${event.effectiveDirective} blocked ${event.blockedURI || 'inline'} in ${event.documentURI} (${event.sourceFile}:${event.lineNumber})`);
    });
  });
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) seen.push(message.text());
  });
  return seen;
}

/**
 * Proves the policy is in force on `page` (so that no violation means something): a script added inline does not
 * run, and the refusal is recorded in `violations`, which is then emptied again.
 */
export async function expectInlineScriptsRefused(page: Page, violations: string[]): Promise<void> {
  expect(violations).toEqual([]);
  const ran = await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.__hearthInlineRan = true;';
    document.head.append(script);
    script.remove();
    return (window as unknown as { __hearthInlineRan?: boolean }).__hearthInlineRan === true;
  });
  expect(ran).toBe(false);
  await expect.poll(() => violations.some((text) => text.startsWith('script-src-elem blocked inline'))).toBe(true);
  violations.length = 0;
}
