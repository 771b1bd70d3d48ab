/**
 * The worker side of supervision, for a module run by {@link "supervisor/supervisor"!Supervisor | Supervisor}: the
 * heartbeat that proves its event loop turns, the report of a plugin that cannot load (so it is not retried), and the
 * stop request (finish the current candle, flush, exit). Messages go over Node's IPC channel, which also carries the
 * node's in-process bus ({@link processBusChannel}).
 *
 * @module
 */
import type { IpcBusFrame, IpcChannel } from '../bus/ipc';

/** Messages a worker sends its supervisor. */
export type WorkerMessage =
  | { readonly type: 'heartbeat' }
  | { readonly type: 'ready' }
  | { readonly type: 'load_failed'; readonly message: string }
  | { readonly type: 'event'; readonly topic: string; readonly body: unknown }
  | { readonly type: 'bus'; readonly frame: IpcBusFrame };

/** Messages a supervisor sends a worker. */
export type SupervisorMessage =
  | { readonly type: 'stop' }
  | { readonly type: 'command'; readonly body: unknown }
  | { readonly type: 'bus'; readonly frame: IpcBusFrame };

/** Environment variable carrying the heartbeat interval (ms) the supervisor expects. */
export const HEARTBEAT_ENV = 'CANDLECRAFT_HEARTBEAT_MS';

function send(message: WorkerMessage): void {
  if (process.connected) process.send?.(message); // once the supervisor is gone there is no one to tell
}

/**
 * Starts the heartbeat (every `CANDLECRAFT_HEARTBEAT_MS`, default 1,000 ms) and says `ready`. The timer is unref'd:
 * it never keeps the process alive by itself.
 */
export function startWorker(): void {
  const interval = Number(process.env[HEARTBEAT_ENV] ?? 1_000);
  send({ type: 'ready' });
  send({ type: 'heartbeat' });
  setInterval(() => send({ type: 'heartbeat' }), interval).unref();
}

/** Reports that the plugin failed to load, then exits with code 3 (the supervisor does not retry it). */
export function failToLoad(message: string): never {
  send({ type: 'load_failed', message });
  process.exit(3);
}

/** Calls `handler` when the supervisor asks the worker to stop (it should finish its candle, flush and exit). */
export function onStopRequest(handler: () => void): void {
  process.on('message', (message: SupervisorMessage) => {
    if (message.type === 'stop') handler();
  });
}

/** This worker's end of the node's in-process bus, over the IPC channel (see {@link "bus/ipc"!IpcBusClient | IpcBusClient}). */
export function processBusChannel(): IpcChannel {
  return {
    send: (frame) => send({ type: 'bus', frame }),
    onFrame: (listener) => {
      process.on('message', (message: SupervisorMessage) => {
        if (message.type === 'bus') listener(message.frame);
      });
    },
  };
}
