/** Real orders on the trading node (see node-real-orders-scenario.ts) on the default in-process bus. */
import { describeRealOrdersNode } from './node-real-orders-scenario';

describeRealOrdersNode('in-process bus', () => []);
