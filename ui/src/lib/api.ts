/**
 * The backend, seen from the UI: the shell's commands (`Commands`, generated from
 * `src-tauri/src/surface.rs`) and its two event streams.
 *
 * This is the only module that touches `invoke`, `listen` or `Channel`. Stores receive a
 * `Backend` (this one in the app, a fake in tests), so they never depend on Tauri.
 */
import { Channel, invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { commandClient, type Commands, type Invoke, type OpenChannel } from './bindings/Commands';
import type { CoreEvent, ShellEvent } from './contract';
import { toUiError } from './errors';

export { toUiError, type UiError } from './errors';

/** Stops a subscription. */
export type Unsubscribe = () => void;

/** Everything the UI asks of the backend. Every method rejects with a `UiError`. */
export interface Backend extends Commands {
  /** Subscribes to the core's events (`core-event`). */
  onCoreEvent(handler: (event: CoreEvent) => void): Promise<Unsubscribe>;
  /** Subscribes to the shell's events (`shell-event`). */
  onShellEvent(handler: (event: ShellEvent) => void): Promise<Unsubscribe>;
}

/** Calls a shell command; a failure becomes a `UiError`. */
const call: Invoke = async (command, args) => {
  try {
    return await invoke(command, args);
  } catch (error) {
    throw toUiError(error);
  }
};

const channel: OpenChannel = (handler) => {
  const updates = new Channel<Parameters<typeof handler>[0]>();
  updates.onmessage = handler;
  return updates;
};

/** The real backend: the Tauri shell. */
export const tauriBackend: Backend = {
  ...commandClient(call, channel),
  onCoreEvent: (handler) => listen<CoreEvent>('core-event', (event) => handler(event.payload)),
  onShellEvent: (handler) => listen<ShellEvent>('shell-event', (event) => handler(event.payload)),
};
