/**
 * The roles of a trading node's process (`npm run node -- <config> --role …`): both halves of the node in one process
 * (the default), or, over RabbitMQ, only the connector (`node/connector-node.ts`) or only the workers (`node/node.ts`).
 * Light on purpose: the command line checks the role before it loads the node.
 *
 * @module
 */
import { FrameworkError } from '../core/errors';

/** The node roles, as `--role` takes them. */
export const NODE_ROLES = ['all', 'connector', 'workers'] as const;

/** Which part of the node a process runs: both (default), only the connector, or only the workers. */
export type NodeRole = (typeof NODE_ROLES)[number];

/**
 * Checks that `role` can run on the bus `busUrl`.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} for `connector` or `workers` on the in-process bus
 *   (it lives inside one process: the other half could never reach it).
 */
export function checkNodeRole(role: NodeRole, busUrl: string): void {
  if (role !== 'all' && !/^amqps?:\/\//.test(busUrl)) {
    throw new FrameworkError(
      `--role ${role}: the connector and the workers run in two processes only over RabbitMQ; give --bus amqp://… (the in-process bus lives in one process; without --role a node runs both)`,
    );
  }
}

