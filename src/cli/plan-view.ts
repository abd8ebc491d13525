/** How `plan` prints a plan: one line per phase, one per item under it, and the totals. */
import type { DeploymentPlan, ItemChange, PlannedItem } from '../workflows/plan';

const MARK: Record<ItemChange, string> = { create: '+', keep: '=', delete: '-', unknown: '?' };

/** What a plan was asked for, in the words of the command line. */
function requestText(plan: DeploymentPlan): string {
  const r = plan.request;
  return r.action === 'rollback' ? `rollback --to ${r.toPhase}` : r.action;
}

function itemText(i: PlannedItem): string {
  const where = i.namespace ? `${i.namespace}/` : '';
  const change = i.change === 'unknown' ? 'delete if present (cannot be read now)' : i.change;
  return `    ${MARK[i.change]} ${change.padEnd(7)} ${i.type} ${where}${i.name}`;
}

/** The plan as text: per phase `name: action (reason)` and its items, then the totals. */
export function renderPlan(plan: DeploymentPlan): string {
  const lines = [`plan ${requestText(plan)} of ${plan.deploymentId}:`];
  for (const p of plan.phases) {
    lines.push(`  ${p.phase}: ${p.action}${p.reason ? ` (${p.reason})` : ''}`);
    // A skipped phase's items are all kept: the totals count them, the listing shows what changes.
    if (p.action !== 'skip') lines.push(...p.items.map(itemText));
  }
  const t = plan.totals;
  const unknown = t.unknown > 0 ? `, ${t.unknown} that cannot be read now` : '';
  lines.push(`${t.create} to create, ${t.keep} kept, ${t.delete} to delete${unknown}`);
  return lines.join('\n');
}
