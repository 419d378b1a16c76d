// Tiers: unit specs sit beside the code; integration and e2e suites start real processes
// (redis-server, the Novita simulator, the app) on loopback ports.
const tsJest = ['ts-jest', { diagnostics: false }];
const common = {
  transform: { '^.+\\.ts$': tsJest },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testEnvironment: 'node',
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/simulator/**/*.spec.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.spec.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.spec.ts'] },
    { ...common, displayName: 'browser', testMatch: ['<rootDir>/test/browser/**/*.spec.ts'] },
  ],
  testTimeout: 30000,
  // Every test by name: the contract suite's titles name the adapter (memory, redis, upstash) it ran against.
  verbose: true,
};
