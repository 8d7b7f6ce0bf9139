//! Last user interaction in presence (XEP-0319), and auto-away: after some
//! minutes without input at the desktop, our presence turns to away, later
//! to extended away, and says since when we are idle.
//!
//! The core does not read the desktop's idle time itself (that is the
//! shell's job: X11, Wayland or D-Bus); it decides what that idle time
//! means for our presence and announces it.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use xmpp_parsers::date::DateTime;
use xmpp_parsers::idle::Idle;
use xmpp_parsers::presence::Presence;

use crate::presence::Show;

/// When to turn away and extended away on our own. `None` never does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AutoAway {
    /// Seconds of system idle after which an available presence becomes
    /// away, or `None`.
    pub away_after_secs: Option<u32>,
    /// Seconds of system idle after which it becomes extended away, or
    /// `None`.
    pub xa_after_secs: Option<u32>,
}

impl Default for AutoAway {
    /// Away after 5 minutes, extended away after 20, as most desktop
    /// messengers do.
    fn default() -> Self {
        AutoAway {
            away_after_secs: Some(5 * 60),
            xa_after_secs: Some(20 * 60),
        }
    }
}

impl AutoAway {
    /// The presence to show instead of `chosen` after `idle` without input,
    /// or `None` to show `chosen` as it is. Only ever lowers availability:
    /// do-not-disturb and offline are never changed, and an away chosen by
    /// hand only turns into extended away.
    pub fn decide(&self, chosen: Show, idle: Duration) -> Option<Show> {
        let past = |secs: Option<u32>| secs.is_some_and(|s| idle >= Duration::from_secs(s.into()));
        let auto = if past(self.xa_after_secs) {
            Show::Xa
        } else if past(self.away_after_secs) {
            Show::Away
        } else {
            return None;
        };
        match chosen {
            Show::Chat | Show::Available => Some(auto),
            Show::Away if auto == Show::Xa => Some(Show::Xa),
            Show::Away | Show::Xa | Show::Dnd | Show::Offline => None,
        }
    }
}

/// Our presence while the user is away from the desktop: the show to send
/// and since when (unix ms) there was no input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AutoPresence {
    /// The availability sent instead of the chosen one.
    pub show: Show,
    /// The last user interaction, unix milliseconds.
    pub since: i64,
}

/// Adds `<idle since='…'/>` to an own presence.
pub(crate) fn stamp(p: &mut Presence, since_ms: i64) {
    if let Some(since) = chrono::DateTime::from_timestamp_millis(since_ms) {
        p.add_payload(Idle {
            since: DateTime(since.fixed_offset()),
        });
    }
}

/// The last interaction a contact's presence announces (unix ms), if any.
/// A time in the future is nonsense and ignored.
pub(crate) fn parse(p: &Presence, now_ms: i64) -> Option<i64> {
    p.payloads
        .iter()
        .find(|el| el.is("idle", xmpp_parsers::ns::IDLE))
        .and_then(|el| Idle::try_from(el.clone()).ok())
        .map(|idle| idle.since.0.timestamp_millis())
        .filter(|&ms| ms <= now_ms + 60_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmpp_parsers::minidom::Element;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn available_turns_away_then_extended_away() {
        let auto = AutoAway {
            away_after_secs: Some(300),
            xa_after_secs: Some(1200),
        };
        assert_eq!(auto.decide(Show::Available, secs(299)), None);
        assert_eq!(auto.decide(Show::Available, secs(300)), Some(Show::Away));
        assert_eq!(auto.decide(Show::Chat, secs(1199)), Some(Show::Away));
        assert_eq!(auto.decide(Show::Available, secs(1200)), Some(Show::Xa));
    }

    #[test]
    fn never_raises_or_touches_do_not_disturb() {
        let auto = AutoAway::default();
        let long = secs(10_000);
        assert_eq!(auto.decide(Show::Dnd, long), None);
        assert_eq!(auto.decide(Show::Offline, long), None);
        assert_eq!(auto.decide(Show::Xa, long), None);
        assert_eq!(auto.decide(Show::Away, secs(400)), None);
        assert_eq!(auto.decide(Show::Away, long), Some(Show::Xa));
    }

    #[test]
    fn each_step_can_be_switched_off() {
        let only_xa = AutoAway {
            away_after_secs: None,
            xa_after_secs: Some(60),
        };
        assert_eq!(only_xa.decide(Show::Available, secs(59)), None);
        assert_eq!(only_xa.decide(Show::Available, secs(60)), Some(Show::Xa));
        let never = AutoAway {
            away_after_secs: None,
            xa_after_secs: None,
        };
        assert_eq!(never.decide(Show::Available, secs(1_000_000)), None);
    }

    #[test]
    fn idle_since_round_trips_and_future_stamps_are_ignored() {
        let mut p = Presence::available();
        stamp(&mut p, 1_700_000_000_000);
        let el = Element::from(p);
        let p = Presence::try_from(el).expect("presence");
        assert_eq!(parse(&p, 1_700_000_100_000), Some(1_700_000_000_000));
        assert_eq!(parse(&p, 1_600_000_000_000), None);
        let bad: Element = "<presence xmlns='jabber:client'><idle xmlns='urn:xmpp:idle:1' since='yesterday'/></presence>"
            .parse()
            .expect("xml");
        assert_eq!(parse(&Presence::try_from(bad).expect("presence"), 0), None);
    }
}
