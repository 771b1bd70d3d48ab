/** README.md's live, simulator, diff and check commands, as written, in README order (test/support/readme.ts). */
import { runReadmeGroup } from '../../support/readme';

runReadmeGroup('live');
