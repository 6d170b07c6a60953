// Errors whose cause is the caller's input (an undecodable or oversized image, no face, an unknown task): the CLI
// prints them as one line, the HTTP service answers them with 422 instead of a server error.

export class InputError extends Error {}
