// One run of echoLoad.ts — the engine's or the floor's — in a process of its own, started by
// scripts/bench/main.ts (isolatedRun): no earlier run's heap, garbage, young-generation size or
// JIT state lies under its figures, as an independent measurement in a fresh process would have
// it. Reads `{ target, options, probe }` as JSON from its argument, prints its figures as one
// JSON line on stdout.
import { type LoadFigures, type LoadOptions, runEngine, runFloor, type Target } from './echoLoad';
import { startMachineProbe } from './machineProbe';

export interface IsolatedRunRequest {
  target: Target;
  options: LoadOptions;
  /** Measure the machine's own timer lateness over the window (machineProbe.ts). */
  probe?: boolean;
}

export type IsolatedRunFigures = LoadFigures & { machineLagP99Ms?: number };

async function main(): Promise<void> {
  const { target, options, probe: wantsProbe } = JSON.parse(process.argv[2]) as IsolatedRunRequest;
  const probe = wantsProbe ? startMachineProbe() : undefined;
  let machineLag: Promise<number> | undefined;
  const window = probe ? { start: () => probe.reset(), end: () => (machineLag = probe.read()) } : undefined;
  const run = options.floor ? runFloor : runEngine;
  try {
    // A fresh process loads and compiles what a run uses, and sizes its heap to the traffic, on
    // its first connections: the same run, briefly, first, so the memory figures count
    // connections, not start-up.
    if (!options.skipMemory) {
      await run(target, { ...options, seconds: 1, skipMemory: true });
      // Its connections finish closing (the floor's do not wait for that) before the real run's
      // "before" figure.
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const figures: IsolatedRunFigures = await run(target, { ...options, window });
    if (machineLag) figures.machineLagP99Ms = await machineLag;
    process.stdout.write(JSON.stringify(figures) + '\n');
  } finally {
    probe?.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
