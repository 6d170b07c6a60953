// paenet's one error class: a stable code the CLI and the HTTP service map to an exit code and a status (never by
// reading the message), a one-line message naming the file or thing at fault, and a hint saying how to fix it.

/** What each code means, the HTTP status and CLI exit code it maps to, and the hint used when a site gives none. */
const CODES = {
  /** A bug or an environment failure, not the caller's fault (every error that is not a PaenetError). */
  PAENET_INTERNAL: {
    status: 500,
    exit: 1,
    hint: 'this is a paenet bug or an environment problem: rerun with PAENET_DEBUG=1 for the stack',
  },
  /** An argument, option or request field has a bad value: an unknown task name, an empty upload, a missing form part. */
  PAENET_INPUT: { status: 400, exit: 2, hint: 'check the command line or request against `paenet --help` / the README' },
  /** A file, folder or route the caller named does not exist. */
  PAENET_NOT_FOUND: { status: 404, exit: 3, hint: 'check the path (relative paths start at the current folder)' },
  /** A model file exists but is not a valid paenet model: truncated, corrupt, modified or inconsistent. */
  PAENET_MODEL_FILE: { status: 500, exit: 4, hint: 'restore the file from a copy, or rebuild it with `paenet init` and `paenet add-task`' },
  /** A data file (manifest, pairs list, class folders) is malformed or does not fit the task. */
  PAENET_DATA: { status: 422, exit: 5, hint: 'fix the file where the message points (the README\'s "Data" part gives the formats)' },
  /** An image cannot be used: empty, truncated, undecodable, too many pixels, or no face in it. */
  PAENET_IMAGE: { status: 422, exit: 6, hint: 'send a JPEG, PNG or WebP photo under 50 megapixels with a visible face' },
  /** Understood, but this paenet or this model cannot do it: a newer model format, a model without the task kind asked for. */
  PAENET_UNSUPPORTED: { status: 422, exit: 7, hint: 'use a paenet version or a model that has what is asked for (`paenet info MODEL`)' },
  /** An upload's content type is not one the service takes. */
  PAENET_MEDIA_TYPE: { status: 415, exit: 8, hint: 'send image/* bytes as the body, JSON base64, or a multipart/form-data form' },
  /** A request body or an uploaded part is over the size limit. */
  PAENET_TOO_LARGE: {
    status: 413,
    exit: 9,
    hint: 'send a smaller image (downscale or recompress it), or raise `paenet serve --body-limit`',
  },
  /** The service's queue is full. */
  PAENET_BUSY: { status: 503, exit: 10, hint: 'retry in a moment, or raise `paenet serve --queue`' },
} as const satisfies Record<string, { status: number; exit: number; hint: string }>;

export type PaenetErrorCode = keyof typeof CODES;

/** Every code, for documentation and tests. */
export const ERROR_CODES = Object.keys(CODES) as PaenetErrorCode[];

/** An error the caller can act on: `code` is stable across versions, `message` is one line, `hint` says how to fix it. */
export class PaenetError extends Error {
  override readonly name = 'PaenetError';
  readonly hint: string;

  constructor(
    readonly code: PaenetErrorCode,
    message: string,
    hint?: string,
  ) {
    // One line: whatever a cause's message carried after its first line is a stack or a dump, not a message.
    super(message.split('\n')[0]);
    this.hint = hint ?? CODES[code].hint;
  }
}

/** The code of any thrown value: a PaenetError's own, PAENET_INTERNAL for everything else. */
export function errorCode(e: unknown): PaenetErrorCode {
  return e instanceof PaenetError ? e.code : 'PAENET_INTERNAL';
}

/** The HTTP status a code is answered with. */
export function httpStatus(code: PaenetErrorCode): number {
  return CODES[code].status;
}

/** The process exit code the CLI ends with for a code (2 is also commander's usage error). */
export function exitCode(code: PaenetErrorCode): number {
  return CODES[code].exit;
}

/** The hint used for a code when the throw site gives none. */
export function defaultHint(code: PaenetErrorCode): string {
  return CODES[code].hint;
}
