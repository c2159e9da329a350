import { defineConfig, devices } from '@playwright/test';

// The Python test harness starts the real server (API + built SPA) and tells us where it listens.
const baseURL = process.env.HEARTH_BASE_URL;
if (!baseURL) {
  throw new Error('Set HEARTH_BASE_URL to a running Hearth server, e.g. HEARTH_BASE_URL=http://127.0.0.1:8123');
}

export default defineConfig({
  testDir: './e2e',
  // The call spec needs fake media and must keep its media on loopback: tests/browser/test_calls.py runs it
  // (with HEARTH_CALL_TESTS=1) inside a private network namespace, never the general browser suite. The idle spec
  // needs a server with idle limits of seconds: tests/browser/test_idle_spa.py runs it (with HEARTH_IDLE_TESTS=1).
  testIgnore: [
    ...(process.env.HEARTH_CALL_TESTS ? [] : ['**/call.spec.ts']),
    ...(process.env.HEARTH_IDLE_TESTS ? [] : ['**/idle.spec.ts']),
  ],
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: true,
  reporter: 'list',
  timeout: 30_000,
  use: {
    baseURL,
    headless: true,
    trace: 'retain-on-failure',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        // Playwright cannot download its own browsers here: use the system Chromium.
        launchOptions: {
          executablePath: '/usr/bin/chromium',
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
          ],
        },
      },
    },
  ],
});
