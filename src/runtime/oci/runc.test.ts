import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { OciRuntimeCLI, runtimeMessage } from './runc.js';

const root = fs.mkdtempSync('/tmp/k8ts-runc-test-');
const cli = new OciRuntimeCLI('/usr/sbin/runc', root);
after(() => fs.rmSync(root, { recursive: true, force: true }));

test('runtimeMessage extracts msg from runc\'s log lines', () => {
  assert.equal(runtimeMessage('time="2026-11-25T05:35:22Z" level=error msg="runc create failed: exec: \\"/x\\": stat /x: no such file"\n'), 'runc create failed: exec: "/x": stat /x: no such file');
  assert.equal(runtimeMessage('time="t" level=warning msg="w"\ntime="t" level=error msg=plain\n'), 'plain');
  assert.equal(runtimeMessage('something else\n'), 'something else');
});

test('unknown ids: state null, kill and delete are no errors, list empty', async () => {
  assert.match(await cli.version(), /runc version/);
  assert.equal(await cli.state('nope'), null);
  await cli.kill('nope', 'KILL');
  await cli.delete('nope', true);
  assert.deepEqual(await cli.list(), []);
  await assert.rejects(cli.start('nope'), /does not exist/);
});
