/**
 * The files `veer init` writes: a Workflow manifest, a typed script, the script-contract types
 * it imports, a tsconfig for the editor, and a README. The script passes the API's compile as
 * it is: `import type` is erased when the script is uploaded.
 */

/** The published script contract, copied next to the script so an editor can resolve `ctx`. */
export const TYPES_FILE = 'veer-types.ts';

export function manifest(name: string): string {
  return `# A Veer workflow: veer check, then veer apply -f .
kind: Workflow
name: ${name}
labels:
  app: ${name}
spec:
  # The script: a path to a file next to this manifest (or the source inline).
  script: ./${name}.ts
  # Run it on a schedule (5 fields, or 6 with seconds), or leave it out to run it by hand
  # (veer run ${name}).
  # trigger:
  #   cron: "*/5 * * * *"
  #   timezone: UTC
  env:
    GREETING: hello
`;
}

export function script(): string {
  return `import type { Ctx } from './${TYPES_FILE}';

/**
 * Runs on every trigger (or \`veer run\`). \`ctx\` is the whole API a script has: its log, state
 * kept across runs, gateways, deployments, events, metrics, signals, http and secrets (each
 * limited by the workflow's permissions). Nothing can be imported at run time; \`import type\`
 * is erased when the script is uploaded.
 */
export default async function (ctx: Ctx<{ who?: string }>) {
  const runs = ((await ctx.state.get<number>('runs')) ?? 0) + 1;
  await ctx.state.set('runs', runs);
  const who = ctx.input?.who ?? 'world';
  ctx.log.info(\`\${String(ctx.env.GREETING ?? 'hello')}, \${who}\`, { runs });
  return { runs, trigger: ctx.run.trigger.type };
}
`;
}

/** Strict, editor-only: scripts are never built, Veer strips their types at upload. */
export function tsconfig(): string {
  return `${JSON.stringify(
    {
      compilerOptions: {
        target: 'es2024',
        // A script is an ES module on its own (no package.json says so): bundler resolution
        // treats it as one and resolves the `.ts` import of the contract types.
        module: 'esnext',
        moduleResolution: 'bundler',
        lib: ['es2024'],
        types: [],
        strict: true,
        noEmit: true,
        allowImportingTsExtensions: true,
        verbatimModuleSyntax: true,
        erasableSyntaxOnly: true,
        skipLibCheck: true,
      },
      include: ['*.ts'],
    },
    null,
    2,
  )}\n`;
}

export function readme(name: string): string {
  return `# ${name}

- \`veer check\`: checks the script (of \`veer.yaml\`) with the API's own compiler, offline.
- \`veer apply -f .\`: uploads the workflow to Veer (every manifest in this directory).
`;
}
