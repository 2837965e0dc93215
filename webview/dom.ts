// Tiny DOM builder: every text goes through textContent, so plan names, error messages and
// URLs from a snapshot can never inject markup.
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined) element.setAttribute(name, value);
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** Replaces the children of `parent`. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`dashboard element #${id} is missing`);
  return element as T;
}

/** A wide panel `#NAME-panel` titled `title` around an empty `#NAME`, hidden until it has something to show. */
export function hiddenPanel(name: string, title: string): HTMLElement {
  return h(
    'section',
    { id: `${name}-panel`, class: 'panel wide', 'aria-labelledby': `${name}-heading`, hidden: '' },
    h('h2', { id: `${name}-heading` }, title),
    h('div', { id: name }),
  );
}

/** A table whose first cell per row is its header; cells from `numericFrom` on are numbers. */
export function table(caption: string, headers: string[], rows: (string | HTMLElement)[][], numericFrom = 1): HTMLElement {
  return h(
    'table',
    {},
    h('caption', { class: 'visually-hidden' }, caption),
    h(
      'thead',
      {},
      h('tr', {}, ...headers.map((header, i) => h('th', { scope: 'col', class: i >= numericFrom ? 'num' : undefined }, header))),
    ),
    h(
      'tbody',
      {},
      ...rows.map((row) =>
        h(
          'tr',
          {},
          ...row.map((cell, i) =>
            i === 0 ? h('th', { scope: 'row' }, cell) : h('td', { class: i >= numericFrom ? 'num' : undefined }, cell),
          ),
        ),
      ),
    ),
  );
}
