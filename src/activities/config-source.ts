/**
 * The config and Azure target a phase request names by digest: read once per worker from the workflow
 * run's start event (where the whole input already is) and kept by digest, so they cross the history
 * once per run instead of with every activity.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, defaultPayloadConverter, fromPayloadsAtIndex } from '@temporalio/common';
import type { AzureTarget } from '../azure/target';
import type { K0rdentConfig } from '../config/types';
import { jsonDigest } from '../workflows/digest';
import type { DeploymentInput, PhaseContext, PhaseRequest } from '../workflows/messages';
import { FailureTypes } from '../workflows/messages';

/** What a digest names. */
interface RunInput {
  config: K0rdentConfig;
  cloud: AzureTarget;
}

const inputs = new Map<string, Promise<RunInput>>();

async function startInput(digest: string): Promise<RunInput> {
  const ctx = Context.current();
  const run = ctx.info.workflowExecution;
  if (!run) throw new Error('a phase request naming its config by digest must come from a workflow');
  const response = await ctx.client.workflowService.getWorkflowExecutionHistory({
    namespace: ctx.info.workflowNamespace,
    execution: { workflowId: run.workflowId, runId: run.runId },
    maximumPageSize: 1,
  });
  const started = response.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
  const input = fromPayloadsAtIndex<DeploymentInput>(defaultPayloadConverter, 0, started?.input?.payloads);
  if (!input?.config || !input.cloud || jsonDigest([input.config, input.cloud]) !== digest) {
    throw ApplicationFailure.create({
      type: FailureTypes.InvalidConfig,
      message: `the start event of ${run.workflowId} holds no config and target with digest ${digest}`,
      nonRetryable: true,
    });
  }
  return { config: input.config, cloud: input.cloud };
}

/** The phase context of a request: its own config and target, or those its digest names. */
export async function resolveContext(request: PhaseRequest): Promise<PhaseContext> {
  const { inputDigest, config, cloud, ...rest } = request;
  if (config && cloud) return { ...rest, config, cloud };
  if (!inputDigest) {
    throw ApplicationFailure.create({
      type: FailureTypes.InvalidConfig,
      message: 'the phase request carries neither its config and target nor their digest',
      nonRetryable: true,
    });
  }
  let found = inputs.get(inputDigest);
  if (!found) {
    found = startInput(inputDigest);
    inputs.set(inputDigest, found);
    // A failed read is not kept: the next attempt asks again.
    found.catch(() => inputs.delete(inputDigest));
  }
  return { ...rest, ...(await found) };
}
