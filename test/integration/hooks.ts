/** Root hooks of the integration suite: the shared dev server stops once every file has run. */
import { stopServer } from './harness';

export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopServer();
  },
};
