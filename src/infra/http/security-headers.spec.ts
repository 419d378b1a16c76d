import { buildSecurityHeaders } from './security-headers';

describe(buildSecurityHeaders.name, () => {
  it('yields helmet’s headers for this service’s policy, with lower-case names', () => {
    const headers = buildSecurityHeaders();
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
});
