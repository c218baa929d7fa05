import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { parseRequestInfo } from '../http/requestinfo.js';
import { RequestCounter } from './requests.js';

/** A response stand-in: `finish` (or `close` without finishing) with a status code. */
function response(code: number): ServerResponse & EventEmitter {
  const r = new EventEmitter() as ServerResponse & EventEmitter;
  Object.assign(r, { statusCode: code, writableFinished: false });
  return r;
}

test('requests are counted by upstream verb, resource, subresource and code when they finish', async () => {
  const c = new RequestCounter();
  const q = new URLSearchParams();
  const create = response(201);
  c.track(parseRequestInfo('POST', '/api/v1/namespaces/default/pods', q), create);
  const bind = response(201);
  c.track(parseRequestInfo('POST', '/api/v1/namespaces/default/pods/p/binding', q), bind);
  const conflict = response(409);
  c.track(parseRequestInfo('PUT', '/apis/apps/v1/namespaces/default/replicasets/r/status', q), conflict);
  const watch = response(200);
  c.track(parseRequestInfo('GET', '/api/v1/pods', new URLSearchParams('watch=1')), watch);
  assert.equal(c.snapshot().size, 0, 'nothing counted before the responses end');
  create.emit('finish');
  bind.emit('finish');
  conflict.emit('finish');
  watch.emit('close'); // a watch the client hung up on
  assert.deepEqual(Object.fromEntries(c.snapshot()), { 'POST pods': 1, 'POST pods/binding': 1, 'PUT replicasets/status': 1, 'WATCH pods': 1 });

  const registry = new Registry();
  await c.register(registry);
  const text = await registry.metrics();
  assert.match(text, /apiserver_request_total\{verb="PUT",group="apps",version="v1",resource="replicasets",subresource="status",scope="resource",component="apiserver",code="409"\} 1/);
  assert.match(text, /apiserver_request_total\{verb="WATCH",group="",version="v1",resource="pods",subresource="",scope="cluster",component="apiserver",code="200"\} 1/);
  // Counts keep going up between scrapes.
  const again = response(201);
  c.track(parseRequestInfo('POST', '/api/v1/namespaces/default/pods', q), again);
  again.emit('finish');
  assert.match(await registry.metrics(), /verb="POST",group="",version="v1",resource="pods",subresource="",scope="namespace",component="apiserver",code="201"\} 2/);
});
