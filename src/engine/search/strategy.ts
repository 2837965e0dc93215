// Which user count a capacity search tries next: grow from `from` (doubling, or adding `step`)
// up to `to` until a step fails, then bisect between the last pass and the first fail until
// they are at most `resolution` apart. Pure: told each step's outcome, it holds no run.
import type { SearchSettings } from './schema';

export class SearchStrategy {
  lastPass?: number;
  firstFail?: number;
  phase: 'grow' | 'bisect' = 'grow';
  private current?: number;

  constructor(private readonly settings: SearchSettings) {}

  /** The next user count to try, or undefined when the search is over. */
  next(): number | undefined {
    const { from, to, resolution } = this.settings;
    if (this.firstFail === undefined) {
      // Growing: every step so far passed.
      if (this.lastPass === undefined) return (this.current = from);
      if (this.lastPass >= to) return (this.current = undefined);
      return (this.current = Math.min(to, this.grow(this.lastPass)));
    }
    this.phase = 'bisect';
    // Below `from` nothing is tried: the plan's lower bound is where the search starts.
    const low = this.lastPass;
    if (low === undefined || this.firstFail - low <= resolution) return (this.current = undefined);
    return (this.current = Math.floor((low + this.firstFail) / 2));
  }

  /** The outcome of the step at the count next() gave. */
  record(passed: boolean): void {
    const users = this.current;
    if (users === undefined) throw new Error('SearchStrategy.record() without a step: call next() first');
    if (passed) this.lastPass = Math.max(this.lastPass ?? 0, users);
    else this.firstFail = Math.min(this.firstFail ?? Infinity, users);
    this.current = undefined;
  }

  private grow(users: number): number {
    return this.settings.step === 'double' ? users * 2 : users + this.settings.step;
  }
}
