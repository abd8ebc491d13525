/** How `kubectl get` prints objects: tables, `-o name`, and the JSONPath subset scripts use. */

/** An object as the API served it. */
export interface ServedObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; creationTimestamp?: string };
  spec?: Record<string, unknown>;
  data?: Record<string, unknown>;
  type?: string;
  status?: Record<string, unknown>;
}

/** The type `kubectl get` resolved, as the world describes it. */
export interface ServedType {
  kind: string;
  group: string;
  namespaced: boolean;
  /** `management.k0rdent.mirantis.com`: the `-o name` prefix. */
  name: string;
}

/** kubectl's human duration: `45s`, `3m12s`, `25m`, `5h3m`, `2d`. */
export function age(created: string | undefined, now = Date.now()): string {
  if (!created) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(created)) / 1000));
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const d = Math.floor(h / 24);
  if (s < 120) return `${s}s`;
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (h < 3) return `${m}m`;
  if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  if (h < 48) return `${h}h`;
  if (d < 8) return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
  return `${d}d`;
}

function conditionStatus(o: ServedObject, type: string): string | undefined {
  const conditions = o.status?.conditions;
  if (!Array.isArray(conditions)) return undefined;
  const c = (conditions as { type?: string; status?: string }[]).find((x) => x.type === type);
  return c?.status;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function num(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}

function columnsFor(
  t: ServedType,
  items: ServedObject[]
): { headers: string[]; row: (o: ServedObject) => string[] } {
  const key = t.group ? `${t.kind}.${t.group}` : t.kind;
  switch (key) {
    case 'Node':
      return {
        headers: ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'],
        row: (o) => [
          o.metadata.name,
          conditionStatus(o, 'Ready') === 'True' ? 'Ready' : 'NotReady',
          o.metadata.labels?.['node-role.kubernetes.io/control-plane'] ? 'control-plane' : '<none>',
          age(o.metadata.creationTimestamp),
          String((o.status?.nodeInfo as { kubeletVersion?: string } | undefined)?.kubeletVersion ?? ''),
        ],
      };
    case 'Pod':
      return {
        headers: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
        row: (o) => {
          const cs = (o.status?.containerStatuses ?? []) as { ready?: boolean }[];
          return [
            o.metadata.name,
            `${cs.filter((c) => c.ready).length}/${cs.length}`,
            text(o.status?.phase),
            '0',
            age(o.metadata.creationTimestamp),
          ];
        },
      };
    case 'Deployment.apps':
      return {
        headers: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
        row: (o) => [
          o.metadata.name,
          `${num(o.status?.readyReplicas)}/${num(o.status?.replicas)}`,
          String(num(o.status?.updatedReplicas)),
          String(num(o.status?.availableReplicas)),
          age(o.metadata.creationTimestamp),
        ],
      };
    case 'Namespace':
      return {
        headers: ['NAME', 'STATUS', 'AGE'],
        row: (o) => [o.metadata.name, text(o.status?.phase) || 'Active', age(o.metadata.creationTimestamp)],
      };
    case 'Secret':
      return {
        headers: ['NAME', 'TYPE', 'DATA', 'AGE'],
        row: (o) => [
          o.metadata.name,
          o.type ?? 'Opaque',
          String(Object.keys(o.data ?? {}).length),
          age(o.metadata.creationTimestamp),
        ],
      };
    default:
      if (items.some((o) => conditionStatus(o, 'Ready') !== undefined))
        return {
          headers: ['NAME', 'READY', 'AGE'],
          row: (o) => [o.metadata.name, conditionStatus(o, 'Ready') ?? '', age(o.metadata.creationTimestamp)],
        };
      return { headers: ['NAME', 'AGE'], row: (o) => [o.metadata.name, age(o.metadata.creationTimestamp)] };
  }
}

/** A kubectl table: columns padded to their widest cell plus three spaces. */
export function table(t: ServedType, items: ServedObject[], allNamespaces: boolean): string {
  const { headers, row } = columnsFor(t, items);
  const withNs = allNamespaces && t.namespaced;
  const rows = [
    withNs ? ['NAMESPACE', ...headers] : headers,
    ...items.map((o) => (withNs ? [o.metadata.namespace ?? '', ...row(o)] : row(o))),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + 3)))
        .join('')
        .trimEnd()
    )
    .join('\n')
    .concat('\n');
}

