import net from 'node:net';
import { expect, type Page, test } from '@playwright/test';
import { E2E_API_URL } from '../env';

/** True when something accepts TCP connections at the URL's host:port. */
async function isListening(url: string): Promise<boolean> {
  const { hostname, port, protocol } = new URL(url);
  const tcpPort = Number(port || (protocol === 'https:' ? 443 : 80));
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: tcpPort });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function apiStatus(page: Page) {
  const panel = page.getByRole('region', { name: 'API status' });
  return { panel, status: panel.getByRole('status') };
}

test.describe('Switchboard home', () => {
  test('renders the banner, main landmark and "Switchboard" heading', async ({ page }) => {
    await page.goto('/');

    await expect(page).toHaveTitle('Switchboard');
    const banner = page.getByRole('banner');
    await expect(banner).toBeVisible();
    await expect(banner.getByRole('link', { name: 'Maestro Switchboard' })).toBeVisible();

    const main = page.getByRole('main');
    await expect(main.getByRole('heading', { level: 1, name: 'Switchboard', exact: true })).toBeVisible();

    // The status panel settles on one of its two final states, whatever the API is doing.
    const { status } = apiStatus(page);
    await expect(status).toHaveText(/^API: (ok|unreachable)$/, { timeout: 15_000 });
  });

  test('API status reports "unreachable" when nothing listens on the API URL', async ({ page }) => {
    test.skip(
      await isListening(E2E_API_URL),
      `something listens on ${E2E_API_URL}; point MAESTRO_E2E_API_URL at a closed port to run this test`,
    );

    await page.goto('/');
    const { panel, status } = apiStatus(page);
    // The URL is runtime configuration of the server, not baked into the build.
    await expect(panel.getByText(`${E2E_API_URL}/healthz`, { exact: true })).toBeVisible();
    await expect(status).toHaveText('API: unreachable', { timeout: 15_000 });
    await expect(panel).toHaveAttribute('aria-busy', 'false');
  });

  test('API status shows a loading state, then "ok" when /healthz answers {"status":"ok"}', async ({
    page,
  }) => {
    // Hold the health request until the loading state has been checked, then answer like the API.
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route(`${E2E_API_URL}/healthz`, async (route) => {
      await released;
      await route.fulfill({
        json: { status: 'ok' },
        headers: { 'access-control-allow-origin': new URL(page.url()).origin },
      });
    });

    await page.goto('/');
    const { panel, status } = apiStatus(page);
    await expect(status).toHaveText('API: checking…');
    await expect(panel).toHaveAttribute('aria-busy', 'true');

    release();
    await expect(status).toHaveText('API: ok');
    await expect(panel).toHaveAttribute('aria-busy', 'false');
  });
});
