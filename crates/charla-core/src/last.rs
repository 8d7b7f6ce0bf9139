//! Last activity (XEP-0012): asked of an offline contact's bare JID, their
//! server answers how many seconds ago they went offline ("last seen").

use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::stanza_error::{DefinedCondition, StanzaError};

use crate::error::{CoreError, ErrorCode};

/// The `jabber:iq:last` namespace.
const NS: &str = "jabber:iq:last";

/// The query for `jid`'s last activity.
pub(crate) fn request(id: String, jid: &BareJid) -> Iq {
    Iq::Get {
        from: None,
        to: Some(Jid::from(jid.clone())),
        id,
        payload: Element::builder("query", NS).build(),
    }
}

/// Seconds since the contact was last online, `None` when the server does
/// not know (or does not tell: not subscribed, not supported). Prosody
/// answers 0 when it has no record since it started, so 0 counts as not
/// known too: a contact who left less than a second ago is a rare case to
/// lose.
pub(crate) fn parse(
    result: Result<Option<Element>, StanzaError>,
) -> Result<Option<u64>, CoreError> {
    match result {
        Ok(Some(query)) if query.is("query", NS) => match query.attr("seconds") {
            Some(s) => s
                .parse::<u64>()
                .map(|secs| (secs > 0).then_some(secs))
                .map_err(|_| CoreError::new(ErrorCode::Protocol, "bad last activity seconds")),
            None => Err(CoreError::new(
                ErrorCode::Protocol,
                "last activity without seconds",
            )),
        },
        Ok(_) => Err(CoreError::new(
            ErrorCode::Protocol,
            "malformed last activity answer",
        )),
        Err(e) => match e.defined_condition {
            DefinedCondition::Forbidden
            | DefinedCondition::ServiceUnavailable
            | DefinedCondition::FeatureNotImplemented
            | DefinedCondition::ItemNotFound
            | DefinedCondition::NotAllowed
            | DefinedCondition::SubscriptionRequired => Ok(None),
            other => Err(CoreError::new(
                ErrorCode::Protocol,
                format!("last activity failed: {other:?}"),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(xml: &str) -> Option<Element> {
        Some(xml.parse().expect("xml"))
    }

    #[test]
    fn seconds_are_read_and_zero_means_unknown() {
        assert_eq!(
            parse(Ok(answer("<query xmlns='jabber:iq:last' seconds='903'/>"))),
            Ok(Some(903))
        );
        assert_eq!(
            parse(Ok(answer("<query xmlns='jabber:iq:last' seconds='0'/>"))),
            Ok(None)
        );
    }

    #[test]
    fn garbage_is_an_error_and_refusal_is_unknown() {
        assert!(parse(Ok(answer("<query xmlns='jabber:iq:last' seconds='-5'/>"))).is_err());
        assert!(parse(Ok(answer("<query xmlns='jabber:iq:version'/>"))).is_err());
        assert!(parse(Ok(None)).is_err());
        let forbidden = StanzaError::new(
            xmpp_parsers::stanza_error::ErrorType::Auth,
            DefinedCondition::Forbidden,
            "en",
            "",
        );
        assert_eq!(parse(Err(forbidden)), Ok(None));
    }

    #[test]
    fn the_request_goes_to_the_bare_jid() {
        let jid = BareJid::new("bob@x").expect("jid");
        let el: Element = request("q1".into(), &jid).into();
        assert_eq!(el.attr("to"), Some("bob@x"));
        assert_eq!(el.attr("type"), Some("get"));
        assert!(el.has_child("query", NS));
    }
}
