// The runtime's interface, shaped like the CRI (RuntimeService + ImageService) so the kubelet
// could speak real CRI to containerd instead. Field names follow the CRI's protobuf messages in
// camelCase; times are nanoseconds since the epoch as bigint-free numbers of milliseconds where
// the CRI uses nanoseconds only for display (we keep `...AtNs` as strings of nanoseconds).

/** Key/value pairs as in the CRI. */
export type StringMap = Record<string, string>;

/** Pod identity as the kubelet gives it to RunPodSandbox. */
export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt?: number;
}

/** A host port mapping (hostPort in a pod spec), handed to the CNI portmap plugin. */
export interface PortMapping {
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  containerPort: number;
  hostPort?: number;
  hostIp?: string;
}

/** Namespace sharing for the sandbox: NODE means the host's namespace (hostNetwork etc.). */
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE';

/** Linux options of a sandbox (the subset of LinuxPodSandboxConfig k8ts uses). */
export interface LinuxSandboxConfig {
  /** Cgroup parent of the pod, e.g. `/k8ts/burstable/pod<uid>` (relative to each v1 controller root). */
  cgroupParent?: string;
  namespaceOptions?: { network?: NamespaceMode; pid?: NamespaceMode; ipc?: NamespaceMode };
  sysctls?: StringMap;
  /** Pod-level overhead and limits, used to size the pod cgroup. */
  resources?: LinuxContainerResources;
}

/** RunPodSandbox's argument. */
export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname?: string;
  /** Directory for the pod's container logs, `/var/log/pods/<ns>_<name>_<uid>`. */
  logDirectory?: string;
  dnsConfig?: { servers?: string[]; searches?: string[]; options?: string[] };
  portMappings?: PortMapping[];
  labels?: StringMap;
  annotations?: StringMap;
  linux?: LinuxSandboxConfig;
}

/** Sandbox states as the CRI names them. */
export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

/** What PodSandboxStatus returns. */
export interface PodSandboxStatus {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxState;
  /** Creation time in nanoseconds since the epoch (decimal string: beyond 2^53). */
  createdAtNs: string;
  network?: { ip: string; additionalIps?: string[] };
  linux?: { namespaces: { network?: string; ipc?: string; uts?: string; pid?: string } };
  labels: StringMap;
  annotations: StringMap;
  runtimeHandler: string;
}

/** Cgroup resources of a container (CRI LinuxContainerResources, cgroup v1 units). */
export interface LinuxContainerResources {
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  memoryLimitInBytes?: number;
  oomScoreAdj?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: number;
  hugepageLimits?: { pageSize: string; limit: number }[];
}

/** Security options of a container (CRI LinuxContainerSecurityContext subset). */
export interface LinuxContainerSecurityContext {
  capabilities?: { addCapabilities?: string[]; dropCapabilities?: string[] };
  privileged?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  supplementalGroups?: number[];
  readonlyRootfs?: boolean;
  noNewPrivs?: boolean;
  /** `RuntimeDefault` (the default), `Unconfined`, or `Localhost` with a profile path. */
  seccomp?: { profileType: 'RuntimeDefault' | 'Unconfined' | 'Localhost'; localhostRef?: string };
  maskedPaths?: string[];
  readonlyPaths?: string[];
}

/** A mount into a container (volumes, /etc/hosts, ...). */
export interface Mount {
  containerPath: string;
  hostPath: string;
  readonly?: boolean;
  /** `private` (default), `rslave` (HostToContainer) or `rshared` (Bidirectional). */
  propagation?: 'private' | 'rslave' | 'rshared';
  /** Mount a tmpfs of this many bytes instead of binding hostPath (emptyDir medium Memory). */
  tmpfsSizeBytes?: number;
}

/** A device node for the container (device plugins). */
export interface Device {
  containerPath: string;
  hostPath: string;
  permissions?: string;
}

