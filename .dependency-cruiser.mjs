// The layer rules (README "What is where") and the cycle check, on resolved paths: unlike a
// linter's import-string patterns, this also sees dynamic `import()`, re-exports and type-only
// imports, and a relative path cannot dodge a rule. Run by `npm run lint:deps`.
// Tests are exempt from the layer rules (they wire real adapters into the engine on purpose),
// not from the cycle check.

/** Client libraries that only adapters (and the composition root) may load. */
const CLIENTS = ['ioredis', 'bullmq', '@elastic/elasticsearch', '@kubernetes/client-node', 'consul', 'etcd3', 'node-zookeeper-client', 'eventsource', 'pino'];
/** The HTTP server side: clients of the outside world too, but the API's own framework. */
const HTTP = ['hono', '@hono/[^/]+', 'prom-client'];
// Resolved module paths: node_modules/ioredis/built/index.js (also through a symlinked node_modules).
const pkg = (names) => `(^|/)node_modules/(${names.join('|')})/`;

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle means two modules are one concept split in two, or a lower layer knows a higher one.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'engine-inward-only',
      comment:
        'The engine owns its ports; adapters, the composition root and the API plug into it, never the reverse (engine/main.ts is a process entry point).',
      severity: 'error',
      from: { path: '^engine/', pathNot: '^engine/main\\.ts$' },
      to: { path: '^(adapters|boot|api)/' },
    },
    {
      name: 'engine-no-clients',
      comment: 'Vendor client libraries are loaded by adapters only, so an upgrade touches one folder and the engine never sees a vendor type.',
      severity: 'error',
      from: { path: '^engine/', pathNot: '^engine/main\\.ts$' },
      to: { path: pkg([...CLIENTS, ...HTTP]) },
    },
    {
      name: 'ports-stand-alone',
      comment:
        "A port is written in the engine's own language: it may name domain types, the shared kernel, other ports and Node built-ins (e.g. AbortSignal), nothing that implements it.",
      severity: 'error',
      from: { path: '^engine/ports/' },
      to: {
        pathNot: '^engine/(ports|domain|shared)/',
        dependencyTypesNot: ['core'],
      },
    },
    {
      name: 'adapters-use-ports',
      comment: 'Adapters implement ports: from the engine they see only engine/ports, engine/domain and engine/shared.',
      severity: 'error',
      from: { path: '^adapters/' },
      to: { path: '^engine/', pathNot: '^engine/(ports|domain|shared)/' },
    },
    {
      name: 'adapters-no-outer-layers',
      comment:
        "Adapters are wired by the composition root (boot/), not the other way round, and know nothing of the HTTP API (the gateway agent's entry point may use boot/, as api/main.ts and engine/main.ts do).",
      severity: 'error',
      from: { path: '^adapters/', pathNot: '^adapters/gateway-agent/main\\.ts$' },
      to: { path: '^(api|boot)/' },
    },
    {
      name: 'agent-entry-no-api',
      comment: "The gateway agent's process entry point may use the composition root; nothing in adapters/ knows the HTTP API.",
      severity: 'error',
      from: { path: '^adapters/gateway-agent/main\\.ts$' },
      to: { path: '^api/' },
    },
    {
      name: 'api-no-adapters',
      comment: 'The API talks to ports and engine services; which adapter serves them is decided in boot/.',
      severity: 'error',
      from: { path: '^api/' },
      to: { path: '^adapters/' },
    },
    {
      name: 'api-no-boot',
      comment: 'Only the API process entry point wires the system.',
      severity: 'error',
      from: { path: '^api/', pathNot: '^api/main\\.ts$' },
      to: { path: '^boot/' },
    },
    {
      name: 'api-no-clients',
      comment: 'The API serves HTTP (hono, @hono/*, prom-client) and reaches storage only through ports.',
      severity: 'error',
      from: { path: '^api/' },
      to: { path: pkg(CLIENTS) },
    },
    {
      name: 'cli-talks-http-only',
      comment:
        'The CLI is a client of the HTTP API (its types generated from the OpenAPI document): it never loads the server, the engine or an adapter. Its only engine module is the script compiler, so `veer check` runs the very checks the API runs.',
      severity: 'error',
      from: { path: '^cli/' },
      to: { path: '^(api|engine|adapters|boot|deploy|test|tools)/', pathNot: '^engine/sandbox/script-compiler\\.ts$' },
    },
    {
      name: 'nothing-imports-the-cli',
      comment: 'The CLI is an outer layer: the server side never depends on it (tests drive it as a process).',
      severity: 'error',
      from: { path: '^(api|engine|adapters|boot|deploy|workflows|tools)/' },
      to: { path: '^cli/' },
    },
    {
      name: 'ui-talks-http-only',
      comment:
        'The dashboard is a browser client of the HTTP API: besides its own files it may load only the types generated from the OpenAPI document (cli/api/schema.ts), never the server, the engine or an adapter.',
      severity: 'error',
      from: { path: '^ui/' },
      to: { path: '^(api|engine|adapters|boot|deploy|test|tools|workflows|cli)/', pathNot: '^cli/api/schema\\.ts$' },
    },
    {
      name: 'nothing-imports-the-ui',
      comment: 'The dashboard is an outer layer, served as built files: no server or CLI module loads its source.',
      severity: 'error',
      from: { path: '^(api|engine|adapters|boot|deploy|workflows|tools|cli)/' },
      to: { path: '^ui/' },
    },
    {
      name: 'tools-build-time-only',
      comment: 'tools/ holds build-time scripts (the client generator); no runtime module loads them.',
      severity: 'error',
      from: { path: '^(api|engine|adapters|boot|deploy|workflows|cli)/' },
      to: { path: '^tools/' },
    },
    {
      name: 'workflows-contract-only',
      comment: 'Shipped workflows run in the sandbox, where nothing can be imported: they may name only the script contract (workflows/types.ts).',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { pathNot: '^workflows/types\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // node_modules is not excluded (that would drop every import of a package): it is only not followed.
    exclude: { path: '^(\\.veer|\\.tmp)/' },
    // Type-only imports are dependencies too: a port must not name a vendor type.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'types', 'default'],
      mainFields: ['module', 'main', 'types', 'typings'],
      extensions: ['.ts', '.tsx', '.d.ts', '.js', '.mjs', '.cjs', '.json'],
    },
    cache: false,
  },
};
