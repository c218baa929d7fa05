/** The batch/v1 kinds. */
import type { ResourceDef } from '../../resource.js';
import { cronJobResource } from './cronjob.js';
import { jobResource } from './job.js';

export { cronJobResource, jobResource };

/** Job and CronJob (batch/v1). */
export function batchResources(): ResourceDef[] {
  return [jobResource, cronJobResource];
}
