import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import {
  containerConfig, expandVars, hostsFileContent, nodeHostsFileContent, minOomScoreAdj, oomScoreAdj, parseResolvConf, qosClass, sandboxConfig,
  serviceEnv, type EnvSources, type PodRuntimeInfo,
} from './podconfig.js';

const info: PodRuntimeInfo = { podIP: '10.0.0.5', hostIP: '192.168.1.2', nodeName: 'n1', clusterDNS: ['10.96.0.10'] };
const noSources: EnvSources = { configMap: () => undefined, secret: () => undefined };

function pod(containers: Container[], spec: Partial<Pod['spec']> = {}, meta: Pod['metadata'] = {}): Pod {
  return { metadata: { name: 'web', namespace: 'ns1', uid: 'u1', ...meta }, spec: { containers, ...spec } };
}
const res = (requests?: Record<string, string>, limits?: Record<string, string>): Container => ({ name: 'c', image: 'i', resources: { requests, limits } });

test('qosClass matrix', () => {
  assert.equal(qosClass(pod([res()])), 'BestEffort');
  assert.equal(qosClass(pod([res({ 'ephemeral-storage': '1Gi' })])), 'BestEffort'); // only cpu/memory count
  assert.equal(qosClass(pod([res({ cpu: '100m' })])), 'Burstable');
  const g = { cpu: '1', memory: '1Gi' };
  assert.equal(qosClass(pod([res(g, g)])), 'Guaranteed');
  assert.equal(qosClass(pod([res({ cpu: '1000m', memory: '1024Mi' }, g)])), 'Guaranteed'); // equal values, other spelling
  assert.equal(qosClass(pod([res({ cpu: '500m', memory: '1Gi' }, g)])), 'Burstable');
  assert.equal(qosClass(pod([res(g, { cpu: '1' })])), 'Burstable'); // memory limit missing
  assert.equal(qosClass(pod([res(g, g), res()])), 'Burstable'); // second container has no limits
  assert.equal(qosClass(pod([res(g, g)], { initContainers: [res({ cpu: '1' })] })), 'Burstable'); // init counted
  assert.equal(qosClass(pod([res(undefined, g)])), 'Burstable'); // no (defaulted) requests: upstream literal rule
  assert.equal(qosClass({ ...pod([res()]), status: { qosClass: 'Guaranteed' } }), 'Guaranteed');
});

test('expandVars: upstream $(VAR) semantics', () => {
  const env = { A: 'a', B: '$(A)', EMPTY: '' };
  assert.equal(expandVars('x$(A)y', env), 'xay');
  assert.equal(expandVars('$$(A)', env), '$(A)'); // escaped
  assert.equal(expandVars('$$$(A)', env), '$a');
  assert.equal(expandVars('$(UNKNOWN) $(A)', env), '$(UNKNOWN) a');
  assert.equal(expandVars('$(B)', env), '$(A)'); // values are not re-expanded
  assert.equal(expandVars('$(A$(A))', env), '$(A$(A))'); // name "A$(A" unknown, then ")"
  assert.equal(expandVars('$(A', env), '$(A'); // unterminated
  assert.equal(expandVars('$a $ end$', env), '$a $ end$');
  assert.equal(expandVars('$(EMPTY)|$()', env), '|$()');
});

test('env: envFrom then env, prefix, override, expansion against earlier values', () => {
  const sources: EnvSources = {
    configMap: (ns, name) => (ns === 'ns1' && name === 'cm' ? { HOST: 'db', PORT: '5432' } : undefined),
    secret: (_ns, name) => (name === 's' ? { PASSWORD: 'pw' } : undefined),
  };
  const c: Container = {
    name: 'app', image: 'img', command: ['run', '$(URL)'], args: ['--x=$(NOPE)', '$$(URL)'],
    envFrom: [{ configMapRef: { name: 'cm' } }, { secretRef: { name: 's' }, prefix: 'S_' }, { configMapRef: { name: 'gone', optional: true } }],
    env: [
      { name: 'PORT', value: '6543' },
      { name: 'URL', value: 'pg://$(HOST):$(PORT)/$(LATER)' },
      { name: 'LATER', value: 'late' },
      { name: 'PW', valueFrom: { secretKeyRef: { name: 's', key: 'PASSWORD' } } },
      { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'cm', key: 'missing', optional: true } } },
    ],
  };
  const cfg = containerConfig(pod([c], { enableServiceLinks: false }), c, info, sources, { restartCount: 0 });
  assert.deepEqual(cfg.envs, [
    { key: 'HOST', value: 'db' }, { key: 'PORT', value: '6543' }, { key: 'S_PASSWORD', value: 'pw' },
    { key: 'URL', value: 'pg://db:6543/$(LATER)' }, { key: 'LATER', value: 'late' }, { key: 'PW', value: 'pw' },
  ]);
  assert.deepEqual(cfg.command, ['run', 'pg://db:6543/$(LATER)']);
  assert.deepEqual(cfg.args, ['--x=$(NOPE)', '$(URL)']);
});

