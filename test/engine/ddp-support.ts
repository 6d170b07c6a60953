// Shared by the data-parallel tests: whether this build can run them, and a free rendezvous port.
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { distributedAvailable } from '../../src/engine/index.ts';

/**
 * Gloo is optional at build time: an addon built where its headers are missing cannot run these tests (skipped,
 * with the reason). Where the headers exist the addon must have it, so a broken build fails instead of skipping.
 */
export const glooSkip: string | false =
  !distributedAvailable() &&
  !['/usr/include', process.env.LIBTORCH ? `${process.env.LIBTORCH}/include` : ''].some((d) => d && existsSync(`${d}/gloo/config.h`))
    ? 'the addon was built without gloo headers (apt-get install libgloo-dev, then npm run build:native)'
    : false;

/** A port free on loopback now, for rank 0's rendezvous store. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
