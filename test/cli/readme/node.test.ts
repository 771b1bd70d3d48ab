/** README.md's trading-node command and the diff of one of its runs, as written, in README order (test/support/readme.ts). */
import { runReadmeGroup } from '../../support/readme';

runReadmeGroup('node');