test('env: missing objects and keys fail with the kubelet messages unless optional', () => {
  const sources: EnvSources = { configMap: () => ({ a: '1' }), secret: () => undefined };
  const mk = (env: Container['env'], envFrom?: Container['envFrom']) => {
    const c: Container = { name: 'c', image: 'i', env, envFrom };
    return () => containerConfig(pod([c]), c, info, sources, { restartCount: 0 });
  };
  assert.throws(mk([{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm', key: 'b' } } }]), { message: "couldn't find key b in ConfigMap ns1/cm" });
  assert.throws(mk([{ name: 'X', valueFrom: { secretKeyRef: { name: 'sec', key: 'b' } } }]), { message: 'secrets "sec" not found' });
  assert.throws(mk([], [{ secretRef: { name: 'sec' } }]), { message: 'secrets "sec" not found' });
  assert.doesNotThrow(mk([{ name: 'X', valueFrom: { secretKeyRef: { name: 'sec', key: 'b', optional: true } } }], [{ secretRef: { name: 'sec', optional: true } }]));
  const empty: EnvSources = { configMap: () => undefined, secret: () => ({}) };
  const c: Container = { name: 'c', image: 'i', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] };
  assert.throws(() => containerConfig(pod([c]), c, info, empty, { restartCount: 0 }), { message: "couldn't find key k in Secret ns1/s" });
});

test('env: fieldRef and resourceFieldRef values', () => {
  const c: Container = {
    name: 'c', image: 'i', resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '1500m' } },
    env: [
      ['NAME', 'metadata.name'], ['NS', 'metadata.namespace'], ['UID', 'metadata.uid'], ['APP', "metadata.labels['app']"],
      ['ANN', "metadata.annotations['a.b/c']"], ['LABELS', 'metadata.labels'], ['NODE', 'spec.nodeName'],
      ['SA', 'spec.serviceAccountName'], ['PIP', 'status.podIP'], ['PIPS', 'status.podIPs'], ['HIP', 'status.hostIP'],
    ].map(([name, fieldPath]) => ({ name, valueFrom: { fieldRef: { fieldPath } } })).concat([
      { name: 'LCPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } as never },
      { name: 'RCPU', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } as never },
      { name: 'RMEM', valueFrom: { resourceFieldRef: { resource: 'requests.memory', divisor: '1Mi' } } as never },
      { name: 'LMEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Gi' } } as never },
    ]),
  };
  const p = pod([c], { nodeName: 'n1', serviceAccountName: 'sa', enableServiceLinks: false }, { labels: { app: 'x', b: 'q"' }, annotations: { 'a.b/c': 'v' } });
  const env = Object.fromEntries(containerConfig(p, c, { ...info, podIPs: ['10.0.0.5', 'fd00::5'], nodeMemoryBytes: 4 * 1024 ** 3 }, noSources, { restartCount: 0 }).envs!.map((e) => [e.key, e.value]));
  assert.deepEqual(env, {
    NAME: 'web', NS: 'ns1', UID: 'u1', APP: 'x', ANN: 'v', LABELS: 'app="x"\nb="q\\""', NODE: 'n1', SA: 'sa', PIP: '10.0.0.5',
    PIPS: '10.0.0.5,fd00::5', HIP: '192.168.1.2', LCPU: '2', RCPU: '250', RMEM: '64', LMEM: '4',
  });
});

