/** Request bodies may name a field "__proto__": it must stay an ordinary field and never reach Object.prototype. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverSideApply } from './apply.js';
import { builtinPatchSchema } from './mergekeys.js';
import { applyMergePatch, createMergePatch } from './mergepatch.js';
import { applyStrategicMergePatch } from './strategic.js';

const schema = builtinPatchSchema('', 'ConfigMap');
const body = (): Record<string, unknown> => JSON.parse('{"data":{"__proto__":{"polluted":"yes"},"a":"1"}}');
const cm = (): Record<string, unknown> => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { b: '2' } });

test('"__proto__" keys are plain fields in every engine', () => {
  const outs: unknown[] = [
    applyMergePatch(cm(), body()),
    applyStrategicMergePatch(cm(), body(), schema),
    applyMergePatch(applyMergePatch(cm(), body()), body()),
    applyStrategicMergePatch(applyStrategicMergePatch(cm(), body(), schema), body(), schema),
    serverSideApply({ applied: { ...cm(), ...body() }, manager: 'm', schema, now: new Date(0), apiVersion: 'v1' }).object,
    createMergePatch(cm(), { ...cm(), ...body() }),
  ];
  for (const [i, out] of outs.entries()) {
    assert.equal(({} as Record<string, unknown>).polluted, undefined, `engine ${i}`);
    const data = (out as { data: Record<string, unknown> }).data;
    assert.ok(Object.prototype.hasOwnProperty.call(data, '__proto__'), `engine ${i} keeps the field`);
    assert.deepEqual(JSON.parse(JSON.stringify(data)).__proto__, { polluted: 'yes' }, `engine ${i}`);
    assert.equal(Object.getPrototypeOf(data), Object.prototype, `engine ${i}`);
  }
});
