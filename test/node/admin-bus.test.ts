/**
 * Admin requests over the bus (node/admin-bus.ts) on the real in-process bus: answered on the sender's reply topic; a
 * request delivered twice runs once and is answered twice; one that waited past its expiry is not run; a malformed one
 * is answered with what is allowed. (Over RabbitMQ, across processes: node-amqp.test.ts's `status --bus`.)
 */
import { expect, it } from 'vitest';
import { InProcessBus } from '../../framework/bus/in-process';
import type { AdminReply, AdminRequest } from '../../framework/node/admin';
import { ADMIN_REQUEST_TOPIC, adminReplyTopic, sendAdminOverBus, serveAdminOnBus } from '../../framework/node/admin-bus';

it('answers each admin request once on its reply topic, runs a redelivered one once, drops an expired one', async () => {
  const bus = new InProcessBus();
  const ran: AdminRequest[] = [];
  await serveAdminOnBus(bus, async (request) => {
    ran.push(request);
    return { ok: true, message: 'id' in request ? `${request.command} ${request.id}` : request.command };
  });
  expect(await sendAdminOverBus(bus, { command: 'stop', id: 'macd' })).toEqual({ ok: true, message: 'stop macd' });

  const replies: AdminReply[] = [];
  await bus.consume({ queue: 'replies', topics: [adminReplyTopic('r1'), adminReplyTopic('r2'), adminReplyTopic('r3')] }, (m) => void replies.push(m.body as AdminReply));
  const request = { requestId: 'r1', expiresAt: Date.now() + 60_000, request: { command: 'restart', id: 'trend' } };
  await bus.publish(ADMIN_REQUEST_TOPIC, request);
  await bus.publish(ADMIN_REQUEST_TOPIC, request); // a redelivery
  await bus.publish(ADMIN_REQUEST_TOPIC, { ...request, requestId: 'r2', expiresAt: Date.now() - 1 }); // its sender gave up
  await bus.publish(ADMIN_REQUEST_TOPIC, { requestId: 'r3', expiresAt: Date.now() + 60_000, request: { command: 'halt' } });
  await expect.poll(() => replies.length).toBe(3);
  expect(replies.slice(0, 2)).toEqual([{ ok: true, message: 'restart trend' }, { ok: true, message: 'restart trend' }]);
  expect(replies[2]).toMatchObject({ ok: false, message: expect.stringContaining('expected list, status, or stop, start or restart with an id') });
  expect(ran).toEqual([{ command: 'stop', id: 'macd' }, { command: 'restart', id: 'trend' }]);
  await bus.close();
});