test('service env vars: docker-link style, enableServiceLinks, kubernetes master service', () => {
  const services: EnvSources['services'] = [
    { name: 'my-db', clusterIP: '10.96.1.1', ports: [{ name: 'sql', port: 5432 }, { name: 'dns', port: 53, protocol: 'UDP' }] },
    { name: 'headless', clusterIP: 'None', ports: [{ port: 80 }] },
    { name: 'other', namespace: 'elsewhere', clusterIP: '10.96.1.9', ports: [{ port: 80 }] },
    { name: 'kubernetes', namespace: 'default', clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443 }] },
  ];
  const env = serviceEnv(pod([]), services);
  assert.equal(env.MY_DB_SERVICE_HOST, '10.96.1.1');
  assert.equal(env.MY_DB_SERVICE_PORT, '5432');
  assert.equal(env.MY_DB_SERVICE_PORT_SQL, '5432');
  assert.equal(env.MY_DB_SERVICE_PORT_DNS, '53');
  assert.equal(env.MY_DB_PORT, 'tcp://10.96.1.1:5432');
  assert.equal(env.MY_DB_PORT_53_UDP, 'udp://10.96.1.1:53');
  assert.equal(env.MY_DB_PORT_53_UDP_PROTO, 'udp');
  assert.equal(env.MY_DB_PORT_53_UDP_PORT, '53');
  assert.equal(env.MY_DB_PORT_53_UDP_ADDR, '10.96.1.1');
  assert.equal(env.KUBERNETES_SERVICE_HOST, '10.96.0.1');
  assert.ok(!Object.keys(env).some((k) => k.startsWith('HEADLESS') || k.startsWith('OTHER')));
  const off = serviceEnv(pod([], { enableServiceLinks: false }), services);
  assert.deepEqual(Object.keys(off).filter((k) => !k.startsWith('KUBERNETES_')), []);
  assert.equal(off.KUBERNETES_PORT_443_TCP, 'tcp://10.96.0.1:443');
  assert.equal(serviceEnv(pod([]), [{ name: 'v6', clusterIP: 'fd00::1', ports: [{ port: 80 }] }]).V6_PORT, 'tcp://[fd00::1]:80');
  // explicit env wins over service vars; service vars are usable in $(VAR) expansion
  const c: Container = { name: 'c', image: 'i', env: [{ name: 'MY_DB_SERVICE_HOST', value: 'mine' }, { name: 'U', value: '$(MY_DB_PORT)' }] };
  const envs = containerConfig(pod([c]), c, info, { ...noSources, services }, { restartCount: 0 }).envs!;
  assert.deepEqual(envs.slice(0, 2), [{ key: 'MY_DB_SERVICE_HOST', value: 'mine' }, { key: 'U', value: 'tcp://10.96.1.1:5432' }]);
  assert.equal(envs.filter((e) => e.key === 'MY_DB_SERVICE_HOST').length, 1);
});

