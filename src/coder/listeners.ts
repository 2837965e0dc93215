// A typed list of listeners: the echo channels' onData/onClose and similar one-event hooks.
export class Listeners<Args extends unknown[]> {
  private readonly list: Array<(...args: Args) => void> = [];

  add(listener: (...args: Args) => void): void {
    this.list.push(listener);
  }

  emit(...args: Args): void {
    for (const listener of this.list) listener(...args);
  }
}
