/** README.md's optimize commands, as written, in README order (test/support/readme.ts). */
import { runReadmeGroup } from '../../support/readme';

runReadmeGroup('optimize');
