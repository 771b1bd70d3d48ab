/**
 * The trading node's admin commands over the message bus, so that they work across machines (an operator and a node
 * sharing one RabbitMQ): `npm run node -- status --bus amqp://…`. The same requests and replies as the control socket
 * (see `node/admin.ts`), on `system.*` topics:
 *
 * - the sender listens on a queue of its own, exclusive (deleted once it has its answer), bound to
 *   `system.admin.reply.<request id>`, then publishes `{ requestId, expiresAt, request }` on `system.admin.request`;
 * - the node consumes its queue `node.admin`, runs the request and publishes the {@link AdminReply} on the reply topic;
 *   the request is acknowledged only after that. A request delivered again (the node died before acknowledging, the
 *   broker requeued it) gets the reply of its first run again: never run twice. A request that waited in the queue past
 *   `expiresAt` (UTC epoch ms; its sender has given up) is dropped unanswered, not run late.
 *
 * One node per bus serves admin: two nodes on one broker would share `node.admin` and each answer part of the requests.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { BusConsumer, MessageBus } from '../bus/bus';
import { systemTopic } from '../bus/topics';
import { FrameworkError, messageOf } from '../core/errors';
import { parseAdminRequest, type AdminHandler, type AdminReply, type AdminRequest } from './admin';

/** The topic admin requests are published on. */
export const ADMIN_REQUEST_TOPIC = systemTopic('admin.request');

/** The topic the reply to request `requestId` is published on. */
export function adminReplyTopic(requestId: string): string {
  return systemTopic(`admin.reply.${requestId}`);
}

/** An admin request as published on the bus. */
export interface AdminBusRequest {
  /** Unique per request; one routing-key word (letters, digits, `-`). */
  readonly requestId: string;
  /** UTC epoch ms after which the sender no longer waits for the reply. */
  readonly expiresAt: number;
  readonly request: AdminRequest;
}

/** How many request ids (and their replies) the node remembers to answer a redelivery without running it again. */
const REMEMBERED_REQUESTS = 1_000;

/**
 * Serves `handler` on the bus (see the module description) until the returned consumer is closed.
 *
 * @throws the bus's errors when the queue cannot be declared or consumed.
 */
export async function serveAdminOnBus(bus: MessageBus, handler: AdminHandler): Promise<BusConsumer> {
  const replies = new Map<string, Promise<AdminReply>>();
  return bus.consume({ queue: 'node.admin', topics: [ADMIN_REQUEST_TOPIC] }, async (message) => {
    const body = (message.body ?? {}) as Partial<AdminBusRequest>;
    const { requestId, expiresAt } = body;
    if (typeof requestId !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(requestId)) return; // no reply topic: dropped
    let reply = replies.get(requestId);
    if (reply === undefined) {
      if (typeof expiresAt !== 'number' || Date.now() > expiresAt) return; // its sender has given up: not run late
      reply = (async () => handler(parseAdminRequest(body.request)))().catch((error: unknown) => ({ ok: false, message: messageOf(error) }));
      replies.set(requestId, reply);
      if (replies.size > REMEMBERED_REQUESTS) replies.delete(replies.keys().next().value!);
    }
    await bus.publish(adminReplyTopic(requestId), await reply);
  });
}

/**
 * Sends one admin request over the bus and returns the node's reply.
 *
 * @param timeoutMs - how long to wait for the reply (real ms; default 120 s: a stop waits for the worker's candle).
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} when no node answers within `timeoutMs`; the bus's
 *   errors when it cannot be reached.
 */
export async function sendAdminOverBus(bus: MessageBus, request: AdminRequest, timeoutMs = 120_000): Promise<AdminReply> {
  const requestId = randomUUID();
  let answer: (reply: AdminReply) => void = () => undefined;
  const answered = new Promise<AdminReply>((resolve) => (answer = resolve));
  const replies = await bus.consume({ queue: `admin.reply.${requestId}`, topics: [adminReplyTopic(requestId)], exclusive: true }, (m) => answer(m.body as AdminReply));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FrameworkError(`no node answered "${request.command}" on the bus within ${timeoutMs / 1000} s (is npm run node running with this --bus?)`)), timeoutMs);
  });
  try {
    await bus.publish(ADMIN_REQUEST_TOPIC, { requestId, expiresAt: Date.now() + timeoutMs, request } satisfies AdminBusRequest);
    return await Promise.race([answered, timedOut]);
  } finally {
    clearTimeout(timer);
    await replies.close();
  }
}