test('sandbox: metadata, hostname, log dir, labels, namespaces, sysctls, cgroup parent', () => {
  const long = 'a'.repeat(62) + '-b';
  const p = pod([res({ cpu: '100m' })], { securityContext: { sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] }, shareProcessNamespace: true },
    { name: long, labels: { app: 'x' }, annotations: { k: 'v' } });
  const sb = sandboxConfig(p, { ...info, podLogRoot: '/logs/' }, 2);
  assert.deepEqual(sb.metadata, { name: long, namespace: 'ns1', uid: 'u1', attempt: 2 });
  assert.equal(sb.hostname, 'a'.repeat(62)); // truncated to 63, trailing '-' trimmed
  assert.equal(sb.logDirectory, `/logs/ns1_${long}_u1`);
  assert.deepEqual(sb.labels, { app: 'x', 'io.kubernetes.pod.name': long, 'io.kubernetes.pod.namespace': 'ns1', 'io.kubernetes.pod.uid': 'u1' });
  assert.deepEqual(sb.annotations, { k: 'v' });
  assert.equal(sb.linux?.cgroupParent, '/k8ts/burstable/podu1');
  assert.deepEqual(sb.linux?.namespaceOptions, { network: 'POD', pid: 'POD', ipc: 'POD' });
  assert.deepEqual(sb.linux?.sysctls, { 'net.core.somaxconn': '1024' });
  assert.deepEqual(sb.linux?.resources, { cpuShares: 102 });
  const h = sandboxConfig(pod([res()], { hostNetwork: true, hostPID: true, hostIPC: true, hostname: 'h' }), info);
  assert.deepEqual(h.linux?.namespaceOptions, { network: 'NODE', pid: 'NODE', ipc: 'NODE' });
  assert.equal(h.hostname, undefined); // hostNetwork pods keep the node's hostname
  assert.equal(h.metadata.attempt, 0);
  assert.equal(sandboxConfig(pod([res()]), info).linux?.namespaceOptions?.pid, 'CONTAINER');
  assert.equal(sandboxConfig(pod([res()], { hostname: 'h', subdomain: 's', setHostnameAsFQDN: true }), info).hostname, 'h.s.ns1.svc.cluster.local');
  const g = { cpu: '500m', memory: '256Mi' };
  const gs = sandboxConfig(pod([res(g, g), res(g, g)], { overhead: { cpu: '100m', memory: '1Mi' } }), info);
  assert.equal(gs.linux?.cgroupParent, '/k8ts/podu1');
  assert.deepEqual(gs.linux?.resources, { cpuShares: 1126, cpuQuota: 110000, cpuPeriod: 100000, memoryLimitInBytes: 513 * 1024 ** 2 });
});

test('sandbox: hostPort mappings', () => {
  const p = pod([
    { name: 'a', image: 'i', ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 81 }, { containerPort: 53, hostPort: 53, protocol: 'UDP', hostIP: '127.0.0.1' }] },
    { name: 'b', image: 'i', ports: [{ name: 'x', containerPort: 90, hostPort: 9090 }, { name: 'x', containerPort: 91, hostPort: 9091 }] },
  ]);
  assert.deepEqual(sandboxConfig(p, info).portMappings, [
    { protocol: 'TCP', containerPort: 80, hostPort: 8080 },
    { protocol: 'UDP', containerPort: 53, hostPort: 53, hostIp: '127.0.0.1' },
    { protocol: 'TCP', containerPort: 90, hostPort: 9090 },
  ]);
});

