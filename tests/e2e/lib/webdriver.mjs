// A minimal W3C WebDriver client over fetch: just what the end-to-end tests use.
// Spec: https://www.w3.org/TR/webdriver2/ (element references are keyed by ELEMENT_KEY).

export const ELEMENT_KEY = 'element-6066-11e4-a52e-4f735466cecf';

/** Keys for `Element.type` / `Session.keys` (W3C "normalised key values"). */
export const Key = Object.freeze({
  Enter: '\uE007',
  Tab: '\uE004',
  Escape: '\uE00C',
  Backspace: '\uE003',
  Control: '\uE009',
  Shift: '\uE008',
  PageUp: '\uE00E',
  PageDown: '\uE00F',
});

export class WebDriverError extends Error {
  constructor(method, path, status, value) {
    super(`${method} ${path} -> ${status} ${value?.error ?? ''}: ${value?.message ?? JSON.stringify(value)}`);
    this.status = status;
    this.code = value?.error;
  }
}

/** No WebDriver command may take longer than this (ms); a hung command fails instead. */
export const COMMAND_TIMEOUT = Number(process.env.CHARLA_E2E_COMMAND_TIMEOUT_MS ?? 60000);

async function call(base, method, path, body) {
  const response = await fetch(base + path, {
    method,
    signal: AbortSignal.timeout(COMMAND_TIMEOUT),
    headers: body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new WebDriverError(method, path, response.status, { message: text.slice(0, 500) });
  }
  if (!response.ok || (json.value && typeof json.value === 'object' && 'error' in json.value && json.value.error)) {
    throw new WebDriverError(method, path, response.status, json.value);
  }
  return json.value;
}

/** Whether the driver at `base` answers `/status` with ready. */
export async function driverReady(base) {
  try {
    const value = await call(base, 'GET', '/status');
    return value?.ready !== false;
  } catch {
    return false;
  }
}

export class Session {
  /** Opens a session; `capabilities` go into `alwaysMatch`. */
  static async create(base, capabilities) {
    const value = await call(base, 'POST', '/session', { capabilities: { alwaysMatch: capabilities } });
    return new Session(base, value.sessionId, value.capabilities);
  }

  constructor(base, id, capabilities) {
    this.base = base;
    this.id = id;
    this.capabilities = capabilities;
  }

  cmd(method, path, body) {
    return call(this.base, method, `/session/${this.id}${path}`, body);
  }

  async delete() {
    await call(this.base, 'DELETE', `/session/${this.id}`);
  }

  title() {
    return this.cmd('GET', '/title');
  }

  /** Runs `script` (a function body; `arguments` holds `args`) in the page; returns its value. */
  execute(script, ...args) {
    return this.cmd('POST', '/execute/sync', { script, args: args.map(toWire) }).then(fromWire(this));
  }

  /** Like `execute`, but the body must call `arguments[arguments.length - 1](result)`. */
  executeAsync(script, ...args) {
    return this.cmd('POST', '/execute/async', { script, args: args.map(toWire) }).then(fromWire(this));
  }

  async find(css) {
    const value = await this.cmd('POST', '/element', { using: 'css selector', value: css });
    return new Element(this, value[ELEMENT_KEY]);
  }

  async findAll(css) {
    const values = await this.cmd('POST', '/elements', { using: 'css selector', value: css });
    return values.map((v) => new Element(this, v[ELEMENT_KEY]));
  }

  async screenshot() {
    return Buffer.from(await this.cmd('GET', '/screenshot'), 'base64');
  }

  setTimeouts(timeouts) {
    return this.cmd('POST', '/timeouts', timeouts);
  }

  windowRect() {
    return this.cmd('GET', '/window/rect');
  }

  setWindowRect(rect) {
    return this.cmd('POST', '/window/rect', rect);
  }

  /** The handles of every window (browsing context) the session can see. */
  windowHandles() {
    return this.cmd('GET', '/window/handles');
  }

  /** The handle of the window commands go to. */
  windowHandle() {
    return this.cmd('GET', '/window');
  }

  /** Sends later commands to the window `handle`. */
  switchToWindow(handle) {
    return this.cmd('POST', '/window', { handle });
  }

  /**
   * Presses `key` while holding `modifiers` (e.g. chord([Key.Control], 'k')) on whatever has
   * focus, then releases everything.
   */
  async chord(modifiers, key) {
    const actions = [
      ...modifiers.map((m) => ({ type: 'keyDown', value: m })),
      { type: 'keyDown', value: key },
      { type: 'keyUp', value: key },
      ...[...modifiers].reverse().map((m) => ({ type: 'keyUp', value: m })),
    ];
    await this.cmd('POST', '/actions', { actions: [{ type: 'key', id: 'keyboard', actions }] });
    await this.cmd('DELETE', '/actions');
  }

  /**
   * Presses and releases mouse `button` (0 left, 1 middle, 2 right) over the centre of `element`,
   * moved by `x`, `y` px, with real pointer events (a right button gives a `contextmenu`).
   */
  async pointerClick(element, { button = 0, x = 0, y = 0 } = {}) {
    const actions = [
      { type: 'pointerMove', duration: 0, origin: { [ELEMENT_KEY]: element.id }, x, y },
      { type: 'pointerDown', button },
      { type: 'pointerUp', button },
    ];
    await this.cmd('POST', '/actions', {
      actions: [{ type: 'pointer', id: 'mouse', parameters: { pointerType: 'mouse' }, actions }],
    });
    await this.cmd('DELETE', '/actions');
  }

  /** Types `text` into whatever has focus (key down/up per character). */
  keys(text) {
    const actions = [];
    for (const ch of text) actions.push({ type: 'keyDown', value: ch }, { type: 'keyUp', value: ch });
    return this.cmd('POST', '/actions', { actions: [{ type: 'key', id: 'keyboard', actions }] });
  }
}

export class Element {
  constructor(session, id) {
    this.session = session;
    this.id = id;
  }

  cmd(method, path, body) {
    return this.session.cmd(method, `/element/${this.id}${path}`, body);
  }

  click() {
    return this.cmd('POST', '/click', {});
  }

  clear() {
    return this.cmd('POST', '/clear', {});
  }

  /** Sends key strokes to the element (focusing it first). */
  type(text) {
    return this.cmd('POST', '/value', { text });
  }

  text() {
    return this.cmd('GET', '/text');
  }

  attribute(name) {
    return this.cmd('GET', `/attribute/${encodeURIComponent(name)}`);
  }

  property(name) {
    return this.cmd('GET', `/property/${encodeURIComponent(name)}`);
  }

  displayed() {
    return this.cmd('GET', '/displayed');
  }

  async find(css) {
    const value = await this.cmd('POST', '/element', { using: 'css selector', value: css });
    return new Element(this.session, value[ELEMENT_KEY]);
  }

  async findAll(css) {
    const values = await this.cmd('POST', '/elements', { using: 'css selector', value: css });
    return values.map((v) => new Element(this.session, v[ELEMENT_KEY]));
  }

  async screenshot() {
    return Buffer.from(await this.cmd('GET', '/screenshot'), 'base64');
  }
}

function toWire(arg) {
  return arg instanceof Element ? { [ELEMENT_KEY]: arg.id } : arg;
}

function fromWire(session) {
  const convert = (value) => {
    if (Array.isArray(value)) return value.map(convert);
    if (value && typeof value === 'object') {
      if (ELEMENT_KEY in value) return new Element(session, value[ELEMENT_KEY]);
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, convert(v)]));
    }
    return value;
  };
  return convert;
}
