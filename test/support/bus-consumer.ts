/**
 * A consumer in its own process, for tests that kill it before it acknowledges: connects to the RabbitMQ bus at
 * argv[2], consumes queue argv[3] bound to topic argv[4], prints `got <JSON body>` for the first message and then never
 * finishes handling it (the test SIGKILLs the process).
 */
import { AmqpBus } from '../../framework/bus/amqp';

const [url, queue, topic] = process.argv.slice(2) as [string, string, string];
const bus = await AmqpBus.connect(url);
await bus.consume({ queue, topics: [topic] }, async (message) => {
  process.stdout.write(`got ${JSON.stringify(message.body)}\n`);
  await new Promise(() => undefined);
});
process.stdout.write('ready\n');
