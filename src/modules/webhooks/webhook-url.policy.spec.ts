import { validate } from 'class-validator';
import { AppError, ErrorCode } from '../../common/errors';
import { IsWebhookUrl } from './is-webhook-url.decorator';
import {
  addressRange,
  assertWebhookUrlAllowed,
  bareHostname,
  isLoopbackHostname,
  isPrivateAddress,
  webhookUrlProblem,
  webhookUrlSyntaxProblem,
} from './webhook-url.policy';

describe('webhook URL policy', () => {
  describe('isPrivateAddress', () => {
    it.each([
      '127.0.0.1',
      '127.255.0.9',
      '10.0.0.1',
      '10.255.255.255',
      '172.16.0.1',
      '172.31.255.254',
      '192.168.1.1',
      '169.254.169.254',
      '0.0.0.0',
      '100.64.0.1',
      '::1',
      '::',
      'fc00::1',
      'fd12:3456::1',
      'fe80::1',
      'febf::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:10.1.2.3',
      '::ffff:a9fe:a9fe',
      '0:0:0:0:0:ffff:c0a8:101',
      // Translation, tunnelling and special-purpose space that reaches, or may reach, private networks.
      '64:ff9b::a00:1',
      '64:ff9b:1::1',
      '2002:a00:1::1',
      '2001::1',
      '198.18.0.1',
      '198.19.255.254',
      '192.0.0.8',
      '240.0.0.1',
      '255.255.255.255',
      '224.0.0.1',
      '239.255.255.250',
      'ff02::1',
      '192.0.2.10',
      '2001:db8::1',
      'fec0::1',
    ])('refuses %s', (address) => {
      expect(isPrivateAddress(address)).toBe(true);
    });

    it.each([
      '8.8.8.8',
      '172.15.255.255',
      '172.32.0.1',
      '192.169.0.1',
      '1.1.1.1',
      '2001:4860:4860::8888',
      '::ffff:8.8.8.8',
      '198.17.255.255',
      '198.20.0.1',
      '192.0.1.1',
      '223.255.255.254',
      '2a00:1450:4001::200e',
    ])('allows public %s', (address) => {
      expect(isPrivateAddress(address)).toBe(false);
    });

    it('says false for hostnames (they are judged after DNS)', () => {
      expect(isPrivateAddress('example.com')).toBe(false);
    });
  });

  describe('syntax', () => {
    it.each([
      ['ftp://example.com/hook', 'must use http or https'],
      ['javascript:alert(1)', 'must use http or https'],
      ['not a url', 'must be a valid absolute URL'],
      ['/relative/path', 'must be a valid absolute URL'],
      ['', 'must be a URL string'],
      ['https://user:pw@example.com/', 'must not embed credentials'],
      ['https://user@example.com/', 'must not embed credentials'],
      ['https://:pw@example.com/', 'must not embed credentials'],
    ])('rejects %s', (url, problem) => {
      expect(webhookUrlSyntaxProblem(url)).toBe(problem);
    });

    it('rejects non-strings', () => {
      expect(webhookUrlSyntaxProblem(42)).toBe('must be a URL string');
    });

    it('accepts http and https URLs', () => {
      expect(webhookUrlSyntaxProblem('https://hooks.example.com/x?y=1')).toBeNull();
      expect(webhookUrlSyntaxProblem('http://example.com:8080/')).toBeNull();
    });
  });

  describe('webhookUrlProblem', () => {
    it.each([
      'http://localhost:3000/hook',
      'http://LOCALHOST./hook',
      'http://api.localhost/hook',
      'http://127.0.0.1/hook',
      'http://0x7f.1/hook',
      'http://2130706433/hook',
      'http://10.1.2.3/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]:8080/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://[fd00::5]/hook',
      'http://[fe80::1]/hook',
      'http://[64:ff9b::7f00:1]/hook',
      'http://[2002:7f00:1::1]/hook',
      'http://198.18.0.1/hook',
      'http://192.0.0.170/hook',
      'http://240.1.2.3/hook',
      'http://224.0.0.251/hook',
    ])('refuses %s unless private targets are allowed', (url) => {
      expect(webhookUrlProblem(url, false)).toMatch(/must not target/);
      expect(webhookUrlProblem(url, true)).toBeNull();
    });

    it('allows public targets', () => {
      expect(webhookUrlProblem('https://hooks.example.com/h', false)).toBeNull();
      expect(webhookUrlProblem('http://[2a00:1450:4001::200e]/h', false)).toBeNull();
      expect(webhookUrlProblem('http://8.8.8.8/h', false)).toBeNull();
    });

    it('enforces the syntax even when private targets are allowed', () => {
      expect(webhookUrlProblem('file:///etc/passwd', true)).toBe('must use http or https');
    });
  });

  describe('assertWebhookUrlAllowed', () => {
    it('throws a VALIDATION_ERROR naming the field', () => {
      let caught: unknown;
      try {
        assertWebhookUrlAllowed('http://127.0.0.1/x', false, 'webhookUrl');
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(AppError);
      expect((caught as AppError).code).toBe(ErrorCode.VALIDATION_ERROR);
      expect((caught as AppError).httpStatus).toBe(400);
      expect((caught as AppError).message).toMatch(/^webhookUrl must not target/);
      expect((caught as AppError).details).toEqual({
        fields: [
          {
            field: 'webhookUrl',
            messages: [expect.stringMatching(/must not target loopback address space/)],
          },
        ],
      });
    });

    it('returns quietly for allowed URLs', () => {
      expect(() => assertWebhookUrlAllowed('https://example.com/h', false)).not.toThrow();
      expect(() => assertWebhookUrlAllowed('http://127.0.0.1/h', true)).not.toThrow();
    });
  });

  describe('@IsWebhookUrl', () => {
    class Dto {
      @IsWebhookUrl()
      webhookUrl: unknown;
    }
    const check = (value: unknown) => {
      const dto = new Dto();
      dto.webhookUrl = value;
      return validate(dto);
    };

    it('accepts http(s) URLs, including private ones (config decides those later)', async () => {
      await expect(check('https://example.com/h')).resolves.toEqual([]);
      await expect(check('http://127.0.0.1:9/h')).resolves.toEqual([]);
    });

    it('rejects other schemes with a message naming the field', async () => {
      const errors = await check('ftp://example.com/h');
      expect(errors).toHaveLength(1);
      expect(errors[0].constraints).toEqual({ isWebhookUrl: 'webhookUrl must use http or https' });
    });

    it('rejects garbage', async () => {
      const errors = await check('::::');
      expect(errors[0].constraints?.isWebhookUrl).toBe('webhookUrl must be a valid absolute URL');
    });
  });

  describe('helpers', () => {
    it('classifies with the IPv4 range for IPv4-mapped IPv6, and says null for hostnames', () => {
      expect(addressRange('::ffff:10.0.0.1')).toBe('private');
      expect(addressRange('8.8.8.8')).toBe('unicast');
      expect(addressRange('64:ff9b::1')).toBe('rfc6052');
      expect(addressRange('example.com')).toBeNull();
    });

    it.each([
      ['localhost', true],
      ['LOCALHOST', true],
      ['localhost.', true],
      ['api.localhost', true],
      ['api.localhost.', true],
      ['notlocalhost', false],
      ['localhost.example.com', false],
      ['example.com', false],
    ])('isLoopbackHostname(%s) is %s', (host, expected) => {
      expect(isLoopbackHostname(host)).toBe(expected);
    });

    it('strips IPv6 brackets only', () => {
      expect(bareHostname(new URL('http://[::1]:80/'))).toBe('::1');
      expect(bareHostname(new URL('http://example.com/'))).toBe('example.com');
    });

    it('refuses blank and non-string URLs before parsing', () => {
      expect(webhookUrlSyntaxProblem('   ')).toBe('must be a URL string');
      expect(webhookUrlSyntaxProblem(undefined)).toBe('must be a URL string');
      expect(webhookUrlProblem(null, true)).toBe('must be a URL string');
    });

    it('names the given field, and webhookUrl by default', () => {
      expect(() => assertWebhookUrlAllowed('ftp://x', false, 'WEBHOOK_URL')).toThrow(
        /^WEBHOOK_URL must use http or https$/,
      );
      expect(() => assertWebhookUrlAllowed('ftp://x', true)).toThrow(/^webhookUrl must use http or https$/);
      try {
        assertWebhookUrlAllowed('http://10.0.0.1/', false, 'url');
      } catch (err) {
        expect((err as AppError).details).toEqual({
          fields: [
            { field: 'url', messages: [expect.stringMatching(/^url must not target private address space/)] },
          ],
        });
      }
      expect.assertions(3);
    });

    it('explains the refusal with the range and the switch that allows it', () => {
      expect(webhookUrlProblem('http://192.168.1.5/', false)).toBe(
        'must not target private address space: only globally routable unicast addresses are allowed ' +
          '(set WEBHOOK_ALLOW_PRIVATE_TARGETS=true to allow private targets)',
      );
      expect(webhookUrlProblem('http://localhost/', false)).toBe(
        'must not target localhost (set WEBHOOK_ALLOW_PRIVATE_TARGETS=true to allow)',
      );
    });
  });
});
