/** The trading node's acceptance scenario (see node-scenario.ts) on the default in-process bus. */
import { describeNode } from './node-scenario';

describeNode('in-process bus', () => []);