/** CreateContainer's argument. */
export interface ContainerConfig {
  metadata: { name: string; attempt?: number };
  image: { image: string };
  command?: string[];
  args?: string[];
  workingDir?: string;
  envs?: { key: string; value: string }[];
  mounts?: Mount[];
  devices?: Device[];
  labels?: StringMap;
  annotations?: StringMap;
  /** Relative to the sandbox's logDirectory, e.g. `<container>/<restart>.log`. */
  logPath?: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  linux?: { resources?: LinuxContainerResources; securityContext?: LinuxContainerSecurityContext };
}

/** Container states as the CRI names them. */
export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

/** What ContainerStatus returns. */
export interface ContainerStatus {
  id: string;
  podSandboxId: string;
  metadata: { name: string; attempt: number };
  state: ContainerState;
  createdAtNs: string;
  startedAtNs: string;
  finishedAtNs: string;
  exitCode: number;
  /** `OOMKilled`, `Error`, `Completed`, or '' while running. */
  reason: string;
  message: string;
  image: { image: string };
  /** The image id (`sha256:<config digest>`). */
  imageRef: string;
  labels: StringMap;
  annotations: StringMap;
  mounts: Mount[];
  /** Absolute path of the container's current log file. */
  logPath: string;
  /** Host pid of the container's init process while it runs. */
  pid?: number;
}

/** Filter for ListContainers. */
export interface ContainerFilter {
  id?: string;
  podSandboxId?: string;
  state?: ContainerState;
  labelSelector?: StringMap;
}

/** Filter for ListPodSandbox. */
export interface PodSandboxFilter {
  id?: string;
  state?: PodSandboxState;
  labelSelector?: StringMap;
}

/** ExecSync's result. */
export interface ExecSyncResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

/** The streams of an interactive exec or attach. A missing stream is not attached. */
export interface StreamOptions {
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  tty?: boolean;
  /** Terminal sizes as they change (first one applied at start). */
  resize?: AsyncIterable<{ width: number; height: number }>;
}

/** The OCI runtime handler a sandbox uses (RuntimeClass handler → binary). */
export interface RuntimeHandler {
  name: string;
  /** Path of an OCI runtime CLI with runc's verbs. */
  path: string;
}

/** The runtime service, CRI-shaped. Implemented by `Runtime` in runtime.ts; fakes for unit tests. */
export interface RuntimeService {
  version(): Promise<{ runtimeName: string; runtimeVersion: string; runtimeApiVersion: string }>;
  runPodSandbox(config: PodSandboxConfig, runtimeHandler?: string): Promise<string>;
  stopPodSandbox(id: string): Promise<void>;
  removePodSandbox(id: string): Promise<void>;
  podSandboxStatus(id: string): Promise<PodSandboxStatus>;
  listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandboxStatus[]>;
  createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string>;
  startContainer(id: string): Promise<void>;
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  listContainers(filter?: ContainerFilter): Promise<ContainerStatus[]>;
  containerStatus(id: string): Promise<ContainerStatus>;
  execSync(id: string, cmd: string[], timeoutSeconds?: number): Promise<ExecSyncResult>;
  /** Interactive exec; resolves with the command's exit code. */
  exec(id: string, cmd: string[], streams: StreamOptions): Promise<number>;
  /** Attach to the container's main process; resolves when the streams end. */
  attach(id: string, streams: StreamOptions): Promise<void>;
  /** A duplex connection to `port` on localhost inside the sandbox's network namespace. */
  portForward(podSandboxId: string, port: number): Promise<import('node:stream').Duplex>;
  reopenContainerLog(id: string): Promise<void>;
}

/** Error a runtime call fails with; `code` mirrors the gRPC status the CRI would use. */
export class RuntimeError extends Error {
  constructor(public readonly code: 'NotFound' | 'InvalidArgument' | 'FailedPrecondition' | 'Internal' | 'DeadlineExceeded', message: string) {
    super(message);
    this.name = 'RuntimeError';
  }
}
