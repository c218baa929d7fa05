import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { ApiError } from '../../apimachinery/errors.js';
import { decodeProtobufObject, encodeProtobufObject, isProtobufContentType, PROTOBUF_MAGIC } from './decode.js';
import { protoSchema } from './schema.js';
import { encodeMessage } from './wire.js';

type Obj = Record<string, unknown>;

/** Bodies kubectl sent (captured through a logging proxy in front of k8ts). */
const CAPTURED = {
  // kubectl 1.32: create deployment dc --image=busybox --replicas=3 --port=8080
  deployment:
    '6b3873000a150a07617070732f7631120a4465706c6f796d656e7412b9010a1d0a02646312001a0022002a003200380042005a090a03617070120264631289010803120b0a090a03617070120264631a700a1b0a0012001a0022002a003200380042005a090a0361707012026463125112330a0762757379626f78120762757379626f782a00320b0a00100018903f22002a0042006a007200800100880100900100a201001a00320042004a0052005800600068008201008a01009a0100c2010022020a00280038001a0c0800100018002000280038001a002200',
  // kubectl 1.32: create secret generic sc --from-literal=pw=hunter2
  secret: '6b3873000a0c0a027631120653656372657412250a120a02736312001a0022002a00320038004200120d0a027077120768756e746572321a001a002200',
  // kubectl 1.32: create service clusterip svcc --tcp=80:8080
  service:
    '6b3873000a0d0a027631120753657276696365126c0a210a047376636312001a0022002a003200380042005a0b0a0361707012047376636312430a1b0a0738302d38303830120354435018502207080010903f1a002800120b0a036170701204737663631a002209436c757374657249503a00420052005a00600068001a020a001a002200',
  // kubectl 1.33: create poddisruptionbudget x --selector=a=b --max-unavailable=0
  pdb: '6b3873000a200a09706f6c6963792f76311213506f6444697372757074696f6e42756467657412330a110a017812001a0022002a00320038004200121212080a060a01611201621a06080010001a001a0a080018002000280030001a002200',
};

const decodeHex = (hex: string): Obj => decodeProtobufObject(Buffer.from(hex, 'hex'));
const roundTrip = (obj: Obj): Obj => decodeProtobufObject(encodeProtobufObject(obj));

test('isProtobufContentType', () => {
  assert.equal(isProtobufContentType('application/vnd.kubernetes.protobuf'), true);
  assert.equal(isProtobufContentType('Application/Vnd.Kubernetes.Protobuf; charset=x'), true);
  assert.equal(isProtobufContentType('application/json'), false);
  assert.equal(isProtobufContentType(undefined), false);
});

test('kubectl bodies decode to the JSON kubectl would have sent (gogo zero fields dropped)', () => {
  assert.deepEqual(decodeHex(CAPTURED.deployment), {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'dc', labels: { app: 'dc' } },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'dc' } },
      template: {
        metadata: { labels: { app: 'dc' } },
        spec: { containers: [{ name: 'busybox', image: 'busybox', ports: [{ containerPort: 8080 }], resources: {} }] },
      },
      strategy: {},
    },
    status: {},
  });
  assert.deepEqual(decodeHex(CAPTURED.secret), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sc' }, data: { pw: Buffer.from('hunter2').toString('base64') } });
  const svc = decodeHex(CAPTURED.service) as { spec: { ports: unknown[]; type: string } };
  assert.deepEqual(svc.spec.ports, [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }]);
  assert.equal(svc.spec.type, 'ClusterIP');
  // Pointer fields keep explicit zeros; value fields without omitempty are always present.
  assert.deepEqual(decodeHex(CAPTURED.pdb), {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'x' },
    spec: { selector: { matchLabels: { a: 'b' } }, maxUnavailable: 0 },
    status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
  });
});

