/**
 * What reaches a running deployment from outside: its input and its signal, update and query handlers,
 * the checks of their payloads, and the queue the handlers fill for the workflow's loop.
 */
import {
  ApplicationFailure,
  CancellationScope,
  setDefaultSignalHandler,
  setHandler,
} from '@temporalio/workflow';
import type {
  ComponentsRequest,
  DeploymentFlags,
  DeploymentInput,
  DeploymentState,
  ResetRequest,
  RollbackRequest,
} from './messages';
import {
  componentsSignal,
  resetSignal,
  resetUpdate,
  resumeSignal,
  rollbackSignal,
  rollbackUpdate,
  stateQuery,
} from './messages';
import type { Wake } from './planner';
import { rollbackRefusal } from './planner';
import { addEvent } from './state';

/** A rollback or reset request, served by the loop in the order they arrived. */
export type Request = { kind: 'rollback'; req: RollbackRequest } | { kind: 'reset'; req: ResetRequest };

/** The handlers' side of a deployment: they queue requests and raise flags, the loop takes them. */
export class Inbox {
  private readonly requests: Request[] = [];
  private resumeRequested = false;
  private componentsChanged = false;
  private runningScope: CancellationScope | undefined;

  /** `changed` is called when a handler wrote to the state (a refusal, new components). */
  constructor(
    private readonly state: DeploymentState,
    private readonly now: () => string,
    private readonly changed: () => void
  ) {}

  /** Registers the query, signal and update handlers; call it once, before the first `await`. */
  listen(): void {
    const state = this.state;
    setHandler(stateQuery, () => state);
    setHandler(rollbackSignal, (req: RollbackRequest) => {
      const why = this.rollbackProblem(req);
      if (why) this.reject('rollback', why);
      else this.enqueueRollback(req);
    });
    setHandler(
      rollbackUpdate,
      (req: RollbackRequest) => {
        this.enqueueRollback(req);
        return Promise.resolve(state);
      },
      {
        validator: (req: RollbackRequest) => {
          const why = this.rollbackProblem(req);
          if (why) throw ApplicationFailure.nonRetryable(why, 'InvalidRequest');
        },
      }
    );
    setHandler(resetSignal, (req?: ResetRequest) => {
      const why = resetPayloadProblem(req) ?? this.resetRefusal();
      if (why) this.reject('reset', why);
      else this.enqueueReset(req);
    });
    setHandler(
      resetUpdate,
      (req: ResetRequest) => {
        this.enqueueReset(req);
        return Promise.resolve(state);
      },
      {
        validator: (req: ResetRequest) => {
          const why = resetPayloadProblem(req) ?? this.resetRefusal();
          if (why) throw ApplicationFailure.nonRetryable(why, 'InvalidRequest');
        },
      }
    );
    setHandler(resumeSignal, () => {
      this.resumeRequested = true;
    });
    setHandler(componentsSignal, (req: ComponentsRequest) => {
      const asked = requestedComponents(state.flags, req);
      if ('problem' in asked) {
        this.reject('components', asked.problem);
        return;
      }
      const next = asked.flags;
      if (next.kof !== state.flags.kof || next.azureChildren !== state.flags.azureChildren) {
        state.flags = next;
        this.componentsChanged = true;
        addEvent(state, {
          timestamp: this.now(),
          action: 'components_changed',
          message: `Components set: azure-children=${next.azureChildren}, kof=${next.kof}`,
        });
      }
    });
    setDefaultSignalHandler((name: string) => {
      this.reject(
        `signal ${JSON.stringify(name.slice(0, 60))}`,
        'no such signal; known: rollback, resume, reset, setComponents'
      );
    });
  }

  /** The oldest queued request, taken off the queue. */
  next(): Request | undefined {
    return this.requests.shift();
  }

  /** True while a request waits in the queue. */
  get queued(): boolean {
    return this.requests.length > 0;
  }

  /** True when a resume or a change of components waits to be taken. */
  get woken(): boolean {
    return this.resumeRequested || this.componentsChanged;
  }

  /** Takes the resume and the change of components seen so far. */
  takeWake(): Wake {
    const wake = { resume: this.resumeRequested, components: this.componentsChanged };
    this.resumeRequested = false;
    this.componentsChanged = false;
    return wake;
  }

