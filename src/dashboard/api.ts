import { isGrpcDeadlineError, WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { isTemporalUnreachable } from '../client/connect';
import { toWorkflowId } from '../client/rollouts';
import { type ControlAction, type RolloutBackend, RolloutEndedError } from './backend';
import { rolloutView } from './views';

export interface ApiDeps {
  backend: RolloutBackend;
  webUiUrl: string;
}

const ACTIONS: readonly ControlAction[] = ['pause', 'resume', 'promote', 'abort'];

const idParam = z.object({ id: z.string().min(1).max(256) });
const actionParams = idParam.extend({ action: z.enum(ACTIONS) });
const reason = z.string().trim().max(500);
const bodies: Record<ControlAction, z.ZodType<{ reason?: string }>> = {
  pause: z.object({ reason: reason.optional() }).strict(),
  resume: z.object({}).strict(),
  promote: z.object({}).strict(),
  abort: z.object({ reason: reason.min(1, 'an abort needs a reason') }).strict(),
};

/** Temporal's failures as HTTP statuses, read from their classes, never their messages. */
function sendFailure(reply: FastifyReply, err: unknown): FastifyReply {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof WorkflowNotFoundError) return reply.code(404).send({ error: message });
  if (err instanceof RolloutEndedError) return reply.code(409).send({ error: message });
  if (isTemporalUnreachable(err)) return reply.code(503).send({ error: `Temporal unreachable: ${message}` });
  if (isGrpcDeadlineError(err))
    return reply.code(504).send({ error: 'no answer in time: is a worker running for this rollout?' });
  return reply.code(502).send({ error: message });
}

function invalid(reply: FastifyReply, error: z.ZodError): FastifyReply {
  return reply.code(400).send({ error: error.issues.map((issue) => issue.message).join('; ') });
}

/** The JSON the page polls, and the controls it posts. */
export function registerApi(app: FastifyInstance, deps: ApiDeps): void {
  const { backend } = deps;

  app.get('/api/rollouts', async (_request, reply) => {
    try {
      return { rollouts: await backend.list() };
    } catch (err) {
      return sendFailure(reply, err);
    }
  });

  app.get('/api/rollouts/:id', async (request, reply) => {
    const params = idParam.safeParse(request.params);
    if (!params.success) return invalid(reply, params.error);
    try {
      return rolloutView(await backend.rollout(params.data.id), deps.webUiUrl, backend.namespace);
    } catch (err) {
      return sendFailure(reply, err);
    }
  });

  app.post('/api/rollouts/:id/:action', async (request, reply) => {
    const params = actionParams.safeParse(request.params);
    if (!params.success) return invalid(reply, params.error);
    const { id, action } = params.data;
    const body = bodies[action].safeParse(request.body ?? {});
    if (!body.success) return invalid(reply, body.error);
    try {
      await backend.signal(id, action, body.data.reason || undefined);
      return reply.code(202).send({ signal: action, workflowId: toWorkflowId(id) });
    } catch (err) {
      return sendFailure(reply, err);
    }
  });
}
