/**
 * metav1.Time serialization: RFC 3339 in UTC with second precision, as Kubernetes writes
 * creationTimestamp, deletionTimestamp, managedFields times and condition transition times.
 */

/** RFC 3339 timestamp in UTC without fractional seconds ("2024-01-02T03:04:05Z"). */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}
