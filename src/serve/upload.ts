// The images of a request, in each form people send them: the raw body (image/*), JSON with base64 fields, or a
// multipart/form-data form (a browser form, `curl -F photo=@a.jpg`). Every form gets the same size limit and errors.
import type { FastifyRequest } from 'fastify';
import { PaenetError } from '../common/errors.ts';

/** Content types taken as image bytes (the raw body, or a form part). */
export const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/tiff', 'image/avif', 'application/octet-stream'];

/** Text fields a form may carry besides its images are small: anything longer is not a task name. */
const MAX_FIELD_BYTES = 4096;

/** POST /v1/analyze's photo: the request body with an image/* type, or the form part `photo`. */
export async function readPhoto(req: FastifyRequest, limit: number): Promise<Buffer> {
  if (req.isMultipart()) return (await readForm(req, ['photo'], limit)).images.get('photo')!;
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim();
  if (!IMAGE_TYPES.includes(type))
    throw new PaenetError(
      'PAENET_MEDIA_TYPE',
      `send the image as the request body with an image/* content type, or as the form part 'photo' (got '${type || 'none'}')`,
    );
  const body = req.body as Buffer;
  if (!body?.length) throw new PaenetError('PAENET_INPUT', 'empty body: send the image bytes');
  return body;
}

/** POST /v1/verify's two photos and optional task: JSON {"a", "b", "task"} (base64 images), or form parts a, b, task. */
export async function readPair(req: FastifyRequest, limit: number): Promise<{ a: Buffer; b: Buffer; task?: string }> {
  if (req.isMultipart()) {
    const { images, fields } = await readForm(req, ['a', 'b'], limit);
    return { a: images.get('a')!, b: images.get('b')!, task: fields.get('task') };
  }
  const { a, b, task } = (req.body ?? {}) as { a?: unknown; b?: unknown; task?: unknown };
  if (typeof a !== 'string' || typeof b !== 'string')
    throw new PaenetError(
      'PAENET_INPUT',
      'send JSON {"a": base64 image, "b": base64 image}, or a form with the image parts a and b',
      'e.g. curl -F a=@one.jpg -F b=@two.jpg URL/v1/verify',
    );
  return { a: Buffer.from(a, 'base64'), b: Buffer.from(b, 'base64'), task: typeof task === 'string' ? task : undefined };
}

/**
 * The image parts named `names` of a multipart form (each one required, non-empty, of an image type) and its text
 * fields. Parts of other names are read past and ignored, as a browser form sends its buttons too. The images
 * together stay within `limit` bytes, the same limit as a raw body.
 */
async function readForm(
  req: FastifyRequest,
  names: readonly string[],
  limit: number,
): Promise<{ images: Map<string, Buffer>; fields: Map<string, string> }> {
  const images = new Map<string, Buffer>();
  const fields = new Map<string, string>();
  const others: string[] = [];
  let total = 0;
  // @fastify/multipart bounds each part (fileSize, 413) but not the request: the running total does that.
  for await (const part of req.parts({ limits: { fileSize: limit, fieldSize: MAX_FIELD_BYTES, fields: 16, files: 8, parts: 24 } })) {
    if (part.type === 'field') {
      if (typeof part.value === 'string') fields.set(part.fieldname, part.value);
      continue;
    }
    if (!names.includes(part.fieldname) || images.has(part.fieldname)) {
      others.push(part.fieldname);
      part.file.resume(); // the parts iterator waits until every file stream has been read
      continue;
    }
    const type = part.mimetype.split(';')[0]!.trim();
    if (!IMAGE_TYPES.includes(type))
      throw new PaenetError('PAENET_MEDIA_TYPE', `form part '${part.fieldname}' is '${type}', not an image type`);
    const bytes = await part.toBuffer();
    total += bytes.length;
    if (total > limit) throw new PaenetError('PAENET_TOO_LARGE', `form too large: its images exceed the ${limit}-byte limit`);
    if (bytes.length === 0) throw new PaenetError('PAENET_INPUT', `form part '${part.fieldname}' is empty: attach the image file`);
    images.set(part.fieldname, bytes);
  }
  const missing = names.filter((n) => !images.has(n));
  if (missing.length)
    throw new PaenetError(
      'PAENET_INPUT',
      `form has no image part ${missing.map((n) => `'${n}'`).join(', ')} (file parts sent: ${others.join(', ') || 'none'})`,
      `attach the image as ${names.map((n) => `-F ${n}=@photo.jpg`).join(' ')}`,
    );
  return { images, fields };
}
