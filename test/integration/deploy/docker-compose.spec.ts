import { load } from 'js-yaml';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

type Service = {
  image?: string;
  build?: unknown;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
};

describe('docker-compose.yml', () => {
  const compose = load(readFileSync(join(__dirname, '..', '..', '..', 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, Service>;
  };
  const services = Object.entries(compose.services);

  it('pins every image to an exact version', () => {
    for (const [name, s] of services.filter(([, s]) => s.image)) {
      expect({ name, image: s.image }).toEqual({
        name,
        image: expect.stringMatching(/:\d+\.\d+\.\d+[\w.-]*$/),
      });
    }
  });

  it('starts services only after what they depend on, with a health condition where one exists', () => {
    for (const [name, s] of services) {
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        const expected = compose.services[dep].healthcheck ? 'service_healthy' : 'service_started';
        expect({ name, dep, condition }).toEqual({ name, dep, condition: expected });
      }
    }
  });

  it('health-checks the API on readiness and lets it drain on stop', () => {
    for (const [name, s] of services.filter(([, s]) => s.build)) {
      expect({ name, test: s.healthcheck?.test.join(' ') }).toEqual({
        name,
        test: expect.stringContaining('/health/ready'),
      });
      expect({ name, grace: s.stop_grace_period }).toEqual({ name, grace: '40s' });
    }
  });
});