/** A JSONPath template kubectl cannot run. */
export class JsonPathError extends Error {}

type Step =
  | { field: string }
  | { index: number }
  | { all: true }
  | { filter: { path: string[]; op: '==' | '!='; value: string } };

function parsePath(expr: string): Step[] {
  const steps: Step[] = [];
  let i = expr.startsWith('$') ? 1 : 0;
  while (i < expr.length) {
    const ch = expr[i];
    if (ch === '.') {
      let name = '';
      i++;
      while (i < expr.length && expr[i] !== '.' && expr[i] !== '[') {
        if (expr[i] === '\\' && i + 1 < expr.length) i++;
        name += expr[i];
        i++;
      }
      if (!name) throw new JsonPathError(`unexpected "." in ${expr}`);
      steps.push({ field: name });
    } else if (ch === '[') {
      const end = expr.indexOf(']', i);
      if (end < 0) throw new JsonPathError(`unterminated [ in ${expr}`);
      const inner = expr.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === '*') steps.push({ all: true });
      else if (/^-?\d+$/.test(inner)) steps.push({ index: Number(inner) });
      else {
        const m = inner.match(/^\?\(@((?:\.[\w./-]+)+)\s*(==|!=)\s*(?:"([^"]*)"|'([^']*)'|([\w.-]+))\)$/);
        if (!m) throw new JsonPathError(`unsupported JSONPath expression [${inner}]`);
        const path = (m[1] as string).slice(1).split('.');
        steps.push({ filter: { path, op: m[2] as '==' | '!=', value: m[3] ?? m[4] ?? m[5] ?? '' } });
      }
    } else {
      throw new JsonPathError(`unexpected "${ch ?? ''}" in ${expr}`);
    }
  }
  return steps;
}

function field(value: unknown, name: string): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

function evaluate(steps: Step[], root: unknown): unknown[] {
  let current: unknown[] = [root];
  let strict = true;
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of current) {
      if ('field' in step) {
        const f = field(v, step.field);
        if (f === undefined) {
          if (strict) throw new JsonPathError(`${step.field} is not found`);
          continue;
        }
        next.push(f);
      } else if ('index' in step) {
        if (!Array.isArray(v)) continue;
        const item = v[step.index < 0 ? v.length + step.index : step.index] as unknown;
        if (item === undefined)
          throw new JsonPathError(`array index out of bounds: index ${step.index}, length ${v.length}`);
        next.push(item);
      } else if ('all' in step) {
        if (Array.isArray(v)) next.push(...(v as unknown[]));
        else if (v !== null && typeof v === 'object')
          next.push(...Object.values(v as Record<string, unknown>));
        strict = false;
      } else {
        if (!Array.isArray(v)) continue;
        strict = false;
        for (const item of v as unknown[]) {
          const got = step.filter.path.reduce<unknown>((acc, p) => field(acc, p), item);
          const text = got === undefined ? undefined : typeof got === 'string' ? got : JSON.stringify(got);
          if ((step.filter.op === '==') === (text === step.filter.value)) next.push(item);
        }
      }
    }
    current = next;
  }
  return current;
}

/** Runs a kubectl JSONPath template (`{.a.b}`, `[N]`, `[*]`, `[?(@.x=="y")]`, literal text between). */
export function jsonpath(template: string, data: unknown): string {
  let out = '';
  let i = 0;
  const text = template.replace(/^'(.*)'$/s, '$1');
  while (i < text.length) {
    const open = text.indexOf('{', i);
    if (open < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, open);
    const close = text.indexOf('}', open);
    if (close < 0) throw new JsonPathError(`unclosed action in ${template}`);
    const expr = text.slice(open + 1, close).trim();
    const values = evaluate(parsePath(expr), data);
    out += values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' ');
    i = close + 1;
  }
  return out;
}
