import { execFileSync } from 'node:child_process';
import { Browser, chromium } from 'playwright-core';
import { ServiceProcess, startService } from '../support/service-process';

function chromiumPath(): string | undefined {
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      // not installed under this name
    }
  }
  return undefined;
}

const executablePath = chromiumPath();
// CI installs Debian's chromium (.ci/run); a developer machine without it skips, CI never does.
const describeBrowser = executablePath || process.env.CI === 'true' ? describe : describe.skip;

describeBrowser('Swagger UI under the content security policy (Chromium)', () => {
  let svc: ServiceProcess;
  let browser: Browser;

  beforeAll(async () => {
    svc = await startService({
      NOVITA_API_KEY: 'sk_unused',
      NOVITA_API_BASE_URL: 'http://127.0.0.1:9/gpu-instance/openapi/v1',
      LOG_LEVEL: 'silent',
    });
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await svc?.kill('SIGTERM');
  });

  it('renders the operations with no CSP violation, while the policy does block inline script', async () => {
    const page = await browser.newPage();
    const violations: string[] = [];
    await page.exposeFunction('reportViolation', (v: string) => violations.push(v));
    // Plain strings: these run in the page, and this project compiles without the DOM typings.
    await page.addInitScript({
      content:
        "document.addEventListener('securitypolicyviolation', (e) => window.reportViolation(e.violatedDirective + ' ' + e.blockedURI));",
    });
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });

    const res = await page.goto(`${svc.url}/docs`);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.waitForSelector('.swagger-ui .info .title', { timeout: 20_000 });
    expect(await page.textContent('.swagger-ui .info .title')).toContain('Novita GPU control plane');
    await page.waitForSelector('.opblock-summary-path', { timeout: 20_000 });
    const paths = await page.$$eval('.opblock-summary-path', (els) => els.map((e) => e.textContent?.trim()));
    expect(paths).toEqual(expect.arrayContaining(['/health', '/metrics', '/api/cache/stats']));
    // Expanding an operation loads its schemas and icons (data: URIs) too.
    await page.click('.opblock-summary-path[data-path="/api/cache/clear"]');
    await page.waitForSelector('.opblock-body', { timeout: 10_000 });

    expect(violations).toEqual([]);
    expect(consoleErrors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);

    // The check above can fail: the same page refuses an inline script and reports it.
    await page.addScriptTag({ content: 'window.__inline = true;' }).catch(() => undefined);
    await page.waitForTimeout(200);
    expect(await page.evaluate('window.__inline')).toBeUndefined();
    expect(violations.some((v) => v.startsWith('script-src'))).toBe(true);
    await page.close();
  }, 60_000);
});
