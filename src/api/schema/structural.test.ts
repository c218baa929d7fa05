import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkStructure, pruneUnknown, strictDecodingError, typeErrorsToApiError, unknownFieldMessages } from './structural.js';
import { sampleBuiltinDefs, sampleCustomDef } from './testing.js';

const defs = sampleBuiltinDefs();
const def = (group: string, kind: string) => defs.find((d) => d.group === group && d.kind === kind)!;
const POD = def('', 'Pod');
const DEPLOY = def('apps', 'Deployment');

const pod = () => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'default', labels: { app: 'x' }, annotations: { a: 'b' }, finalizers: ['x/y'] },
  spec: {
    containers: [
      {
        name: 'c',
        image: 'busybox',
        command: ['sh', '-c', 'sleep 1'],
        env: [{ name: 'A', value: '1' }, { name: 'B', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
        ports: [{ containerPort: 80, protocol: 'TCP' }],
        resources: { limits: { cpu: 1, memory: '128Mi' }, requests: { cpu: '100m' } },
        livenessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 5 },
        readinessProbe: { tcpSocket: { port: 80 } },
        volumeMounts: [{ name: 'v', mountPath: '/data' }],
      },
    ],
    volumes: [{ name: 'v', emptyDir: { sizeLimit: '1Gi' } }],
    restartPolicy: 'Always',
    nodeSelector: { disk: 'ssd' },
  },
  status: { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: '2024-01-01T00:00:00Z' }] },
});

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
  },
});

test('valid Pods, Deployments and Services pass', () => {
  assert.deepEqual(checkStructure(POD, pod()), { unknownFields: [], errors: [] });
  assert.deepEqual(checkStructure(DEPLOY, deployment()), { unknownFields: [], errors: [] });
  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 's' },
    spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, name: 'http' }, { port: 443, targetPort: 'https' }], type: 'NodePort' },
  };
  assert.deepEqual(checkStructure(def('', 'Service'), svc), { unknownFields: [], errors: [] });
  const rev = { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'r' }, revision: 1, data: { anything: [1, { goes: true }] } };
  assert.deepEqual(checkStructure(def('apps', 'ControllerRevision'), rev), { unknownFields: [], errors: [] }, 'RawExtension is free-form');
  const nulls = { ...deployment(), status: null, spec: { ...deployment().spec, replicas: null } };
  assert.deepEqual(checkStructure(DEPLOY, nulls), { unknownFields: [], errors: [] }, 'null is accepted anywhere');
});

test('unknown fields are reported with strict-decoder paths', () => {
  const d = deployment() as Record<string, any>;
  d.spec.replicass = 2;
  d.spec.template.spec.containers[0].imagePullPolicyy = 'Always';
  d.metadata.labelz = {};
  d.extra = 1;
  const r = checkStructure(DEPLOY, d);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.unknownFields.sort(), ['extra', 'metadata.labelz', 'spec.replicass', 'spec.template.spec.containers[0].imagePullPolicyy']);
  const e = strictDecodingError(['spec.replicass', 'spec.foo']);
  assert.equal(e.code, 400);
  assert.equal(e.reason, 'BadRequest');
  assert.equal(e.message, 'strict decoding error: unknown field "spec.replicass", unknown field "spec.foo"');
  assert.deepEqual(unknownFieldMessages(['spec.foo']), ['unknown field "spec.foo"']);
});

test('type errors carry structural and decoder wording', () => {
  const d = deployment() as Record<string, any>;
  d.spec.replicas = '3';
  d.spec.template.spec.containers[0].ports = [{ containerPort: 80.5 }];
  d.spec.template.spec.containers[0].stdin = 'yes';
  d.spec.template.spec.containers = d.spec.template.spec.containers.concat([{ name: 'd', args: 'not-a-list' }]);
  d.spec.strategy.rollingUpdate.maxSurge = true;
  const r = checkStructure(DEPLOY, d);
  const byField = Object.fromEntries(r.errors.map((e) => [e.field, e]));
  assert.deepEqual(Object.keys(byField).sort(), [
    'spec.replicas',
    'spec.strategy.rollingUpdate.maxSurge',
    'spec.template.spec.containers[0].ports[0].containerPort',
    'spec.template.spec.containers[0].stdin',
    'spec.template.spec.containers[1].args',
  ]);
  const rep = byField['spec.replicas']!;
  assert.equal(rep.type, 'FieldValueTypeInvalid');
  assert.equal(rep.message, 'Invalid value: "string": spec.replicas in body must be of type integer: "string"');
  assert.equal(rep.decodeMessage, 'json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32');
  assert.equal(
    byField['spec.template.spec.containers[0].ports[0].containerPort']!.decodeMessage,
    'json: cannot unmarshal number 80.5 into Go struct field ContainerPort.spec.template.spec.containers.ports.containerPort of type int32',
  );
  assert.match(byField['spec.template.spec.containers[1].args']!.decodeMessage, /cannot unmarshal string into .* of type \[\]string/);
  const err = typeErrorsToApiError(DEPLOY, 'web', [rep]);
  assert.equal(err.code, 400);
  assert.equal(err.message, 'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32');
  const big = deployment() as Record<string, any>;
  big.spec.replicas = 2 ** 31;
  assert.equal(checkStructure(DEPLOY, big).errors.length, 1, 'int32 overflow');
  big.spec.replicas = [3];
  assert.match(checkStructure(DEPLOY, big).errors[0]!.decodeMessage, /cannot unmarshal array into/);
});