test('dns policies', () => {
  const resolv = '# comment\nnameserver 1.1.1.1\nnameserver 8.8.8.8 ; x\nsearch old.example\nsearch corp.example. .\noptions rotate timeout:2\noptions ndots:2\n';
  assert.deepEqual(parseResolvConf(resolv), { servers: ['1.1.1.1', '8.8.8.8'], searches: ['corp.example'], options: ['rotate', 'timeout:2', 'ndots:2'] });
  const i = { ...info, hostResolvConf: resolv };
  const cluster = ['ns1.svc.cluster.local', 'svc.cluster.local', 'cluster.local'];
  assert.deepEqual(sandboxConfig(pod([]), i).dnsConfig, { servers: ['10.96.0.10'], searches: [...cluster, 'corp.example'], options: ['ndots:5'] });
  assert.deepEqual(sandboxConfig(pod([], { dnsPolicy: 'Default' }), i).dnsConfig, parseResolvConf(resolv));
  assert.deepEqual(sandboxConfig(pod([], { hostNetwork: true }), i).dnsConfig, parseResolvConf(resolv)); // ClusterFirst falls back
  assert.equal(sandboxConfig(pod([], { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), i).dnsConfig?.servers?.[0], '10.96.0.10');
  assert.deepEqual(sandboxConfig(pod([], { dnsPolicy: 'Default' }), info).dnsConfig, { servers: ['127.0.0.1'], searches: ['.'], options: [] });
  assert.deepEqual(sandboxConfig(pod([]), { ...i, clusterDNS: [] }).dnsConfig, parseResolvConf(resolv)); // no cluster DNS
  const none = pod([], { dnsPolicy: 'None', dnsConfig: { nameservers: ['9.9.9.9'], searches: ['a.b'], options: [{ name: 'ndots', value: '1' }, { name: 'edns0' }] } });
  assert.deepEqual(sandboxConfig(none, i).dnsConfig, { servers: ['9.9.9.9'], searches: ['a.b'], options: ['ndots:1', 'edns0'] });
  const merged = pod([], { dnsConfig: { nameservers: ['10.96.0.10', '1.2.3.4', '5.6.7.8', '9.9.9.9'], searches: ['cluster.local', 'x.y'], options: [{ name: 'ndots', value: '2' }, { name: 'rotate' }] } });
  assert.deepEqual(sandboxConfig(merged, i).dnsConfig, {
    servers: ['10.96.0.10', '1.2.3.4', '5.6.7.8'], searches: [...cluster, 'corp.example', 'x.y'], options: ['ndots:2', 'rotate'],
  });
  assert.deepEqual(sandboxConfig(pod([]), { ...info, clusterDomain: 'k8s.test' }).dnsConfig?.searches, ['ns1.svc.k8s.test', 'svc.k8s.test', 'k8s.test']);
});

test('resources: shares, quota, memory, oom_score_adj per QoS', () => {
  const run = (c: Container, extra: Container[] = [], mem?: number) =>
    containerConfig(pod([c, ...extra]), c, { ...info, nodeMemoryBytes: mem, minOomScoreAdj: -1000 }, noSources, { restartCount: 0 }).linux!.resources;
  assert.deepEqual(run(res()), { cpuShares: 2, cpuQuota: 0, cpuPeriod: 100000, oomScoreAdj: 1000 });
  const g = { cpu: '250m', memory: '128Mi' };
  assert.deepEqual(run(res(g, g)), { cpuShares: 256, cpuQuota: 25000, cpuPeriod: 100000, memoryLimitInBytes: 128 * 1024 ** 2, oomScoreAdj: -997 });
  assert.deepEqual(run(res(undefined, { cpu: '2' })), { cpuShares: 2048, cpuQuota: 200000, cpuPeriod: 100000, oomScoreAdj: 999 }); // request defaults to limit
  assert.equal(run(res({ memory: '2Gi' }), [], 8 * 1024 ** 3)!.oomScoreAdj, 750);
  assert.equal(run(res({ memory: '2Gi' }))!.oomScoreAdj, 750); // default node memory 8 GiB
  assert.equal(run(res({ memory: '8Gi' }), [], 8 * 1024 ** 3)!.oomScoreAdj, 3); // floor above Guaranteed
  assert.equal(run(res({ cpu: '1m' }))!.cpuShares, 2);
  const crit = pod([res()], { priorityClassName: 'system-node-critical' });
  assert.equal(oomScoreAdj(crit, crit.spec!.containers[0], 1), -997);
  // a process that may not lower scores below its own (no CAP_SYS_RESOURCE) gives its own instead
  const floored = containerConfig(pod([res(g, g)]), res(g, g), { ...info, minOomScoreAdj: 0 }, noSources, { restartCount: 0 }).linux!.resources;
  assert.equal(floored!.oomScoreAdj, 0);
  assert.ok(minOomScoreAdj() >= -1000 && minOomScoreAdj() <= 1000);
});

test('securityContext: pod defaults, container overrides, groups, caps, seccomp', () => {
  const p = pod([], {
    securityContext: { runAsUser: 1000, runAsGroup: 2000, fsGroup: 3000, supplementalGroups: [4000, 5000], seccompProfile: { type: 'RuntimeDefault' } },
  });
  const c: Container = {
    name: 'c', image: 'i',
    securityContext: {
      runAsUser: 1001, privileged: false, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false,
      capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] }, seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' },
    },
  };
  assert.deepEqual(containerConfig(p, c, info, noSources, { restartCount: 0 }).linux!.securityContext, {
    runAsUser: 1001, runAsGroup: 2000, supplementalGroups: [3000, 4000, 5000], privileged: false, readonlyRootfs: true,
    capabilities: { addCapabilities: ['NET_ADMIN'], dropCapabilities: ['ALL'] }, noNewPrivs: true,
    seccomp: { profileType: 'Localhost', localhostRef: '/var/lib/kubelet/seccomp/p.json' },
  });
  const plain: Container = { name: 'c', image: 'i' };
  const sc = (pp: Pod, cc: Container, i: PodRuntimeInfo = info, imageUid?: number) =>
    containerConfig(pp, cc, i, noSources, { restartCount: 0, imageUid }).linux!.securityContext!;
  assert.deepEqual(sc(p, plain).seccomp, { profileType: 'RuntimeDefault' }); // from the pod
  assert.deepEqual(sc(pod([]), plain), { seccomp: { profileType: 'Unconfined' } });
  assert.deepEqual(sc(pod([]), plain, { ...info, seccompDefault: true }).seccomp, { profileType: 'RuntimeDefault' });
  assert.equal(sc(pod([]), plain, info, 33).runAsUser, 33);
  assert.deepEqual(sc(pod([]), { ...plain, securityContext: { procMount: 'Unmasked', allowPrivilegeEscalation: true } }), {
    seccomp: { profileType: 'Unconfined' }, maskedPaths: [], readonlyPaths: [],
  });
  const nonRoot = pod([], { securityContext: { runAsNonRoot: true } });
  assert.throws(() => sc(nonRoot, { ...plain, securityContext: { runAsUser: 0 } }), /container's runAsUser breaks non-root policy \(pod: "web_ns1\(u1\)", container: c\)/);
  assert.throws(() => sc(nonRoot, plain, info, 0), /container has runAsNonRoot and image will run as root/);
  assert.throws(() => sc(pod([]), { ...plain, securityContext: { seccompProfile: { type: 'Localhost' } } }), /localhostProfile must be set/);
});

