// The continual-learning methods by id: what experiment configs name, the experiment runs and reports title.
import { finetune } from './finetune.ts';
import { individual } from './individual.ts';
import type { Method, MethodId } from './method.ts';
import { packnet } from './packnet.ts';
import { pae } from './pae.ts';
import { progressive } from './progressive.ts';

export { METHOD_IDS, type Method, type MethodId, type MethodOptions } from './method.ts';

/** Every method by its id. */
export const METHODS: Readonly<Record<MethodId, Method>> = { pae, individual, packnet, finetune, progressive };