  /** Records a refused request in the state's events. */
  reject(what: string, why: string): void {
    addEvent(this.state, {
      timestamp: this.now(),
      action: 'request_rejected',
      message: `${what} refused: ${why}`,
    });
    this.changed();
  }

  /** Runs `fn` in a scope that a rollback or reset request cancels. */
  async cancellable<R>(fn: () => Promise<R>): Promise<R> {
    const scope = new CancellationScope();
    this.runningScope = scope;
    // A request that arrived while the state was being projected must stop the phase before it starts.
    if (this.requests.length > 0) scope.cancel();
    try {
      return await scope.run(fn);
    } finally {
      this.runningScope = undefined;
    }
  }

  private enqueue(request: Request): void {
    this.requests.push(request);
    this.runningScope?.cancel();
  }

  /** Queues a rollback checked by `rollbackProblem`, with only the fields it uses. */
  private enqueueRollback(req: RollbackRequest): void {
    this.enqueue({ kind: 'rollback', req: { toPhase: req.toPhase, resume: req.resume === true } });
  }

  /** Queues a reset checked by `resetPayloadProblem`, its reason made fit for a folder name. */
  private enqueueReset(req: ResetRequest | undefined): void {
    this.enqueue({ kind: 'reset', req: { reason: sanitizeReason(req?.reason) } });
  }

  private rollbackProblem(req: unknown): string | undefined {
    return rollbackRefusal(this.state, isMap(req) ? req.toPhase : undefined) ?? resumeProblem(req);
  }

  private resetRefusal(): string | undefined {
    return this.state.status === 'resetting' || this.requests.some((r) => r.kind === 'reset')
      ? 'a reset is already under way'
      : undefined;
  }
}

/** Why a workflow input cannot be deployed, if it cannot. */
export function inputProblem(input: DeploymentInput | undefined): string | undefined {
  if (!input || typeof input !== 'object') return 'workflow input is missing';
  if (typeof input.deploymentId !== 'string' || !/^k0rdent-[a-z0-9]{8}$/.test(input.deploymentId)) {
    return `deploymentId "${String(input.deploymentId)}" is not of the form k0rdent-<8 lowercase letters or digits>`;
  }
  if (typeof input.workDir !== 'string' || !input.workDir.startsWith('/'))
    return 'workDir must be an absolute path';
  if (!input.config || typeof input.config !== 'object') return 'config is missing';
  if (!input.policy || typeof input.policy.heartbeatSeconds !== 'number') return 'policy is missing';
  if (input.flags?.kof && !input.flags.azureChildren) {
    return 'KOF needs the Azure child-cluster setup: enable azure children too';
  }
  return undefined;
}

/** A reset reason as a folder-name part: letters, digits and inner dashes, else `full-reset`. */
export function sanitizeReason(reason: unknown): string {
  const text = typeof reason === 'string' ? reason : '';
  const cleaned = text
    .replace(/[^a-zA-Z0-9-]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return cleaned === '' ? 'full-reset' : cleaned;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Why a rollback payload's `resume` cannot be used, if it cannot. */
export function resumeProblem(req: unknown): string | undefined {
  const resume = isMap(req) ? req.resume : undefined;
  return resume === undefined || typeof resume === 'boolean' ? undefined : 'resume must be true or false';
}

/** Why a reset payload cannot be used, if it cannot (none at all is fine). */
export function resetPayloadProblem(req: unknown): string | undefined {
  return req === undefined || req === null || isMap(req)
    ? undefined
    : 'the payload must be a map { reason?: string }';
}

/** The components a setComponents payload leaves enabled over `flags`, or why it cannot be served. */
export function requestedComponents(
  flags: DeploymentFlags,
  req: unknown
): { flags: DeploymentFlags } | { problem: string } {
  if (!isMap(req)) {
    return { problem: 'the payload must be a map { azureChildren?: true|false, kof?: true|false }' };
  }
  const next = { ...flags };
  for (const key of ['azureChildren', 'kof'] as const) {
    const value = req[key];
    if (typeof value === 'boolean') next[key] = value;
    else if (value !== undefined) return { problem: `${key} must be true or false` };
  }
  if (next.kof && !next.azureChildren) {
    return { problem: 'KOF needs the Azure child-cluster setup; enable azureChildren too' };
  }
  return { flags: next };
}
