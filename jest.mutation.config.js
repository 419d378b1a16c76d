// Jest setup for mutation testing (npm run test:mutation): only the unit specs of the decision logic
// Stryker mutates, so each mutant is judged by the tests written for that logic.
const base = require('./jest.config.js');
const unit = base.projects.find((p) => p.displayName === 'unit');

module.exports = {
  transform: unit.transform,
  moduleFileExtensions: unit.moduleFileExtensions,
  testEnvironment: unit.testEnvironment,
  rootDir: __dirname,
  testMatch: [
    '<rootDir>/src/modules/instances/product-selection.policy.spec.ts',
    '<rootDir>/src/modules/records/status-mapping.spec.ts',
    '<rootDir>/src/infra/novita/novita-error.classifier.spec.ts',
    '<rootDir>/src/modules/webhooks/webhook-url.policy.spec.ts',
    '<rootDir>/src/modules/webhooks/webhook-attempt.policy.spec.ts',
    '<rootDir>/src/modules/instances/idempotency.service.spec.ts',
    '<rootDir>/src/modules/records/idle-policy.spec.ts',
    '<rootDir>/src/modules/migration/migration-eligibility.spec.ts',
    '<rootDir>/src/modules/sync/obsolete.policy.spec.ts',
  ],
};
