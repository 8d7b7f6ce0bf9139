/** The shell's settings (close to tray, notifications, kept accounts). */
import type { Backend } from '$lib/api';
import { toUiError } from '$lib/errors';
import type { Settings } from '$lib/contract';
import type { NoticeStore } from './notices.svelte';

export class SettingsStore {
  value = $state.raw<Settings>({
    close_to_tray: false,
    notifications: true,
    notify_strangers: false,
    read_markers: true,
    accounts: [],
    auto_away: { away_after_secs: 300, xa_after_secs: 1200 },
    recent_statuses: [],
    room_notify: [],
    forgotten_rooms: [],
  });
  readonly #backend: Backend;
  readonly #notices: NoticeStore;

  constructor(backend: Backend, notices: NoticeStore) {
    this.#backend = backend;
    this.#notices = notices;
  }

  load(settings: Settings): void {
    this.value = settings;
  }

  /** Takes the recent status messages as the shell now has them (it saved them already). */
  recentStatuses(statuses: string[]): void {
    this.value = { ...this.value, recent_statuses: statuses };
  }

  /** Applies a change at once and saves it; puts the old value back if saving fails. */
  async update(patch: Partial<Settings>): Promise<void> {
    const before = this.value;
    const next = { ...before, ...patch };
    this.value = next;
    try {
      await this.#backend.saveSettings(next);
    } catch (error) {
      if (this.value === next) this.value = before;
      this.#notices.error(toUiError(error));
    }
  }
}
