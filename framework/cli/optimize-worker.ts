/**
 * `npm run optimize-worker -- --bus amqp://…`: runs the trials of `npm run optimize -- --bus amqp://…` searches, on
 * this machine's copy of the candles (`--datasets`, read once per search), one at a time, until Ctrl-C or SIGTERM.
 * Start one per core, on as many machines as wanted.
 *
 * @module
 */
import { Command } from 'commander';
import { createLogger } from '../core/logger';
import { serveTrials } from '../optimize/amqp-trials';
import { logLevel, runCommand, withCommonOptions, type CommonOptions } from './common';

interface WorkerCliOptions extends CommonOptions {
  readonly bus: string;
}

const program = withCommonOptions(
  new Command('optimize-worker')
    .description('Run npm run optimize trials published on RabbitMQ, one at a time, until stopped')
    .requiredOption('--bus <url>', 'RabbitMQ URL, e.g. amqp://guest:guest@127.0.0.1:5672'),
);

program.action(async (options: WorkerCliOptions) => {
  await runCommand(options.verbose === true, async () => {
    const logger = createLogger(logLevel(options));
    const worker = await serveTrials(options.bus, (trial) => logger.debug({ trial }, 'trial done'));
    logger.info(`waiting for trials on ${options.bus.replace(/\/\/[^@]*@/, '//')}`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await worker.close();
    logger.info({ trials: worker.done() }, 'stopped');
  });
});

await program.parseAsync();
