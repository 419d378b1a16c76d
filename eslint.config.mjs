import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  // src/openapi.metadata.ts is generated (npm run openapi:metadata).
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'src/modules/ui/public/**', 'src/openapi.metadata.ts'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'simulator/main.ts', 'src/demo.ts', 'src/**/*.spec.ts'],
    rules: { 'no-console': 'off' },
  },
);
