/**
 * meta/v1 Table and PartialObjectMetadata conversions, the representations kubectl asks
 * for with `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.
 */
import type { KubeObject, ResourceDef, TableColumn } from '../../api/resource.js';
import { ageCell } from '../../api/kinds/core/printers.js';

const NAME_COLUMN: TableColumn = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated.',
  priority: 0,
};
const AGE_COLUMN: TableColumn = {
  name: 'Age',
  type: 'date',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  priority: 0,
};

/** includeObject query values. */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** Strips an object down to PartialObjectMetadata. */
export function partialMetadata(obj: KubeObject): Record<string, unknown> {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

/** Wraps a list of objects as PartialObjectMetadataList. */
export function partialMetadataList(items: KubeObject[], listMeta: Record<string, unknown>): Record<string, unknown> {
  return { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: listMeta, items: items.map(partialMetadata) };
}

/** Column definitions of a kind (a default Name/Age table when it declares none). */
export function tableColumns(def: ResourceDef): TableColumn[] {
  return (def.table?.columns ?? [NAME_COLUMN, AGE_COLUMN]).map((c) => ({
    name: c.name,
    type: c.type,
    format: c.format ?? '',
    description: c.description ?? '',
    priority: c.priority ?? 0,
  }));
}

/** The cells of one row. Never throws: a printer failure yields "<unknown>" cells. */
export function tableCells(def: ResourceDef, obj: KubeObject, now: Date): unknown[] {
  if (!def.table) return [obj.metadata.name, age(obj, now)];
  try {
    return def.table.cells(obj, now);
  } catch {
    return def.table.columns.map((c, i) => (i === 0 ? obj.metadata.name : '<unknown>'));
  }
}

/** Converts objects to a Table. */
export function toTable(
  def: ResourceDef,
  objs: KubeObject[],
  opts: { now: Date; includeObject?: IncludeObject; listMeta?: Record<string, unknown>; noHeaders?: boolean },
): Record<string, unknown> {
  const include = opts.includeObject ?? 'Metadata';
  const rows = objs.map((obj) => {
    const row: Record<string, unknown> = { cells: tableCells(def, obj, opts.now) };
    if (include === 'Object') row['object'] = obj;
    else if (include === 'Metadata') row['object'] = partialMetadata(obj);
    return row;
  });
  const t: Record<string, unknown> = {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: opts.listMeta ?? {},
    columnDefinitions: opts.noHeaders ? [] : tableColumns(def),
    rows,
  };
  return t;
}

function age(obj: KubeObject, now: Date): string {
  return ageCell(obj, now);
}
