// Lint: typescript-eslint's recommended rules, syntax only (tsc already checks types; on two cores
// the type-aware set took 20 s and 1.3 GB against 4.4 s and 0.5 GB), plus one rule of ours:
// configuration is read in config modules only. The layer rules live in .dependency-cruiser.mjs,
// which sees resolved paths, dynamic imports and type-only imports.
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** Inside `if (import.meta.main) { … }`: a process entry point handing its environment to config. */
const inEntryBlock = 'IfStatement[test.type="MemberExpression"][test.object.type="MetaProperty"][test.object.meta.name="import"][test.property.name="main"] *';
const envMessage =
  'Read the environment in a config module (engine/config.ts, adapters/*/config.ts, boot/) or an `if (import.meta.main)` entry block, and pass config in.';

export default defineConfig(
  globalIgnores(['node_modules/', '.veer/', '.tmp/', 'ui/dist/', 'test/output/']),
  tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx,mjs,js}'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: `MemberExpression[object.name="process"][property.name="env"]:not(${inEntryBlock})`, message: envMessage },
        { selector: `MemberExpression[object.name="process"][property.value="env"]:not(${inEntryBlock})`, message: envMessage },
        { selector: `VariableDeclarator[init.name="process"] > ObjectPattern > Property[key.name="env"]:not(${inEntryBlock})`, message: envMessage },
      ],
      'no-restricted-imports': ['error', { paths: ['process', 'node:process'].map((name) => ({ name, importNames: ['env'], message: envMessage })) }],
      // `_`-prefixed names are deliberately unused (a callback's position, a rest sibling).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
    },
  },
  {
    // Where the environment may be read anywhere in the file, and why.
    files: [
      'engine/config.ts', // the engine's config module
      'adapters/*/config.ts', // each capability's config module
      'boot/**', // the composition root compiles each process's config once
      'cli/main.ts', // the CLI's entry: reads the environment once and passes it to every command
      'deploy/local/demo-service.mjs', // a demo payload run *as* a deployment: its env is its whole interface
      'ui/vite.config.ts', // the dashboard's dev server: where a running Veer is (VEER_URL)
      'test/**', // tests configure the child processes and the optional real services they start
    ],
    rules: { 'no-restricted-syntax': 'off', 'no-restricted-imports': 'off' },
  },
  {
    // Tests read untyped JSON bodies and poke at doubles; `any` there is a shortcut, not a hole in a contract.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
