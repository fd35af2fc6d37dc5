import { afterAll } from 'vitest';

import { closeAll } from './resources.js';

// A server, pool or child process left open by a test file fails that file.
afterAll(async () => {
  const leaked = await closeAll();
  if (leaked.length > 0) throw new Error(`left open by this test file: ${leaked.join(', ')}`);
});
