// Charts for reports: a vega-lite spec compiled by vega-lite, rendered headless by vega to SVG, rasterised by sharp.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import sharp from 'sharp';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export type { TopLevelSpec as ChartSpec } from 'vega-lite';

/** The chart as SVG text (no DOM, no canvas: vega's headless renderer). */
export async function chartSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Writes `<base>.svg` and `<base>.png` (2× for sharp text); returns both paths. */
export async function writeChart(spec: TopLevelSpec, base: string): Promise<{ svg: string; png: string }> {
  const svg = await chartSvg(spec);
  mkdirSync(dirname(base), { recursive: true });
  writeFileSync(`${base}.svg`, svg);
  await sharp(Buffer.from(svg), { density: 144 }).png().toFile(`${base}.png`);
  return { svg: `${base}.svg`, png: `${base}.png` };
}
