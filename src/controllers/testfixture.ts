/**
 * Test fixture shared by controller tests: registers node:test before/after hooks that start
 * an in-process control plane (k8ts/testing) and one controller under test on its own
 * informer factory, record the controller's errors, and stop both afterwards.
 */
import { after, before } from 'node:test';
import { SharedInformerFactory } from '../client/index.js';
import { startTestControlPlane, type TestControlPlane, type TestControlPlaneOptions } from '../testing/index.js';
import type { ControllerStartOptions } from './options.js';

/** What {@link controllerFixture} hands back: the running pieces, once `before` ran. */
export interface ControllerFixture<C> {
  cp(): TestControlPlane;
  ctl(): C;
  /** Errors the controller reported. */
  errors: unknown[];
}

/** Starts `cpOptions`' control plane and `start(...)` in `before`, stops both in `after`. */
export function controllerFixture<C extends { done: Promise<void> }>(cpOptions: TestControlPlaneOptions, start: (o: ControllerStartOptions) => Promise<C>): ControllerFixture<C> {
  let cp: TestControlPlane | undefined;
  let ctl: C | undefined;
  const ac = new AbortController();
  const errors: unknown[] = [];
  before(async () => {
    cp = await startTestControlPlane(cpOptions);
    ctl = await start({ client: cp.client, factory: new SharedInformerFactory(cp.client), signal: ac.signal, onError: (_k, e) => errors.push(e) });
  });
  after(async () => {
    ac.abort();
    await ctl?.done;
    await cp?.stop();
  });
  return { cp: () => cp!, ctl: () => ctl!, errors };
}
