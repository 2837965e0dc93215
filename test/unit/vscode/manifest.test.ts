// The extension manifest agrees with the code: one list of command ids, menus that name only
// real commands, and files the manifest points at that exist.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { COMMAND_IDS } from '../../../src/vscode/commandIds';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const contributes = manifest.contributes;

describe('vscode manifest', () => {
  it('contributes exactly the commands the code registers, all in one category', () => {
    const contributed = contributes.commands.map((command: { command: string }) => command.command);
    assert.deepStrictEqual([...contributed].sort(), [...COMMAND_IDS].sort());
    for (const command of contributes.commands) assert.strictEqual(command.category, 'Coder Scale Test', command.command);
    const dashboard = contributes.commands.find((command: { command: string }) => command.command === 'coderScaletest.showDashboard');
    assert.strictEqual(dashboard.title, 'Open Dashboard');
  });

  it('names only contributed commands in menus and welcome buttons', () => {
    const known = new Set<string>(COMMAND_IDS);
    for (const [menu, entries] of Object.entries(contributes.menus as Record<string, { command: string }[]>)) {
      for (const entry of entries) assert.ok(known.has(entry.command), `${menu} names unknown command ${entry.command}`);
    }
    const linked = [...JSON.stringify([contributes.viewsWelcome, contributes.walkthroughs]).matchAll(/command:(coderScaletest\.\w+)/g)].map(
      (m) => m[1],
    );
    assert.ok(linked.length > 5);
    for (const command of linked) assert.ok(known.has(command), `a link names unknown command ${command}`);
  });

  it('points at files that exist (icons, walkthrough pages, plan schema)', () => {
    const files = [
      manifest.icon,
      ...contributes.viewsContainers.activitybar.map((container: { icon: string }) => container.icon),
      ...contributes.walkthroughs.flatMap((walkthrough: { steps: { media: { markdown: string } }[] }) =>
        walkthrough.steps.map((step) => step.media.markdown),
      ),
      ...contributes.jsonValidation.map((validation: { url: string }) => validation.url),
    ];
    for (const file of files) assert.ok(fs.existsSync(path.join(ROOT, file)), `${file} is missing`);
    assert.deepStrictEqual(contributes.jsonValidation[0].fileMatch, '*.scaletest.json');
  });

  it('keeps the schema and media in the packaged extension', () => {
    const lines = fs
      .readFileSync(path.join(ROOT, '.vscodeignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim());
    for (const needed of ['schemas', 'media']) {
      assert.ok(
        !lines.some((line) => line === needed || line.startsWith(`${needed}/`) || line.startsWith(`**/${needed}`)),
        `.vscodeignore excludes ${needed}/`,
      );
    }
  });
});
