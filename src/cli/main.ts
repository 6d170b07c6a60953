// The paenet command line entry point: one model file, many facial-analysis tasks packed into it.
import { main } from './program.ts';

await main();
