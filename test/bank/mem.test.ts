/** The bank conformance suite on the mem backend (src/bank/mem, kept by the repo work), so it keeps the same contract as fs. */
import { memBackend } from '../../src/bank/index.js';
import { runBankSuite } from '../../src/bank/testing.js';

runBankSuite('mem', async () => memBackend(), { largeBytes: 4 * 1024 * 1024 });
