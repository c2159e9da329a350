import type { BrowserContext } from '@playwright/test';

/**
 * Holds each token refresh of the context until `tabs` of them are waiting (or a moment has passed), then lets
 * them go together. Tabs that do not take turns then present the same refresh cookie at once, and the server takes
 * the second use of a spent token for theft and revokes the session. Tabs that take turns are only slowed down.
 */
export async function holdRefreshesTogether(context: BrowserContext, tabs: number): Promise<void> {
  const waiting = new Set<() => void>();
  await context.route('**/api/v1/auth/refresh', async (route) => {
    await new Promise<void>((resolve) => {
      const release = () => {
        waiting.delete(release);
        resolve();
      };
      waiting.add(release);
      if (waiting.size >= tabs) [...waiting].forEach((go) => go());
      else setTimeout(release, 1_500);
    });
    await route.continue();
  });
}
