// Runs a generated Zapier app under Zapier's own runtime, for tests/manifests (driven from pytest).
//
// stdin:  {"app": "<folder with index.js>", "calls": [{"method": "creates.x.operation.perform",
//          "bundle": {...}}, ...]}
// stdout: {"validation": [<validateAppDefinition errors>], "results": [{"ok": true, "results": ...}
//          | {"ok": false, "error": {"name", "message"}}, ...]}
//
// Each call goes through createAppHandler exactly as Zapier's backend calls an app (the same
// path createAppTester takes), with NODE_ENV=test so core's result checks (triggerHasId,
// createIsObject, ...) throw instead of only logging. Modules resolve from this folder's
// node_modules (NODE_PATH), so the generated index.js runs unchanged.
'use strict';

process.env.NODE_ENV = 'test';

const path = require('path');
const zapier = require('zapier-platform-core');
const { validateAppDefinition } = require('zapier-platform-schema');

const readStdin = () =>
  new Promise((resolve, reject) => {
    let text = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk) => (text += chunk));
    process.stdin.on('end', () => resolve(text));
    process.stdin.on('error', reject);
  });

const describe = (error) => ({ name: error.name, message: error.message });

const main = async () => {
  const request = JSON.parse(await readStdin());
  const app = require(path.resolve(request.app, 'index.js'));
  const validation = validateAppDefinition(app).errors.map((e) => e.stack || String(e));
  const handler = zapier.createAppHandler(app);
  const results = [];
  for (const call of request.calls || []) {
    try {
      const output = await handler({ command: 'execute', method: call.method, bundle: call.bundle || {} });
      results.push({ ok: true, results: output.results === undefined ? null : output.results });
    } catch (error) {
      results.push({ ok: false, error: describe(error) });
    }
  }
  process.stdout.write(JSON.stringify({ coreVersion: zapier.version, validation, results }));
};

main().catch((error) => {
  process.stderr.write(String((error && error.stack) || error));
  process.exit(1);
});
