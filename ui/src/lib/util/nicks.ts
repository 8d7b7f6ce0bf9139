/**
 * Nicks in rooms, as the window shows them: the same rules as the core's `muc::display_nick`
 * (for lines, which carry the nick as sent) and the app's `rooms::mentions` (to highlight the
 * lines that mention us; the app decides what notifies).
 */

/** Characters that change how a nick reads without being seen (as `muc::hidden` in the core). */
const HIDDEN =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001F\u007F-\u009F\u00AD\u061C\u115F\u1160\u3164\uFFA0\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFE00-\uFE0F\uFEFF]|\uDB40[\uDC00-\uDC7F]/g;

/** The nick to show, without hidden characters, and whether it had any (it may pose as another). */
export function shownNick(nick: string): { text: string; disguised: boolean } {
  const text = nick.replace(HIDDEN, '');
  if (text.trim() === '') return { text: '\uFFFD', disguised: true };
  return { text, disguised: text !== nick };
}

/** Whether `body` mentions `nick`: the nick as a whole word, in any case, hidden characters aside. */
export function mentionsNick(body: string, nick: string): boolean {
  const wanted = nick.replace(HIDDEN, '').trim().toLowerCase();
  if (wanted === '') return false;
  const text = body.replace(HIDDEN, '').toLowerCase();
  const word = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}_]/u.test(c);
  for (let at = text.indexOf(wanted); at >= 0; at = text.indexOf(wanted, at + 1)) {
    const before = [...text.slice(0, at)].at(-1);
    const after = [...text.slice(at + wanted.length)][0];
    if (!word(before) && !word(after)) return true;
  }
  return false;
}

/**
 * `text` cut around each mention of `nick` (a whole word, in any case, with an `@` just before it
 * taken along), for showing mentions apart: styling (XEP-0393) then never crosses one. Text whose
 * lowercase has another length (a few letters change length) is left whole.
 */
export function splitMentions(text: string, nick: string): { text: string; mention: boolean }[] {
  const wanted = nick.replace(HIDDEN, '').trim().toLowerCase();
  const lower = text.toLowerCase();
  if (wanted === '' || lower.length !== text.length) return [{ text, mention: false }];
  const word = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}_]/u.test(c);
  const out: { text: string; mention: boolean }[] = [];
  let from = 0;
  for (let at = lower.indexOf(wanted); at >= 0; at = lower.indexOf(wanted, at + wanted.length)) {
    const before = [...text.slice(0, at)].at(-1);
    const after = [...text.slice(at + wanted.length)][0];
    if (word(before) || word(after)) continue;
    const start = before === '@' ? at - 1 : at;
    if (start < from) continue;
    if (start > from) out.push({ text: text.slice(from, start), mention: false });
    out.push({ text: text.slice(start, at + wanted.length), mention: true });
    from = at + wanted.length;
  }
  if (from < text.length || out.length === 0) out.push({ text: text.slice(from), mention: false });
  return out;
}
