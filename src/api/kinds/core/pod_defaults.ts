/**
 * Upstream defaulting of PodSpec and PodTemplateSpec (core/v1 SetDefaults_*): what every
 * pod and every workload template gets (restartPolicy, dnsPolicy, container pull policy,
 * probe timings, volume modes, quantities in canonical form). Pod-only defaults and
 * admission live in pod.ts.
 */
import { arr, ensureObj, isObj, obj, objs, setDefault, setDefaultString, str, type Obj } from './fields.js';
import { canonicalizeResourceList, canonicalQuantity } from './quantity.js';

/** Upstream DefaultTerminationGracePeriodSeconds. */
export const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30;
/** Upstream DefaultSchedulerName. */
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

/** The volume source fields of a Volume; exactly one is set. */
export const VOLUME_SOURCES = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi',
  'glusterfs', 'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc',
  'azureFile', 'configMap', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected',
  'portworxVolume', 'scaleIO', 'storageos', 'csi', 'ephemeral', 'image',
] as const;

/**
 * The tag of an image reference as upstream parsers.ParseImageName sees it: the explicit
 * tag, "" when only a digest is given, "latest" when neither.
 */
export function imageTag(image: string): string {
  let ref = image;
  let digest = '';
  const at = ref.indexOf('@');
  if (at >= 0) {
    digest = ref.slice(at + 1);
    ref = ref.slice(0, at);
  }
  const lastSlash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  const tag = colon > lastSlash ? ref.slice(colon + 1) : '';
  if (!tag && !digest) return 'latest';
  return tag;
}

/** Defaults a Probe: timeoutSeconds 1, periodSeconds 10, successThreshold 1, failureThreshold 3, handler defaults. */
export function defaultProbe(p: unknown): void {
  if (!isObj(p)) return;
  setDefault(p, 'timeoutSeconds', 1);
  setDefault(p, 'periodSeconds', 10);
  setDefault(p, 'successThreshold', 1);
  setDefault(p, 'failureThreshold', 3);
  defaultHandler(p);
}

function defaultHandler(h: Obj): void {
  if (isObj(h.httpGet)) {
    setDefaultString(h.httpGet, 'path', '/');
    setDefaultString(h.httpGet, 'scheme', 'HTTP');
  }
  if (isObj(h.grpc)) setDefault(h.grpc, 'service', '');
}

function defaultEnv(env: unknown): void {
  for (const e of objs(env)) {
    const vf = obj(e.valueFrom);
    if (isObj(vf.fieldRef)) setDefaultString(vf.fieldRef, 'apiVersion', 'v1');
    if (isObj(vf.resourceFieldRef)) {
      const d = vf.resourceFieldRef.divisor;
      if (d !== undefined) vf.resourceFieldRef.divisor = canonicalQuantity(d);
    }
  }
}

/** Defaults one container (regular, init or ephemeral) as upstream SetDefaults_Container. */
export function defaultContainer(c: unknown): void {
  if (!isObj(c)) return;
  if (!c.imagePullPolicy) c.imagePullPolicy = imageTag(str(c.image)) === 'latest' ? 'Always' : 'IfNotPresent';
  setDefaultString(c, 'terminationMessagePath', '/dev/termination-log');
  setDefaultString(c, 'terminationMessagePolicy', 'File');
  const res = ensureObj(c, 'resources');
  canonicalizeResourceList(res.limits);
  canonicalizeResourceList(res.requests);
  for (const p of objs(c.ports)) setDefaultString(p, 'protocol', 'TCP');
  defaultEnv(c.env);
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  const lc = obj(c.lifecycle);
  if (isObj(lc.postStart)) defaultHandler(lc.postStart);
  if (isObj(lc.preStop)) defaultHandler(lc.preStop);
}