test('zero values: dropped for omitempty value fields, kept for pointers and non-omitempty fields', () => {
  const s = protoSchema();
  const raw = encodeMessage(s.types.get('k8s.io.api.apps.v1.Deployment')!, {
    metadata: { name: 'x', namespace: '', generation: 0, creationTimestamp: {} },
    spec: { replicas: 0, minReadySeconds: 0, paused: false, revisionHistoryLimit: 0, strategy: { type: '' } },
  });
  const env = encodeMessage(s.types.get('k8s.io.apimachinery.pkg.runtime.Unknown')!, { typeMeta: { apiVersion: 'apps/v1', kind: 'Deployment' }, raw });
  const obj = decodeProtobufObject(Buffer.concat([PROTOBUF_MAGIC, env]));
  assert.deepEqual(obj, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: 0, revisionHistoryLimit: 0, strategy: {} } });
  const pc = roundTrip({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'p' }, value: 0, globalDefault: false });
  assert.deepEqual(pc, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'p' }, value: 0 });
});

const ROUND_TRIPS: Obj[] = [
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' }, annotations: { a: 'b' }, generation: 3, uid: 'u-1', resourceVersion: '12' },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      progressDeadlineSeconds: 600,
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u', controller: true, blockOwnerDeletion: false }] },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'busybox',
          command: ['sh', '-c'],
          args: ['sleep 1'],
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
          env: [
            { name: 'A', value: '1' },
            { name: 'B', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'C', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k', optional: false } } },
          ],
          resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
          readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 5 },
          livenessProbe: { tcpSocket: { port: 8080 }, initialDelaySeconds: 5 },
          volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg', readOnly: true }],
          securityContext: { runAsUser: 0, runAsNonRoot: false, capabilities: { drop: ['ALL'] } },
        },
      ],
      volumes: [
        { name: 'cfg', configMap: { name: 'cm', defaultMode: 420, items: [{ key: 'k', path: 'p' }] } },
        { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
        { name: 's', secret: { secretName: 'sec', optional: true } },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 0,
      nodeSelector: { disk: 'ssd' },
      tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 30 }],
      securityContext: { fsGroup: 2000, supplementalGroups: [1, 2] },
    },
    status: { phase: 'Running', podIP: '10.0.0.1', startTime: '2024-01-01T00:00:00Z', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2024-05-06T07:08:09Z' }] },
  },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { k: 'v', empty: '' }, binaryData: { bin: Buffer.from([0, 1, 0xfe, 0xff]).toString('base64') }, immutable: true },
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, type: 'Opaque', data: { pw: Buffer.from('hunter2').toString('base64'), none: '' }, immutable: false },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team', labels: { 'kubernetes.io/metadata.name': 'team' }, finalizers: ['x/y'] }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'svc' },
    spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', nodePort: 30080 }, { name: 'alt', port: 81, targetPort: 8081, protocol: 'UDP' }], clusterIPs: ['10.0.0.10'], ipFamilies: ['IPv4'] },
  },
  {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'j' },
    spec: { backoffLimit: 0, completions: 2, parallelism: 1, suspend: false, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'j', image: 'busybox', command: ['echo', 'hi'] }] } } },
    status: { startTime: '2024-02-29T12:00:00Z', succeeded: 1 },
  },
  { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'pc' }, value: 100, globalDefault: true, description: 'x', preemptionPolicy: 'Never' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r', namespace: 'ns' }, rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'], resourceNames: ['x'] }] },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'rb' }, subjects: [{ kind: 'User', name: 'u', apiGroup: 'rbac.authorization.k8s.io' }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' } },
  { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' }, spec: { holderIdentity: 'me', leaseDurationSeconds: 15, renewTime: '2024-01-02T03:04:05.123456Z', acquireTime: '2024-01-02T03:04:05.000000Z', leaseTransitions: 0 } },
  { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'e' }, eventTime: '2023-12-31T23:59:59.999999Z', reason: 'R', regarding: { kind: 'Pod', name: 'p' }, series: { count: 2, lastObservedTime: '2024-01-01T00:00:00.000001Z' } },
  { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'cr' }, data: { spec: { template: { x: [1, 'a', null] } } }, revision: 4 },
  { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: {}, spec: { token: 't' }, status: { authenticated: true, user: { username: 'u', groups: ['g'], extra: { scopes: ['a', 'b'] } } } },
  { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q' }, spec: { hard: { pods: '3', cpu: '2', 'requests.memory': '1Gi' } } },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i' }, spec: { rules: [{ host: 'a.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 's', port: { number: 80 } } } }] } }] } },
  { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv' }, spec: { capacity: { storage: '1Gi' }, hostPath: { path: '/data', type: '' }, accessModes: ['ReadWriteOnce'] } },
  // storageClassName is a pointer in PVCs (an explicit "" means no class), a plain string in PVs.
  { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'c' }, spec: { storageClassName: '', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
  { apiVersion: 'policy/v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, propagationPolicy: 'Foreground', preconditions: { uid: 'u' } },
];

test('encode/decode round trips across kinds', () => {
  for (const obj of ROUND_TRIPS) assert.deepEqual(roundTrip(obj), obj, `${obj['kind'] as string}`);
});

test('managedFields FieldsV1 and times', () => {
  const obj = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'c',
      creationTimestamp: '2024-01-01T00:00:00Z',
      deletionTimestamp: '2099-12-31T23:59:59Z',
      deletionGracePeriodSeconds: 30,
      managedFields: [{ manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', time: '2024-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:k': {} } } }],
    },
  };
  assert.deepEqual(roundTrip(obj), obj);
  // Time keeps whole seconds (as meta/v1 Time does); offsets become UTC.
  const t = roundTrip({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', creationTimestamp: '2024-01-01T02:00:00.75+02:00' } });
  assert.deepEqual(t['metadata'], { name: 'c', creationTimestamp: '2024-01-01T00:00:00Z' });
});

test('errors are 400 BadRequest', () => {
  const bad = (body: Buffer, re: RegExp): void => {
    assert.throws(() => decodeProtobufObject(body), (e: unknown) => e instanceof ApiError && e.code === 400 && e.reason === 'BadRequest' && re.test(e.message));
  };
  bad(Buffer.from('{"kind":"Pod"}'), /does not appear to be a protobuf message/);
  bad(Buffer.alloc(0), /does not appear to be a protobuf message/);
  const good = Buffer.from(CAPTURED.secret, 'hex');
  bad(good.subarray(0, good.length - 20), /unable to decode protobuf body/);
  bad(Buffer.concat([PROTOBUF_MAGIC, Buffer.from([0x0f, 0xff])]), /unable to decode protobuf body/);
  const s = protoSchema();
  const env = (typeMeta: Obj, extra: Obj = {}): Buffer =>
    Buffer.concat([PROTOBUF_MAGIC, encodeMessage(s.types.get('k8s.io.apimachinery.pkg.runtime.Unknown')!, { typeMeta, raw: Buffer.alloc(0), ...extra })]);
  bad(env({ apiVersion: 'apps/v1', kind: 'Widget' }), /no kind "Widget" is registered for version "apps\/v1"/);
  bad(env({ apiVersion: 'apps/v1', kind: 'DeploymentSpec' }), /no kind "DeploymentSpec"/);
  bad(env({ apiVersion: 'v1' }), /Kind' is missing/);
  bad(env({ apiVersion: 'v1', kind: 'Pod' }, { contentEncoding: 'gzip' }), /unsupported content encoding/);
  assert.throws(() => encodeProtobufObject({ apiVersion: 'v1', kind: 'Pod', spec: { containers: 'x' } }), (e: unknown) => e instanceof ApiError && e.code === 400);
});

test('an envelope carrying JSON is accepted', () => {
  const s = protoSchema();
  const raw = Buffer.from(JSON.stringify({ metadata: { name: 'j' }, data: { a: 'b' } }));
  const body = Buffer.concat([PROTOBUF_MAGIC, encodeMessage(s.types.get('k8s.io.apimachinery.pkg.runtime.Unknown')!, { typeMeta: { apiVersion: 'v1', kind: 'ConfigMap' }, raw, contentType: 'application/json' })]);
  assert.deepEqual(decodeProtobufObject(body), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'j' }, data: { a: 'b' } });
});

test('the schema is loaded on first use, not on import', () => {
  const url = new URL('./decode.js', import.meta.url).href;
  const schemaUrl = new URL('./schema.js', import.meta.url).href;
  const script = `const d = await import(${JSON.stringify(url)}); const s = await import(${JSON.stringify(schemaUrl)});
const before = s.isProtoSchemaLoaded(); d.decodeProtobufObject(Buffer.from(${JSON.stringify(CAPTURED.secret)}, 'hex'));
process.stdout.write(JSON.stringify([before, s.isProtoSchemaLoaded()]));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(out), [false, true]);
});
