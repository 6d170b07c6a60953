// A miniature experiment from the pretrained start: face-api's recognition net is task 1 (pruned by distillation,
// its unpruned self is the individual network), then a gender task packs into the freed weights. The report's
// facts are the run's own: PAE's BWT is exactly 0 and task 1's row never changes.
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runExperiment, validateExperiment, type ExperimentConfig } from '../../src/workflows/index.ts';
import { experimentMarkdown } from '../../src/report/markdown.ts';
import { loadModel } from '../../src/pae/index.ts';
import { DATA, needData, tempDir } from '../data/fixtures.ts';

const PROVENANCE = { paenetVersion: 'test', torchVersion: 'test', created: '2026-01-01T00:00:00Z' };
const dir = tempDir('exp-pretrained');
after(() => rmSync(dir, { recursive: true, force: true }));

test('a pretrained first task is pruned by distillation; later tasks pack into its freed weights; BWT is 0', async () => {
  needData('celeba-identity');
  needData('utkface-agegender');
  const cfg = validateExperiment(
    {
      name: 'mini pretrained exp1',
      arch: 'dlib-resnet',
      output: dir,
      tasks: [
        {
          name: 'face',
          kind: 'identity',
          pretrained: 'face-api-recognition',
          data: join(DATA, 'celeba-identity/manifest.csv'),
          pairs: join(DATA, 'orl-faces/pairs.txt'),
        },
        { name: 'gender', kind: 'classify', data: join(DATA, 'utkface-agegender/manifest.csv'), label: 'gender' },
      ],
      train: { epochs: 1 },
      prune: { ratios: [0.5], epochsPerStep: 1 },
      limit: { train: 64, val: 48 },
      goalMargin: 0.3,
      maxExpansions: 0,
      batchSize: 16,
    } satisfies ExperimentConfig,
    'mini.json',
  );
  const r = await runExperiment(cfg, PROVENANCE);
  const [face, gender] = r.tasks;
  assert.ok(face && gender);
  assert.equal(face.individual, face.trained, "the pretrained task's individual network is its unpruned self");
  assert.ok(face.individual > 0.7, `the imported net verifies ORL faces (${face.individual})`);
  assert.equal(face.ratio, 0.5, 'a goal 0.3 below the unpruned accuracy lets the single ratio through');
  assert.ok(gender.moduleBytes > 0);
  assert.equal(r.accuracyMatrix[0]![0], r.accuracyMatrix[1]![0], 'packing gender leaves the face task bit-identical');
  assert.equal(r.bwt, 0);
  assert.equal(r.ledger.totalWeights, 5_603_936, 'no expansion allowed');
  assert.ok(existsSync(join(dir, 'model.pae')));
  const model = loadModel(join(dir, 'model.pae'));
  try {
    assert.equal(model.task('face').frozenNorm, true);
    assert.equal((model.task('face').extra.pretrained as { package: string }).package, '@vladmandic/face-api');
  } finally {
    model.dispose();
  }
  const md = experimentMarkdown(r, { commit: 'x', machine: 'y', date: 'z' });
  assert.match(md, /\| face \| verification-accuracy \|/);
  assert.match(md, /### PAE \(this project\): BWT 0 \(exact\)/);
});

test('a pretrained task must come first, be an identity task, on the matching backbone', () => {
  const base = { name: 'x', arch: 'dlib-resnet', output: dir };
  const face = { name: 'face', kind: 'identity', data: 'm.csv', pretrained: 'face-api-recognition' };
  const gender = { name: 'g', kind: 'classify', data: 'm.csv' };
  assert.throws(() => validateExperiment({ ...base, tasks: [gender, face] }, 'e.json'), /^Error: e\.json: tasks\[1\]: only the first task/);
  assert.throws(() => validateExperiment({ ...base, arch: 'tiny', tasks: [face] }, 'e.json'), /e\.json: .*dlib-resnet/);
  assert.throws(() => validateExperiment({ ...base, tasks: [{ ...face, pretrained: 'facenet' }] }, 'e.json'), /'facenet' is unknown/);
});