/** Defaults one Volume: emptyDir when no source, file modes 0644 (420), hostPath type "". */
export function defaultVolume(v: unknown): void {
  if (!isObj(v)) return;
  if (!VOLUME_SOURCES.some((s) => v[s] !== undefined && v[s] !== null)) v.emptyDir = {};
  if (isObj(v.emptyDir) && v.emptyDir.sizeLimit !== undefined) v.emptyDir.sizeLimit = canonicalQuantity(v.emptyDir.sizeLimit);
  if (isObj(v.secret)) setDefault(v.secret, 'defaultMode', 420);
  if (isObj(v.configMap)) setDefault(v.configMap, 'defaultMode', 420);
  if (isObj(v.downwardAPI)) {
    setDefault(v.downwardAPI, 'defaultMode', 420);
    for (const it of objs(v.downwardAPI.items)) if (isObj(it.fieldRef)) setDefaultString(it.fieldRef, 'apiVersion', 'v1');
  }
  if (isObj(v.projected)) {
    setDefault(v.projected, 'defaultMode', 420);
    for (const s of objs(v.projected.sources)) {
      if (isObj(s.serviceAccountToken)) setDefault(s.serviceAccountToken, 'expirationSeconds', 3600);
      if (isObj(s.downwardAPI))
        for (const it of objs(s.downwardAPI.items)) if (isObj(it.fieldRef)) setDefaultString(it.fieldRef, 'apiVersion', 'v1');
    }
  }
  if (isObj(v.hostPath)) setDefault(v.hostPath, 'type', '');
  if (isObj(v.iscsi)) setDefaultString(v.iscsi, 'iscsiInterface', 'default');
  if (isObj(v.rbd)) {
    setDefault(v.rbd, 'pool', 'rbd');
    setDefault(v.rbd, 'user', 'admin');
    setDefault(v.rbd, 'keyring', '/etc/ceph/keyring');
  }
  if (isObj(v.azureDisk)) {
    setDefault(v.azureDisk, 'cachingMode', 'ReadWrite');
    setDefault(v.azureDisk, 'fsType', 'ext4');
    setDefault(v.azureDisk, 'readOnly', false);
    setDefault(v.azureDisk, 'kind', 'Shared');
  }
  if (isObj(v.ephemeral) && isObj(v.ephemeral.volumeClaimTemplate)) {
    const spec = obj(v.ephemeral.volumeClaimTemplate.spec);
    setDefault(spec, 'volumeMode', 'Filesystem');
  }
}

/**
 * Defaults a PodSpec in place (upstream SetDefaults_PodSpec and everything it contains):
 * dnsPolicy ClusterFirst, restartPolicy Always, securityContext {}, terminationGracePeriodSeconds 30,
 * schedulerName default-scheduler, containers, volumes, and serviceAccount mirroring serviceAccountName.
 */
export function defaultPodSpec(spec: unknown): void {
  if (!isObj(spec)) return;
  setDefaultString(spec, 'dnsPolicy', 'ClusterFirst');
  setDefaultString(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'terminationGracePeriodSeconds', DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS);
  setDefaultString(spec, 'schedulerName', DEFAULT_SCHEDULER_NAME);
  // v1 conversion: the deprecated serviceAccount field mirrors serviceAccountName.
  if (!spec.serviceAccountName && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  if (spec.serviceAccountName) spec.serviceAccount = spec.serviceAccountName;
  for (const c of arr(spec.containers)) defaultContainer(c);
  for (const c of arr(spec.initContainers)) defaultContainer(c);
  for (const c of arr(spec.ephemeralContainers)) defaultContainer(c);
  for (const v of arr(spec.volumes)) defaultVolume(v);
  if (isObj(spec.overhead)) canonicalizeResourceList(spec.overhead);
}

/** Defaults a PodTemplateSpec in place (its spec, see {@link defaultPodSpec}). */
export function defaultPodTemplateSpec(template: unknown): void {
  if (!isObj(template)) return;
  defaultPodSpec(template.spec);
}
