/// <reference lib="dom" />
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, Page, chromium } from 'playwright-core';
import { RunningSimulator, startSimulator } from '../../simulator';
import { ServiceProcess, startService, waitFor } from '../support/service-process';
import { WebhookReceiver } from '../support/webhook-receiver';
import {
  API_KEY,
  FAST_TIMINGS,
  WEBHOOK_SECRET,
  httpRequest,
  serviceEnv,
} from '../e2e/instances/instances-e2e.harness';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const HOSTILE = '<img src=x onerror=alert(1)>';
const IMAGES = join(__dirname, '..', '..', 'docs', 'images');

// CI installs Debian's chromium (.ci/run); a developer machine without it skips, CI never does.
const describeBrowser = CHROMIUM || process.env.CI === 'true' ? describe : describe.skip;

/** The dashboard in headless Chromium against the real service and the simulator. */
describeBrowser('web dashboard (Chromium)', () => {
  let sim: RunningSimulator;
  let receiver: WebhookReceiver;
  let svc: ServiceProcess;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const dialogs: string[] = [];
  const api = (method: string, url: string, body?: unknown) => httpRequest(svc.url, method, url, body);
  const row = (name: string) =>
    page.locator('#instance-rows tr', { has: page.locator('th.name', { hasText: name }) });

  beforeAll(async () => {
    if (!CHROMIUM) throw new Error('chromium is required for the dashboard tests (apt-get install chromium)');
    sim = await startSimulator({ timings: FAST_TIMINGS, seed: 41 });
    sim.sim.seedInstance({ name: 'alpha', status: 'running' });
    sim.sim.seedInstance({ name: 'bravo', status: 'running' });
    sim.sim.seedInstance({ name: 'charlie', status: 'exited' });
    sim.sim.seedInstance({ name: HOSTILE, status: 'running' });
    receiver = await WebhookReceiver.start({ secret: WEBHOOK_SECRET });
    svc = await startService(serviceEnv(sim, receiver));
    await waitFor(async () => (await api('GET', '/api/instances')).body.total === 4, 20_000);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
      });
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await svc?.kill('SIGKILL');
    await receiver?.stop();
    await sim?.close();
  });

  it('loads without console errors or CSP violations; the key shows the simulator instances', async () => {
    const res = await page.goto(svc.url + '/');
    expect(res?.status()).toBe(200);
    await page.fill('#api-key', API_KEY);
    await page.click('#key-save');
    await page.waitForFunction(() => document.querySelectorAll('#instance-rows tr[data-id]').length === 4);
    await expect(page.locator('#stat-total').textContent()).resolves.toBe('4');
    // The key is kept for the tab, never put in the URL.
    expect(page.url()).not.toContain(API_KEY);
    expect(await page.evaluate(() => sessionStorage.getItem('novita-cp.apiKey'))).toBe(API_KEY);
    expect(problems).toEqual([]);
  });

  it('shows an instance named with HTML as text, and no script runs', async () => {
    await expect(row(HOSTILE).locator('th.name').textContent()).resolves.toBe(HOSTILE);
    expect(await page.locator('#instance-rows img').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it('stops and starts an instance from the page: the simulator follows, the row goes to stopped and back to ready', async () => {
    const alpha = (await api('GET', '/api/instances?name=alpha')).body.instances[0];
    await row('alpha').getByRole('button', { name: 'Stop alpha' }).click();
    await waitFor(async () => sim.sim.getInstance(alpha.novitaInstanceId)?.status === 'exited', 15_000);
    await row('alpha')
      .locator('.badge', { hasText: /^stopped$/ })
      .waitFor({ timeout: 20_000 });
    await row('alpha').getByRole('button', { name: 'Start alpha' }).click();
    await waitFor(async () => sim.sim.getInstance(alpha.novitaInstanceId)?.status === 'running', 15_000);
    await row('alpha')
      .locator('.badge', { hasText: /^ready$/ })
      .waitFor({ timeout: 30_000 });
  }, 90_000);

  it('previews a sync without changing anything', async () => {
    sim.sim.seedInstance({ name: 'delta', status: 'exited' });
    const before = (await api('GET', '/api/instances?limit=500')).body;
    await page.click('#sync-preview');
    await page.locator('#sync-result').waitFor({ state: 'visible' });
    await expect(page.locator('#sync-result-title').textContent()).resolves.toContain('preview');
    await expect(page.locator('#sync-counts').textContent()).resolves.toContain('Adopted (unmanaged)1');
    expect((await api('GET', '/api/instances?limit=500')).body).toEqual(before);
    await page.click('#sync-apply');
    await page.waitForFunction(() => document.querySelectorAll('#instance-rows tr[data-id]').length === 5);
  });

  it('asks before stopping all, and stops only after confirmation', async () => {
    const bravo = (await api('GET', '/api/instances?name=bravo')).body.instances[0];
    await api('POST', `/api/instances/${bravo.id}/adopt`, {});
    const stopsBefore = sim.sim.callLog({ path: '/gpu/instance/stop' }).length;
    await page.click('#stop-all');
    await expect(page.locator('#confirm-dialog').isVisible()).resolves.toBe(true);
    await page.click('#confirm-cancel');
    expect(sim.sim.callLog({ path: '/gpu/instance/stop' }).length).toBe(stopsBefore);
    await page.click('#stop-all');
    await page.click('#confirm-ok');
    await page.locator('#stop-all-result').waitFor({ state: 'visible' });
    await expect(page.locator('#stop-all-list').textContent()).resolves.toContain('bravo');
    expect(sim.sim.callLog({ path: '/gpu/instance/stop' }).length).toBe(stopsBefore + 1);
  });

  it('shows a change made through the API after the next refresh, keeping the filters', async () => {
    await page.selectOption('#filter-status', 'stopped');
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll('#instance-rows .badge')).every((b) =>
        b.textContent?.startsWith('stopped'),
      ),
    );
    // The user is looking at the table (scrolled down to it) when the refresh comes.
    await page.locator('#instances').scrollIntoViewIfNeeded();
    await page.evaluate(() => window.scrollBy(0, 200));
    const scrollBefore = await page.evaluate(() => window.scrollY);
    expect(scrollBefore).toBeGreaterThan(0);
    const alpha = (await api('GET', '/api/instances?name=alpha')).body.instances[0];
    await api('POST', `/api/instances/${alpha.id}/stop`);
    await waitFor(
      async () => (await api('GET', `/api/instances/${alpha.id}`)).body.status === 'stopped',
      15_000,
    );
    // The refresh the timer would run (a pointer click would first scroll the button into view).
    await page.evaluate(() => document.getElementById('refresh-now')!.click());
    await row('alpha').waitFor({ timeout: 10_000 });
    await expect(page.locator('#filter-status').inputValue()).resolves.toBe('stopped');
    expect(await page.evaluate(() => window.scrollY)).toBe(scrollBefore);
    await page.selectOption('#filter-status', '');
  });

  it('writes desktop and phone screenshots for the README', async () => {
    // A fresh load (the key stays in the tab's session storage) shows the page as a user first sees it.
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('#instance-rows tr[data-id]').length >= 5);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(IMAGES, 'dashboard-desktop.png') });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(IMAGES, 'dashboard-phone.png') });
    // Nothing is wider than the phone screen except the scrollable tables.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 0)
      console.log(
        await page.evaluate(() =>
          Array.from(document.querySelectorAll('body *'))
            .filter(
              (e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap'),
            )
            .map((e) => `${e.tagName}#${e.id}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)
            .slice(0, 10),
        ),
      );
    expect(overflow).toBeLessThanOrEqual(0);
    expect(problems).toEqual([]);
  });
});