test('IntOrString, Quantity, maps and base64 bytes', () => {
  const p = pod() as Record<string, any>;
  p.spec.containers[0].resources.limits.cpu = 'lots';
  p.spec.containers[0].resources.requests.memory = false;
  p.spec.containers[0].livenessProbe.httpGet.port = 1.5;
  p.spec.nodeSelector.disk = 1;
  const r = checkStructure(POD, p);
  const fields = r.errors.map((e) => e.field).sort();
  assert.deepEqual(fields, [
    'spec.containers[0].livenessProbe.httpGet.port',
    'spec.containers[0].resources.limits.cpu',
    'spec.containers[0].resources.requests.memory',
    'spec.nodeSelector.disk',
  ]);
  const cpu = r.errors.find((e) => e.field.endsWith('limits.cpu'))!;
  assert.match(cpu.decodeMessage, /^quantities must match the regular expression/);
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { ok: 'aGVsbG8=', bad: 'not base64!' }, stringData: { x: 'plain' } };
  const sr = checkStructure(def('', 'Secret'), secret);
  assert.deepEqual(sr.errors.map((e) => e.field), ['data.bad']);
  assert.match(sr.errors[0]!.decodeMessage, /^illegal base64 data at input byte \d+$/);
});

test('pruneUnknown drops unknown fields in place', () => {
  const d = deployment() as Record<string, any>;
  d.spec.foo = 1;
  d.spec.template.spec.containers[0].bar = { x: 1 };
  const removed = pruneUnknown(DEPLOY, d);
  assert.deepEqual(removed.sort(), ['spec.foo', 'spec.template.spec.containers[0].bar']);
  assert.deepEqual(d, deployment());
});

test('custom resources: structural schema, preserve-unknown-fields, int-or-string', () => {
  const cr = sampleCustomDef();
  const ok = {
    apiVersion: 'stable.example.com/v1',
    kind: 'CronTab',
    metadata: { name: 'c', labels: { a: 'b' } },
    spec: { cronSpec: '* * * * *', replicas: 2, port: 'http', env: [{ name: 'A', value: 'b' }], labels: { x: 'y' }, config: { any: { thing: [1] } }, ratio: null },
    status: { ready: true },
  };
  assert.deepEqual(checkStructure(cr, ok), { unknownFields: [], errors: [] });
  const bad = structuredClone(ok) as Record<string, any>;
  bad.spec.replicas = '2';
  bad.spec.port = true;
  bad.spec.labels.n = 1;
  bad.spec.bogus = 1;
  bad.spec.env[0].extra = 1;
  bad.metadata.nope = 1;
  const r = checkStructure(cr, bad);
  assert.deepEqual(r.unknownFields.sort(), ['metadata.nope', 'spec.bogus', 'spec.env[0].extra']);
  assert.deepEqual(r.errors.map((e) => e.field).sort(), ['spec.labels.n', 'spec.port', 'spec.replicas']);
  const err = typeErrorsToApiError(cr, 'c', r.errors.filter((e) => e.field === 'spec.replicas'));
  assert.equal(err.code, 422);
  assert.equal(err.message, 'CronTab.stable.example.com "c" is invalid: spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"');
  const loose = { ...cr, schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } };
  assert.deepEqual(checkStructure(loose, { apiVersion: 'x/v1', kind: 'K', metadata: { name: 'n' }, anything: { goes: 1 } }).unknownFields, []);
});

test('fast: 10k small objects well under a second', () => {
  const p = pod();
  const d = deployment();
  checkStructure(POD, p);
  const t0 = performance.now();
  for (let i = 0; i < 5000; i++) {
    checkStructure(POD, p);
    checkStructure(DEPLOY, d);
  }
  const ms = performance.now() - t0;
  assert.ok(ms < 1000, `10k checks took ${ms.toFixed(0)} ms`);
});
