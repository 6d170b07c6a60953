// Which model file `analyze` and `verify` run, now that naming one is optional: `--model FILE`; else a first argument
// ending in .pae (the older `paenet analyze MODEL PHOTO...` form keeps working); else the shipped model. The rule
// looks at the name only, so a photo is never mistaken for a model and a model needs no sniffing.
import { PaenetError } from '../common/errors.ts';
import { requireDefaultModel } from '../serve/default-model.ts';

/** The help line of `--model` on every command that can run the shipped model. */
export const MODEL_OPTION_HELP = 'model file (*.pae) (default: the shipped models/paenet-face.pae)';

const isModelFile = (arg: string | undefined): arg is string => arg !== undefined && /\.pae$/i.test(arg);

/** The model named by `--model` or by an argument, never both (undefined: neither, so the shipped one). */
export function modelNamed(option: string | undefined, argument: string | undefined): string | undefined {
  if (option !== undefined && argument !== undefined)
    throw new PaenetError('PAENET_INPUT', `--model ${option} and the argument ${argument}: name the model once`);
  return option ?? argument;
}

/** The model file and the remaining arguments; one line when the model is named twice or the shipped one is missing. */
export function chooseModel(option: string | undefined, args: readonly string[]): { file: string; rest: string[] } {
  const [first, ...others] = args;
  const inArgs = isModelFile(first);
  const file = modelNamed(option, inArgs ? first : undefined) ?? requireDefaultModel();
  return { file, rest: inArgs ? others : [...args] };
}
