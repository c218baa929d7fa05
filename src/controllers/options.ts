/**
 * What the workload controllers' start functions share: their options and what they return.
 * The controller-manager starts them all with one informer factory.
 */
import type { Clock, Controller, RestClient, SharedInformerFactory } from '../client/index.js';

/** Options of a workload controller's start function. */
export interface ControllerStartOptions {
  client: RestClient;
  /** Shared informers (the controller takes the ones it needs and starts the factory). */
  factory: SharedInformerFactory;
  /** Stops the controller. */
  signal: AbortSignal;
  /** Time source (default real time). */
  clock?: Clock;
  /** Concurrent reconciles (each controller has upstream's default). */
  workers?: number;
  /** Failed reconciles (default console.error). */
  onError?: (key: string, err: unknown) => void;
}

/** A running controller. */
export interface RunningController {
  controller: Controller;
  /** Resolves once `signal` aborted and the workers stopped. */
  done: Promise<void>;
}
