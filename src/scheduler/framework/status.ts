/**
 * Scheduling framework results: a {@link Status} with upstream's codes. `undefined` stands
 * for Success everywhere (as upstream's nil *Status), so the hot paths allocate nothing when
 * a node fits.
 */

/** Upstream framework.Code values (same numbers). */
export enum Code {
  Success = 0,
  /** An internal error: the pod is retried with backoff, never preempted for. */
  Error = 1,
  /** The pod does not fit now; preemption may help. */
  Unschedulable = 2,
  /** The pod does not fit and preemption on this node cannot help. */
  UnschedulableAndUnresolvable = 3,
  /** Permit: wait. */
  Wait = 4,
  /** PreFilter/PreScore: the plugin has nothing to do for this pod (its Filter/Score are skipped). */
  Skip = 5,
  /** PreEnqueue: the pod waits for something other than the cluster (scheduling gates). */
  Pending = 6,
}

/** A plugin's verdict. Immutable after construction (plugin name aside). */
export class Status {
  /** The plugin that produced it (set by the framework runner). */
  plugin = '';
  constructor(
    readonly code: Code,
    readonly reasons: readonly string[] = [],
    readonly error?: Error,
  ) {}

  /** Unschedulable with reasons (each one a line of the pod's FailedScheduling message). */
  static unschedulable(...reasons: string[]): Status {
    return new Status(Code.Unschedulable, reasons);
  }
  /** UnschedulableAndUnresolvable with reasons. */
  static unresolvable(...reasons: string[]): Status {
    return new Status(Code.UnschedulableAndUnresolvable, reasons);
  }
  /** An internal error. */
  static error(err: unknown): Status {
    const e = err instanceof Error ? err : new Error(String(err));
    return new Status(Code.Error, [e.message], e);
  }
  /** Skip (PreFilter / PreScore). */
  static skip(): Status {
    return new Status(Code.Skip);
  }
  /** Wait (Permit) / Pending (PreEnqueue). */
  static wait(reason = ''): Status {
    return new Status(Code.Wait, reason ? [reason] : []);
  }
  static pending(...reasons: string[]): Status {
    return new Status(Code.Pending, reasons);
  }

  /** Sets the producing plugin, returning this. */
  withPlugin(name: string): this {
    this.plugin = name;
    return this;
  }
  /** The reasons joined by ", ". */
  message(): string {
    return this.reasons.join(', ');
  }
}

/** True for success (`undefined` or a Status with code Success). */
export function isSuccess(s: Status | undefined | null): boolean {
  return !s || s.code === Code.Success;
}

/** True for Unschedulable or UnschedulableAndUnresolvable. */
export function isRejected(s: Status | undefined | null): boolean {
  return !!s && (s.code === Code.Unschedulable || s.code === Code.UnschedulableAndUnresolvable);
}

/** The Status of a failed Filter on one node, per node name. */
export type NodeToStatus = Map<string, Status>;
