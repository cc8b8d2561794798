// Runs Zap bundles through zapier-platform-core against a live connector, for the fixtures
// harness's cross-check (tests/test_zapier_runtime.py).
//
// stdin: {"requestTemplate": {...}, "authTest": {...}, "operations": {key: {"kind", "request"}},
//         "runs": [{"key", "bundle"}]}
// argv[2]: where to write [{"key", "ok", "error"}], in the order of "runs" (the runtime may
// print to stdout itself). The requests themselves are what the
// connector received; the Python side captures and compares them.
'use strict';

const zapier = require('zapier-platform-core');

const KIND_GROUP = { action: 'creates', search: 'searches', trigger: 'triggers' };

function appFrom(spec) {
  const app = {
    version: '1.0.0',
    platformVersion: zapier.version,
    authentication: {
      type: 'custom',
      fields: [{ key: 'base_url', required: true }, { key: 'api_key', required: true }],
      test: spec.authTest,
    },
    requestTemplate: spec.requestTemplate,
    creates: {},
    searches: {},
    triggers: {},
  };
  for (const [key, operation] of Object.entries(spec.operations)) {
    const group = KIND_GROUP[operation.kind];
    app[group][key] = {
      key,
      noun: 'Item',
      display: { label: key, description: `Runs ${key}.` },
      operation: { perform: operation.request, sample: { id: 1 } },
    };
  }
  return app;
}

// appTester finds a method by identity: hand it the request object inside the app.
function methodOf(app, spec, key) {
  if (key === 'auth_test') return app.authentication.test;
  return app[KIND_GROUP[spec.operations[key].kind]][key].operation.perform;
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const spec = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const app = appFrom(spec);
  const appTester = zapier.createAppTester(app);
  const results = [];
  for (const run of spec.runs) {
    try {
      await appTester(methodOf(app, spec, run.key), run.bundle);
      results.push({ key: run.key, ok: true, error: null });
    } catch (error) {
      results.push({ key: run.key, ok: false, error: String(error && error.message).slice(0, 300) });
    }
  }
  require('fs').writeFileSync(process.argv[2], JSON.stringify(results));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack));
  process.exit(1);
});
