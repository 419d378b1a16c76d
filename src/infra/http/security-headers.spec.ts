import { buildSecurityHeaders, isPagePath } from './security-headers';

describe(buildSecurityHeaders.name, () => {
  it('yields helmet’s headers for the pages’ policy, with lower-case names', () => {
    const headers = buildSecurityHeaders('page');
    expect(headers).toMatchObject({
      'content-security-policy': expect.stringContaining("script-src 'self';"),
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
    });
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(Object.keys(headers).every((name) => name === name.toLowerCase())).toBe(true);
  });

  it('gives an API answer a policy under which nothing loads or frames it, and drops the page-only headers', () => {
    const api = buildSecurityHeaders('api');
    expect(api).toEqual({
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none';frame-ancestors 'none'",
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      'referrer-policy': 'no-referrer',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
    });
  });
});

describe(isPagePath.name, () => {
  it('takes the dashboard, its assets and Swagger UI for pages, and everything else for API answers', () => {
    for (const url of [
      '/',
      '/?tab=jobs',
      '/ui/app.js',
      '/docs',
      '/docs/',
      '/docs/swagger-ui.css',
      '/docs-json',
    ])
      expect({ url, page: isPagePath(url) }).toEqual({ url, page: true });
    for (const url of [
      '/api/instances',
      '/health/live',
      '/metrics',
      '/no/such/route',
      '/uix',
      '/api/docs',
      '/docsx',
    ])
      expect({ url, page: isPagePath(url) }).toEqual({ url, page: false });
  });
});
