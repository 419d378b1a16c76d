import { isSensitiveParam, redactQueryObject, redactUrl } from './redact-url';

describe('redactUrl', () => {
  it.each([
    ['/api/instances?api_key=abc', '/api/instances?api_key=[Redacted]'],
    ['/api/instances?key=abc&limit=5', '/api/instances?key=[Redacted]&limit=5'],
    ['/x?limit=5&token=t0k&page=2', '/x?limit=5&token=[Redacted]&page=2'],
    ['/x?access_token=a&client_secret=b', '/x?access_token=[Redacted]&client_secret=[Redacted]'],
    ['/x?PASSWORD=p', '/x?PASSWORD=[Redacted]'],
    ['/x?signature=s&sig=t', '/x?signature=[Redacted]&sig=[Redacted]'],
    ['/x?api%5Fkey=v', '/x?api%5Fkey=[Redacted]'],
    ['/x?apiKey', '/x?apiKey=[Redacted]'],
    ['/x?token=a#frag', '/x?token=[Redacted]#frag'],
    ['/x?bad=%E0%A4%A&key=1', '/x?bad=%E0%A4%A&key=[Redacted]'],
    ['http://h/p?X-Api-Key=1&name=n', 'http://h/p?X-Api-Key=[Redacted]&name=n'],
  ])('%s -> %s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });

  it('keeps URLs without sensitive parameters byte for byte', () => {
    expect(redactUrl('/api/instances?limit=5&name=a%20b&status=running')).toBe(
      '/api/instances?limit=5&name=a%20b&status=running',
    );
    expect(redactUrl('/api/instances')).toBe('/api/instances');
    expect(redactUrl(undefined)).toBeUndefined();
  });

  it('judges parameter names, not values', () => {
    expect(isSensitiveParam('name')).toBe(false);
    expect(isSensitiveParam('monkey')).toBe(true); // contains "key": erring on the side of hiding
    expect(redactUrl('/x?name=token')).toBe('/x?name=token');
  });

  it('redacts parsed query objects too', () => {
    expect(redactQueryObject({ token: 'a', limit: '5' })).toEqual({ token: '[Redacted]', limit: '5' });
    expect(redactQueryObject(undefined)).toBeUndefined();
  });
});