test('containerConfig: metadata, logPath, mounts, stdio, labels', () => {
  const c: Container = { name: 'app', image: 'nginx:1', workingDir: '/w', stdin: true, tty: true, terminationMessagePath: '/tmp/msg' };
  const vol = { containerPath: '/data', hostPath: '/var/lib/k/data' };
  const cfg = containerConfig(pod([c], { terminationGracePeriodSeconds: 5 }), c, info, noSources, {
    restartCount: 3, volumeMounts: [vol], hostsFile: '/pods/u1/etc-hosts', terminationMessageDir: '/pods/u1/containers/',
  });
  assert.deepEqual(cfg.metadata, { name: 'app', attempt: 3 });
  assert.deepEqual(cfg.image, { image: 'nginx:1' });
  assert.equal(cfg.logPath, 'app/3.log');
  assert.equal(cfg.workingDir, '/w');
  assert.deepEqual([cfg.stdin, cfg.stdinOnce, cfg.tty], [true, false, true]);
  assert.deepEqual(cfg.mounts, [vol, { containerPath: '/etc/hosts', hostPath: '/pods/u1/etc-hosts' }, { containerPath: '/tmp/msg', hostPath: '/pods/u1/containers/app-3' }]);
  assert.equal(cfg.labels?.['io.kubernetes.pod.uid'], 'u1');
  assert.equal(cfg.annotations?.['io.kubernetes.pod.terminationGracePeriod'], '5');
  assert.equal(cfg.command, undefined);
  // a volume already mounted at /etc/hosts wins; default termination path
  const c2: Container = { name: 'b', image: 'i' };
  const own = { containerPath: '/etc/hosts', hostPath: '/x' };
  const cfg2 = containerConfig(pod([c2]), c2, info, noSources, { restartCount: 0, volumeMounts: [own], hostsFile: '/h', terminationMessageDir: '/t' });
  assert.deepEqual(cfg2.mounts, [own, { containerPath: '/dev/termination-log', hostPath: '/t/b-0' }]);
});

test('hosts file', () => {
  const head = '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' +
    'fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n';
  assert.equal(hostsFileContent(pod([]), ['10.0.0.5']), head + '10.0.0.5\tweb\n');
  const p = pod([], { hostname: 'h', subdomain: 'sub', hostAliases: [{ ip: '1.2.3.4', hostnames: ['foo', 'bar'] }] });
  assert.equal(hostsFileContent(p, ['10.0.0.5', 'fd00::5']), head +
    '10.0.0.5\th.sub.ns1.svc.cluster.local\th\nfd00::5\th.sub.ns1.svc.cluster.local\th\n\n# Entries added by HostAliases.\n1.2.3.4\tfoo\tbar\n');
  assert.equal(nodeHostsFileContent(p, '127.0.0.1 localhost\n'),
    '# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n\n# Entries added by HostAliases.\n1.2.3.4\tfoo\tbar\n');
});
