/** Mocha root setup: keep the Temporal runtime's own logging to warnings during tests. */
import { DefaultLogger, Runtime } from '@temporalio/worker';

Runtime.install({ logger: new DefaultLogger('WARN') });
