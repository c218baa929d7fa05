/**
 * `k8ts/client`: the public client library. A REST client for the Kubernetes API
 * (`RestClient`), the indexed object cache (`Indexer`), list-and-watch (`Reflector`),
 * shared informers and their factory, controller work queues (client-go semantics), the
 * reconcile-loop `Controller`, Lease-based `LeaderElector`, the `EventRecorder`, and
 * typed-by-kind clients (`typedClient(rest).pods(ns).get(name)`).
 */
export * from './rest.js';
export * from './store.js';
export * from './reflector.js';
export * from './informer.js';
export * from './workqueue/index.js';
export * from './controller.js';
export * from './leaderelection.js';
export * from './events.js';
export * from './typed.js';
