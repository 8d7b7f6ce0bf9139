import { describe, expect, it } from 'vitest';
import type { Occupant } from '$lib/contract';
import { occupant, roomLine } from '$lib/testing/backend';
import { mentionsNick, shownNick, splitMentions } from './nicks';
import { addSystemLine, completeNick, groupOccupants, mentionAt, nickCandidates, parseRoomAddress, timeline } from './rooms';

describe('room addresses', () => {
  it('reads an address or an xmpp: join link', () => {
    expect(parseRoomAddress(' Family@Conference.example.org ')).toBe('family@conference.example.org');
    expect(parseRoomAddress('xmpp:family@conference.example.org?join')).toBe('family@conference.example.org');
    expect(parseRoomAddress('xmpp:caf%C3%A9@conference.example.org?join;password=x')).toBe('café@conference.example.org');
    expect(parseRoomAddress('xmpp:family@conference.example.org')).toBe('family@conference.example.org');
  });
  it('refuses anything else', () => {
    for (const bad of ['', 'family', '@conference.x', 'a@', 'a@b@c', 'a b@c', 'xmpp:a@b?message', 'xmpp:%E0%A4%A@b?join', 'a@b/nick']) {
      expect(parseRoomAddress(bad), bad).toBeNull();
    }
  });
});

describe('timeline', () => {
  it('folds a storm of joins into one line, and keeps system lines after the line they followed', () => {
    let system = addSystemLine([], 2, { kind: 'joined', nicks: ['a'] }, 1);
    for (let i = 0; i < 1000; i++) system = addSystemLine(system, 2, { kind: 'joined', nicks: [`n${i}`] }, i + 2);
    system = addSystemLine(system, 2, { kind: 'left', nicks: ['a'] }, 9999);
    expect(system).toHaveLength(2);
    expect((system[0]!.what as { nicks: string[] }).nicks).toHaveLength(1001);
    const rows = timeline([roomLine(1), roomLine(2), roomLine(3)], system);
    expect(rows.map((r) => r.key)).toEqual(['l1', 'l2', 's1', 's9999', 'l3']);
  });
});

describe('members', () => {
  const o = (nick: string, affiliation: Occupant['affiliation']): Occupant => occupant(nick, { affiliation });
  it('groups owners and admins, members, and the others, by name', () => {
    const groups = groupOccupants([o('zoe', 'member'), o('ann', 'owner'), o('bob', 'none'), o('cat', 'admin'), o('al', 'member')]);
    expect(groups.admins.map((x) => x.nick)).toEqual(['ann', 'cat']);
    expect(groups.members.map((x) => x.nick)).toEqual(['al', 'zoe']);
    expect(groups.others.map((x) => x.nick)).toEqual(['bob']);
  });
});

describe('@-completion', () => {
  it('finds the @word being typed and completes it', () => {
    expect(mentionAt('hi @bo', 6)).toEqual({ start: 3, prefix: 'bo' });
    expect(mentionAt('mail a@bo', 9)).toBeNull();
    expect(nickCandidates('b', ['Bob', 'carol', 'bea'])).toEqual(['bea', 'Bob']);
    expect(completeNick('@bo', 3, 'Bob')).toEqual({ text: 'Bob: ', cursor: 5 });
    expect(completeNick('hi @bo there', 6, 'Bob')).toEqual({ text: 'hi Bob  there', cursor: 7 });
    expect(completeNick('hi bo', 5, 'Bob')).toBeNull();
  });
});

describe('nicks', () => {
  it('shows a nick without hidden characters and flags it', () => {
    expect(shownNick('bob')).toEqual({ text: 'bob', disguised: false });
    expect(shownNick('b\u200Bob')).toEqual({ text: 'bob', disguised: true });
    expect(shownNick('\u202Eevil')).toEqual({ text: 'evil', disguised: true });
    expect(shownNick('\u200B')).toEqual({ text: '\uFFFD', disguised: true });
  });
  it('finds our nick as a whole word in any case', () => {
    expect(mentionsNick('Alice: dinner?', 'alice')).toBe(true);
    expect(mentionsNick('hi al\u200Bice', 'alice')).toBe(true);
    expect(mentionsNick('malice', 'alice')).toBe(false);
    expect(mentionsNick('alice_2', 'alice')).toBe(false);
    expect(mentionsNick('hola Álvaro', 'álvaro')).toBe(true);
  });
});

describe('splitMentions', () => {
  const show = (parts: { text: string; mention: boolean }[]) => parts.map((p) => (p.mention ? `[${p.text}]` : p.text)).join('');
  it('cuts around each whole-word mention, with its @', () => {
    expect(show(splitMentions('@Alice, *lunch* with alice?', 'alice'))).toBe('[@Alice], *lunch* with [alice]?');
    expect(show(splitMentions('malice and alice_2', 'alice'))).toBe('malice and alice_2');
    expect(splitMentions('no one here', 'alice')).toEqual([{ text: 'no one here', mention: false }]);
    expect(splitMentions('', 'alice')).toEqual([{ text: '', mention: false }]);
  });
});
